// A participant whose network blocks UDP (offices, mobile data) still joins, sees and is
// seen — never a silent black screen. B's Chromium runs in a site namespace whose UDP is
// dropped both ways (lib/netns.mjs blockUdp); A is in the test's namespace.
//   1. The server's passive ICE-TCP candidate: both pages show each other's moving video,
//      and B's selected candidate pair runs over TCP.
//   2. ICE-TCP off, a TURN server (coturn, TLS) offered in the join result: B relays through
//      turns:, both pages show moving video, and B's selected pair is a relay one.
//   3. ICE-TCP off and no TURN: B's page says the connection failed (not a black tile).
// Inside tests/run-in-netns.sh only (scripts/test.sh runs it so).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';
import { makeSiteLink, privateNamespace } from './lib/netns.mjs';
import { watchPeerConnections } from './lib/stage-log.mjs';
import { startTurn } from './lib/turn.mjs';

const STEP = { timeout: 120000 };
const ROOM = 'e2e-udp-blocked';

/** The selected candidate pair of each open peer connection of p's page (getStats). */
const selectedPairs = (p) => p.page.evaluate(async () => {
  const out = [];
  for (const pc of window.__pcs || []) {
    if (pc.connectionState === 'closed') continue;
    const stats = [...(await pc.getStats()).values()];
    const byId = new Map(stats.map((s) => [s.id, s]));
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport && byId.get(transport.selectedCandidatePairId);
    const local = pair && byId.get(pair.localCandidateId);
    const remote = pair && byId.get(pair.remoteCandidateId);
    out.push({
      state: pc.connectionState,
      local: local && { type: local.candidateType, protocol: local.protocol, relayProtocol: local.relayProtocol },
      remote: remote && { type: remote.candidateType, protocol: remote.protocol, port: remote.port },
    });
  }
  return out;
});

/** A and B join; each page shows the other's video moving and plays its sound. Returns
 * B's selected candidate pairs (publish and subscribe). */
async function seeEachOther(server, link, a, b) {
  const { aId, bId } = await joinBoth(server, link, a, b);
  const seenByA = await waitForLiveTiles(a, [bId], { timeoutMs: 60000 });
  const seenByB = await waitForLiveTiles(b, [aId], { timeoutMs: 60000 });
  console.log(`A sees B: ${JSON.stringify(seenByA.seen[bId])}; B sees A: ${JSON.stringify(seenByB.seen[aId])}`);
  const pairs = await selectedPairs(b);
  console.log(`B's selected pairs: ${JSON.stringify(pairs)}`);
  assert.ok(pairs.length >= 2, 'B has its publish and subscribe connections');
  return pairs;
}

/** Joins A (test namespace) and B (the UDP-less site) and returns their tile ids of each other. */
async function joinBoth(server, link, a, b) {
  await a.join(link.pageUrl(server.httpPort), 'Lê Văn Tám', ROOM);
  await b.join(link.pageUrl(server.httpPort), 'Phạm Thị Hoa', ROOM);
  const bId = (await waitForTiles(a, [b.name], { timeoutMs: 40000 }))[0].id;
  const aId = (await waitForTiles(b, [a.name], { timeoutMs: 40000 }))[0].id;
  return { aId, bId };
}

/** extraArgs: more Chromium switches for both pages. */
async function launchPair(label, server, link, extraArgs = []) {
  const args = [...link.chromiumArgs(server.httpPort), ...extraArgs];
  const a = await launchChromium(`${label}-A`, args);
  const b = await launchChromium(`${label}-B`, args, { executablePath: link.chromiumPath });
  await watchPeerConnections(b);
  return [a, b];
}

describe('a participant whose network blocks UDP', { timeout: 600000 }, () => {
  before(() => assert.ok(privateNamespace(), 'run inside tests/run-in-netns.sh'));

  describe('over the server\'s passive ICE-TCP candidate', () => {
    let server, link, a, b;
    before(async () => {
      link = makeSiteLink('tcp');
      link.blockUdp();
      server = await startServer('udp-blocked-tcp', link.serverArgs());
      [a, b] = await launchPair('udp-blocked-tcp', server, link);
    }, STEP);
    after(async () => {
      try { await endAll(server, [a, b], 'udp-blocked-tcp'); } finally { await link?.remove(); }
    });

    it('sees and is seen, and its media runs over TCP', STEP, async () => {
      const pairs = await seeEachOther(server, link, a, b);
      for (const p of pairs) {
        assert.equal(p.state, 'connected');
        assert.equal(p.local?.protocol, 'tcp', 'B sends over TCP');
        assert.equal(p.remote?.protocol, 'tcp', 'to the server\'s TCP candidate');
      }
    });
  });

  describe('relayed by a TURN server over TLS (ICE-TCP off)', () => {
    let server, link, turn, a, b;
    before(async () => {
      link = makeSiteLink('turn');
      link.blockUdp();
      turn = await startTurn('udp-blocked', link.hostIp);
      server = await startServer('udp-blocked-turn', [...link.serverArgs(), '--ice-tcp', 'false',
        '--turn-urls', turn.urls.tls, '--turn-secret-file', turn.secretFile]);
      // the TURN server's certificate is a throwaway self-signed one: Chromium is told not to
      // check it (a real deployment has a certificate browsers trust, docs/DEPLOY.md)
      [a, b] = await launchPair('udp-blocked-turn', server, link, ['--ignore-certificate-errors']);
    }, STEP);
    after(async () => {
      try { await endAll(server, [a, b], 'udp-blocked-turn'); } finally { await turn?.stop(); await link?.remove(); }
    });

    it('sees and is seen through the relay', STEP, async () => {
      const pairs = await seeEachOther(server, link, a, b);
      for (const p of pairs) {
        assert.equal(p.state, 'connected');
        assert.equal(p.local?.type, 'relay', 'B\'s side of the pair is the TURN relay');
        assert.equal(p.local?.relayProtocol, 'tls', 'reached over TLS');
      }
    });
  });

  describe('with neither ICE-TCP nor TURN', () => {
    let server, link, a, b;
    before(async () => {
      link = makeSiteLink('none');
      link.blockUdp();
      server = await startServer('udp-blocked-none', [...link.serverArgs(), '--ice-tcp', 'false']);
      [a, b] = await launchPair('udp-blocked-none', server, link);
    }, STEP);
    after(async () => {
      try { await endAll(server, [a, b], 'udp-blocked-none'); } finally { await link?.remove(); }
    });

    it('says on B\'s page that media failed, not a silent black tile', STEP, async () => {
      await joinBoth(server, link, a, b);
      const r = await waitUntil('B\'s page to say media failed', async () => {
        const s = await b.page.evaluate(() => {
          const chip = document.querySelector('#media-status');
          const help = document.querySelector('#media-help');
          return {
            health: window.diemcau.mediaHealth,
            chip: chip && !chip.hidden ? chip.textContent : null,
            help: help && !help.hidden ? document.querySelector('#media-help-text').textContent : null,
          };
        });
        return { ok: s.health.state === 'failed' && !!s.chip && !!s.help, detail: JSON.stringify(s), s };
      }, { timeoutMs: 100000, intervalMs: 500 });
      console.log(`B's page: ${JSON.stringify(r.s)}`);
      assert.match(r.s.chip, /Không kết nối được hình ảnh/);
      assert.match(r.s.help, /UDP/);
    });
  });
});

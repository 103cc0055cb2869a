// The server's bandwidth estimate per subscriber (transport-wide congestion control): a
// Chromium publisher in the test's namespace, a Chromium subscriber in a site namespace
// whose downlink is limited to 300 kbit/s for a while, and a second subscriber on a clean
// link. The estimate is read where technicians read it, the admin API
// (GET /admin/rooms/<room>/transports.json): the limited subscriber's falls below
// 450 kbit/s within a few seconds of the limit and climbs above 800 kbit/s within ~10 s of
// its end, while the clean subscriber's stays high; after the limit the limited
// subscriber's video moves again.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';
import { makeSiteLink, privateNamespace } from './lib/netns.mjs';

const ROOM = 'e2e-bandwidth';
const ADMIN = 'admin-credential-bwe-5c2e91';
const STEP = { timeout: 90000 };
const CLEAN_FLOOR = 600000; // twice the limited link

// The publisher sends a steady ~1.2 Mbit/s from the start (Chromium reads these from the
// remote description) instead of ramping up from 300 kbit/s on REMB alone, which takes
// tens of seconds on a busy machine: the subject here is the estimate toward subscribers,
// which can only vouch for rates that are actually sent.
function steadyPublisher() {
  const set = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (desc) {
    if (desc?.type === 'answer' && desc.sdp) {
      const rate = 'x-google-min-bitrate=1000;x-google-start-bitrate=1200;x-google-max-bitrate=1500';
      const pts = [...desc.sdp.matchAll(/a=rtpmap:(\d+) VP8\/90000/g)].map((m) => m[1]);
      let sdp = desc.sdp;
      for (const pt of pts) {
        const fmtp = new RegExp(`a=fmtp:${pt} ([^\r\n]*)`);
        sdp = fmtp.test(sdp)
          ? sdp.replace(fmtp, `a=fmtp:${pt} $1;${rate}`)
          : sdp.replace(`a=rtpmap:${pt} VP8/90000\r\n`, `a=rtpmap:${pt} VP8/90000\r\na=fmtp:${pt} ${rate}\r\n`);
      }
      desc = { type: desc.type, sdp };
    }
    return set.call(this, desc);
  };
}
// ASan builds are slower to start and to ramp; the conditions stay the same
const SLOW = process.env.DIEMCAU_E2E_TAG?.includes('asan') ? 2 : 1;

describe('bandwidth estimate per subscriber', { timeout: 300000, skip: !privateNamespace() && 'needs tests/run-in-netns.sh' }, () => {
  let server, link, pub, narrow, clean;
  let pubId;
  const cleanSamples = []; // the clean subscriber's estimates while the other one is limited

  before(async () => {
    link = makeSiteLink('bwe');
    const args = link.serverArgs();
    const config = args[args.indexOf('--config') + 1];
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), admin_token: ADMIN }));
    // One encoding: the steady publisher's 1–1.5 Mbit/s is then one stream, and an estimate
    // (at most 1.5 × what gets through) can climb above 800 kbit/s. In simulcast its top
    // layer carries ~0.4 Mbit/s; how the estimate picks layers is bandwidth-layers.test.mjs.
    server = await startServer('bandwidth', [...args, '--simulcast', 'false']);
    [pub, narrow, clean] = await Promise.all([
      launchChromium('bwe-pub'),
      launchChromium('bwe-narrow', link.chromiumArgs(server.httpPort), { executablePath: link.chromiumPath }),
      launchChromium('bwe-clean'),
    ]);
  }, STEP);

  after(async () => {
    try {
      await endAll(server, [pub, narrow, clean].filter(Boolean), 'bandwidth');
    } finally {
      await link?.remove();
    }
  });

  async function participants() {
    const r = await fetch(`http://127.0.0.1:${server.httpPort}/admin/rooms/${ROOM}/transports.json`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(r.status, 200, `admin figures: ${r.status}`);
    const body = await r.json();
    return Object.fromEntries(body.participants.map((p) => [p.name, p]));
  }

  async function figures() {
    const by = await participants();
    return Object.fromEntries(Object.entries(by).map(([name, p]) => [name, p.subscribe]));
  }

  const kbit = (s) => (s ? `${Math.round(s.estimate_bps / 1000)} kbit/s (acked ${Math.round(s.acked_bps / 1000)}, loss ${s.loss_percent} %)` : 'none');

  it('the publisher is seen by both subscribers, and both have an estimate', STEP, async () => {
    await pub.page.addInitScript(steadyPublisher);
    await pub.join(server.url, 'Người phát', ROOM);
    await narrow.join(link.pageUrl(server.httpPort), 'Xã xa', ROOM, { role: 'observer' });
    await clean.join(server.url, 'Huyện gần', ROOM, { role: 'observer' });
    await waitForSending(pub);
    const [tile] = await waitForTiles(narrow, ['Người phát']);
    pubId = tile.id;
    await waitForLiveTiles(narrow, [pubId], { timeoutMs: 40000 * SLOW });
    await waitForLiveTiles(clean, [pubId], { timeoutMs: 40000 * SLOW });
    // the publisher's encoder ramps up; both subscribers' estimates follow what gets through
    const r = await waitUntil('both subscribers to receive 400 kbit/s and have an estimate above 800 kbit/s', async () => {
      const f = await figures();
      const ok = ['Xã xa', 'Huyện gần'].every((n) => f[n]?.estimate_bps > 800000 && f[n]?.acked_bps > 400000);
      return { ok, detail: `narrow ${kbit(f['Xã xa'])}, clean ${kbit(f['Huyện gần'])}`, f };
    }, { timeoutMs: 40000 * SLOW });
    console.log(`before the limit: narrow ${kbit(r.f['Xã xa'])}, clean ${kbit(r.f['Huyện gần'])}`);
    assert.equal(r.f['Người phát'], null, 'the publisher subscribes to nobody: no estimate');
  });

  it('limited to 300 kbit/s, the subscriber\'s estimate falls below 450 kbit/s within seconds', STEP, async () => {
    const t0 = Date.now();
    link.limitDownlink(300);
    const r = await waitUntil('the limited subscriber\'s estimate to fall below 450 kbit/s', async () => {
      const f = await figures();
      cleanSamples.push(f['Huyện gần']?.estimate_bps ?? 0);
      return { ok: f['Xã xa']?.estimate_bps < 450000, detail: `narrow ${kbit(f['Xã xa'])}, clean ${kbit(f['Huyện gần'])}`, f };
    }, { timeoutMs: 8000 * SLOW, intervalMs: 250 });
    console.log(`limited: below 450 kbit/s after ${((Date.now() - t0) / 1000).toFixed(1)} s: narrow ${kbit(r.f['Xã xa'])}`);
    // it stays down while the limit lasts (a few more seconds)
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      const f = await figures();
      cleanSamples.push(f['Huyện gần']?.estimate_bps ?? 0);
      assert.ok(f['Xã xa'].estimate_bps < 500000, `still limited, yet narrow ${kbit(f['Xã xa'])}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  });

  it('the limit ends: the estimate climbs above 800 kbit/s within ~10 s and the video moves', STEP, async () => {
    const t0 = Date.now();
    link.clear();
    const r = await waitUntil('the estimate to climb above 800 kbit/s', async () => {
      const f = await figures();
      cleanSamples.push(f['Huyện gần']?.estimate_bps ?? 0);
      return { ok: f['Xã xa']?.estimate_bps > 800000, detail: `narrow ${kbit(f['Xã xa'])}`, f };
    }, { timeoutMs: 12000 * SLOW, intervalMs: 250 });
    console.log(`cleared: above 800 kbit/s after ${((Date.now() - t0) / 1000).toFixed(1)} s: narrow ${kbit(r.f['Xã xa'])}`);
    await waitForLiveTiles(narrow, [pubId], { timeoutMs: 30000 * SLOW });
  });

  it('the clean subscriber kept a high estimate throughout', async () => {
    const low = Math.min(...cleanSamples);
    console.log(`clean subscriber: ${cleanSamples.length} samples, lowest ${Math.round(low / 1000)} kbit/s`);
    assert.ok(cleanSamples.length >= 10, 'sampled while the other was limited');
    // It can vouch for ~1.5 × what the publisher sends (0.6–0.8 Mbit/s here), and a busy
    // machine's jitter may trim it by 15 % now and then; what matters is that it is not
    // dragged down with the limited one (below 450 kbit/s within seconds).
    assert.ok(low > CLEAN_FLOOR, `the clean subscriber's estimate fell to ${Math.round(low / 1000)} kbit/s`);
  });

  it('technicians read each participant\'s link: rates, repairs, round trip, loss', async () => {
    // the link reports come every 2 s: wait for one that covers the whole limited period
    const r = await waitUntil('link figures for the three participants', async () => {
      const by = await participants();
      const ok = ['Người phát', 'Xã xa', 'Huyện gần'].every((n) => by[n]?.publish_link || by[n]?.subscribe_link);
      return { ok, detail: JSON.stringify(by), by };
    }, { timeoutMs: 10000 * SLOW });
    const pubLink = r.by['Người phát'].publish_link, narrowLink = r.by['Xã xa'].subscribe_link;
    const cleanLink = r.by['Huyện gần'].subscribe_link;
    console.log(`publisher in: ${JSON.stringify(pubLink)}`);
    console.log(`narrow out: ${JSON.stringify(narrowLink)}`);
    console.log(`clean out: ${JSON.stringify(cleanLink)}`);
    assert.ok(pubLink.in_bps > 200000 && pubLink.packets_in > 500, 'the publisher\'s media arrives');
    assert.equal(r.by['Người phát'].subscribe_link?.out_bps ?? 0, 0, 'nothing is forwarded to the publisher');
    for (const l of [narrowLink, cleanLink]) {
      assert.ok(l.out_bps > 200000 && l.packets_out > 500, 'media is forwarded to each subscriber');
      assert.ok(l.rtt_ms !== null && l.rtt_ms >= 0 && l.rtt_ms < 1000, `a round trip is measured: ${l.rtt_ms}`);
    }
    // the 300 kbit/s limit dropped packets: the narrow one asked for them and got RTX
    assert.ok(narrowLink.nacks_received > 0 && narrowLink.rtx_sent > 0, 'the limited subscriber\'s losses were repaired');
    assert.ok(narrowLink.nacks_received > cleanLink.nacks_received, 'the limited subscriber NACKed more than the clean one');
  });
});

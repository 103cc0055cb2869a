// A viewer behind a lossy link (issue 12): one Chromium publisher in the test's namespace,
// one Chromium viewer in a site namespace (lib/netns.mjs) whose incoming UDP loses a random
// share. What the viewer perceives is measured on its page — frames its tile's <video>
// presents each second (probeTiles), its audio element's loudness each second — beside
// getStats (freezes, NACKs, concealed audio samples).
//
// The same link at 5 % loss is measured against a server with repair off (--nack false)
// and one with it on; the test fails unless repair clearly helps (fewer freezes, more
// frames) and the repaired picture meets the target. Then 10 % loss with repair: the
// sound keeps playing and the picture stays at ≥ 10 frames/s.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, endAll } from './lib/participants.mjs';
import { waitForLiveTiles, probeTiles } from './lib/live.mjs';
import { makeSiteLink } from './lib/netns.mjs';

const ROOM = 'e2e-loss';
const SECONDS = 10; // measured per condition
const PUBLISHER = 'Trụ sở huyện';
const VIEWER = 'Xã Tân Phú';

/** The viewer's inbound getStats entries for the publisher: {video, audio}. */
async function inbound(p, id) {
  const s = await p.stats();
  const of = (kind) => s.inbound.find((e) => e.participantId === id && e.kind === kind && e.active);
  return { video: of('video'), audio: of('audio') };
}

/** SECONDS one-second probes of the publisher's tile, with getStats before and after. */
async function measure(p, id) {
  const before = await inbound(p, id);
  const frames = [];
  const peaks = [];
  for (let i = 0; i < SECONDS; i++) {
    const r = (await probeTiles(p, [id], 1000))[id];
    frames.push(r.video?.frames ?? 0);
    peaks.push(Math.max(0, ...(r.audio || []).map((a) => a.peak)));
  }
  const after = await inbound(p, id);
  const d = (kind, k) => (after[kind]?.[k] ?? 0) - (before[kind]?.[k] ?? 0);
  const samples = d('audio', 'totalSamplesReceived');
  return {
    fps: frames.reduce((a, b) => a + b, 0) / SECONDS,
    frames,
    peaks,
    freezes: d('video', 'freezeCount'),
    freezeSeconds: Math.round(d('video', 'totalFreezesDuration') * 100) / 100,
    nacks: d('video', 'nackCount'),
    retransmitted: d('video', 'retransmittedPacketsReceived'),
    lost: d('video', 'packetsLost'),
    concealed: samples > 0 ? Math.round((d('audio', 'concealedSamples') / samples) * 1000) / 1000 : null,
  };
}

describe('loss: a viewer behind a lossy link', { timeout: 300000 }, () => {
  let link;
  const m = {}; // condition → measurement

  before(() => { link = makeSiteLink('loss'); });
  after(async () => { await link?.remove(); });

  // One server (repair on or off), the publisher and the viewer; for each loss share,
  // the link is set and the viewer measured.
  async function session(nack, losses) {
    const server = await startServer(`loss-nack-${nack}`, [...link.serverArgs(), '--nack', String(nack)]);
    const people = [];
    try {
      const [pub, sub] = await Promise.all([
        launchChromium(`loss-pub-${nack}`),
        launchChromium(`loss-sub-${nack}`, link.chromiumArgs(server.httpPort), { executablePath: link.chromiumPath }),
      ]);
      people.push(pub, sub);
      link.clear();
      await pub.join(server.url, PUBLISHER, ROOM);
      await waitForSending(pub);
      await sub.join(link.pageUrl(server.httpPort), VIEWER, ROOM);
      const [tile] = await waitForTiles(sub, [PUBLISHER]);
      await waitForLiveTiles(sub, [tile.id], { timeoutMs: 60000 });
      for (const loss of losses) {
        link.clear();
        if (loss) link.dropIncoming(loss);
        const key = `${nack ? 'on' : 'off'}@${Math.round(loss * 100)}%`;
        m[key] = await measure(sub, tile.id);
        console.log(`${key}: ${JSON.stringify(m[key])}`);
      }
    } finally {
      link.clear();
      await endAll(server, people, `loss-${nack}`);
    }
  }

  it('at 5 % loss without repair the picture freezes', { timeout: 120000 }, async () => {
    await session(false, [0.05]);
  });

  it('with repair: 5 % loss keeps the picture smooth, 10 % keeps sound and ≥ 10 fps', { timeout: 150000 }, async () => {
    await session(true, [0, 0.05, 0.1]);
    const clean = m['on@0%'];
    const off = m['off@5%'];
    const on = m['on@5%'];
    const ten = m['on@10%'];
    // repair asked for and got retransmissions
    assert.ok(on.nacks > 0 && on.retransmitted > 0, `NACKs answered at 5 %: ${JSON.stringify(on)}`);
    // the target: ≥ 15 frames/s (or, where this machine's fake camera gives less even on a
    // clean link, 80 % of that), no second without a frame, no freeze longer than a second
    const target = Math.min(15, 0.8 * clean.fps);
    assert.ok(on.fps >= target, `5 % with repair: ${on.fps} fps < ${target} (clean ${clean.fps})`);
    assert.ok(Math.min(...on.frames) > 0, `5 % with repair: a second without a frame: ${on.frames}`);
    assert.ok(on.freezeSeconds <= Math.max(1, on.freezes), `5 % with repair: freezes ${on.freezes}, ${on.freezeSeconds} s`);
    // and it is repair that made the difference
    assert.ok(off.freezeSeconds > 2 * on.freezeSeconds + 0.5 && off.fps < on.fps,
      `repair does not help: off ${JSON.stringify(off)}, on ${JSON.stringify(on)}`);
    // 10 %: sound every second, video ≥ 10 fps
    assert.ok(ten.peaks.every((p) => p > 0.01), `10 %: a second without sound: ${ten.peaks}`);
    assert.ok(ten.concealed !== null && ten.concealed < 0.2, `10 %: concealed audio ${ten.concealed}`);
    assert.ok(ten.fps >= 10, `10 % with repair: ${ten.fps} fps`);
  });
});

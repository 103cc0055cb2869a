// A commune publishing through a thin uplink. A Chromium publisher sits in a site namespace
// whose uplink (the site's side of the veth) is limited to 400 kbit/s with tc tbf after it
// has ramped up on the clean link; a Chromium subscriber on a clean link watches it. With
// transport-cc feedback from the server the publisher's own estimate sees the queue and the
// losses: its outbound bitrate (getStats bytesSent, audio and video) falls under the limit
// within seconds, and the subscriber's <video> keeps presenting frames (no gap between two
// presented frames over 2 s). With the old fixed 1.5 Mbit/s REMB the publisher kept
// flooding its link (see bench/RESULTS.md, 2026-12-07, for the before/after figures).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, waitUntil, endAll, sleep } from './lib/participants.mjs';
import { waitForLiveTiles, probeTiles } from './lib/live.mjs';
import { makeSiteLink, privateNamespace } from './lib/netns.mjs';

const ROOM = 'e2e-publisher-uplink';
const STEP = { timeout: 120000 };
const LIMIT_KBIT = 400;
// ASan builds are slower to start and to ramp; the conditions stay the same
const SLOW = process.env.DIEMCAU_E2E_TAG?.includes('asan') ? 2 : 1;

/** What p sends (all outbound RTP, headers included as getStats counts them), kbit/s over ~1 s. */
async function outboundKbit(p) {
  const total = (s) => s.outbound.reduce((sum, o) => sum + o.bytesSent, 0);
  const a = await p.stats();
  const t0 = Date.now();
  await sleep(1000);
  const b = await p.stats();
  return Math.round(((total(b) - total(a)) * 8) / (Date.now() - t0));
}

/** Starts recording, on p's page, when the tile of `id` presents each frame. */
const startPresentWatch = (p, id) => p.page.evaluate((pid) => {
  const video = document.querySelector(`.tile[data-participant-id="${CSS.escape(pid)}"] video`);
  const w = { times: [], stop: false };
  window.__present = w;
  const tick = (now) => { w.times.push(now); if (!w.stop) video.requestVideoFrameCallback(tick); };
  video.requestVideoFrameCallback(tick);
  w.start = performance.now();
}, id);

/** Frames presented since startPresentWatch and the longest time without one (ms). */
const stopPresentWatch = (p) => p.page.evaluate(() => {
  const w = window.__present;
  w.stop = true;
  const end = performance.now();
  let gap = 0;
  let prev = w.start;
  for (const t of [...w.times, end]) { gap = Math.max(gap, t - prev); prev = t; }
  return { frames: w.times.length, longestGapMs: Math.round(gap), spanMs: Math.round(end - w.start) };
});

describe('a publisher on a thin uplink', { timeout: 360000, skip: !privateNamespace() && 'needs tests/run-in-netns.sh' }, () => {
  let server, link, pub, sub, pubId;

  before(async () => {
    link = makeSiteLink('uplink');
    server = await startServer('publisher-uplink', link.serverArgs());
    [pub, sub] = await Promise.all([
      launchChromium('uplink-pub', link.chromiumArgs(server.httpPort), { executablePath: link.chromiumPath }),
      launchChromium('uplink-sub'),
    ]);
  }, STEP);

  after(async () => {
    try {
      await endAll(server, [pub, sub].filter(Boolean), 'publisher-uplink');
    } finally {
      await link?.remove();
    }
  });

  it('on the clean link the publisher ramps well above the coming limit and is seen', STEP, async () => {
    await pub.join(link.pageUrl(server.httpPort), 'UBND xã Tân Phú', ROOM);
    await sub.join(server.url, 'UBND tỉnh', ROOM);
    await waitForSending(pub);
    [{ id: pubId }] = await waitForTiles(sub, [pub.name]);
    await waitForLiveTiles(sub, [pubId]);
    // the subject needs a publisher that would overfill the link: wait until it does
    const r = await waitUntil('the publisher to send over twice the coming limit', async () => {
      const kbit = await outboundKbit(pub);
      return { ok: kbit > 2 * LIMIT_KBIT, detail: `${kbit} kbit/s`, kbit };
    }, { timeoutMs: 40000 * SLOW, intervalMs: 0 });
    console.log(`clean uplink: the publisher sends ${r.kbit} kbit/s`);
  });

  it(`limited to ${LIMIT_KBIT} kbit/s, it falls under the limit within seconds and stays seen`, STEP, async () => {
    await startPresentWatch(sub, pubId);
    const t0 = Date.now();
    link.limitUplink(LIMIT_KBIT);
    const rates = [];
    const under = await waitUntil(`the publisher's outbound rate under ${LIMIT_KBIT} kbit/s`, async () => {
      const kbit = await outboundKbit(pub);
      rates.push(kbit);
      return { ok: kbit < LIMIT_KBIT, detail: JSON.stringify(rates) };
    }, { timeoutMs: 15000 * SLOW, intervalMs: 0 });
    const afterMs = Date.now() - t0;
    console.log(`under the limit after ${afterMs} ms; rates each second: ${JSON.stringify(rates)}`);
    // it stays there (averaged over 8 s: a probe now and then may overshoot one second)
    const later = [];
    for (let i = 0; i < 8; i++) later.push(await outboundKbit(pub));
    const mean = later.reduce((a, b) => a + b, 0) / later.length;
    const watch = await stopPresentWatch(sub);
    console.log(`then, each second: ${JSON.stringify(later)} (mean ${Math.round(mean)}); subscriber: ${JSON.stringify(watch)}`);
    assert.ok(afterMs <= 15000 * SLOW, `under the limit within seconds: ${afterMs} ms`);
    assert.ok(mean < LIMIT_KBIT, `the publisher stays under the limit: ${JSON.stringify(later)}`);
    assert.ok(watch.frames >= watch.spanMs / 1000 * 3, `the subscriber kept presenting frames: ${JSON.stringify(watch)}`);
    assert.ok(watch.longestGapMs < 2000, `no freeze over 2 s at the subscriber: ${JSON.stringify(watch)}`);
    const seen = await probeTiles(sub, [pubId]);
    console.log(`subscriber now: ${JSON.stringify(seen[pubId].video)}`);
    assert.ok(seen[pubId].video.frames >= 2, `still moving: ${JSON.stringify(seen)}`);
  });
});

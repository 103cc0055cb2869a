// Layers nobody watches are paused at the publisher. A Chromium publisher sends its (fake
// 1280×720) camera in three simulcast layers (--simulcast true). Its only subscriber asks
// for "high": the top and the lowest layers are sent, the middle one, nobody's, stands
// still. It asks for "low": within a few seconds the publisher's getStats shows the upper
// layers' bytesSent standing still (the server's `layers` message set their encodings
// inactive) while the low layer goes on. It asks for "high" again: the top layer is sent
// again and the subscriber's <video> reaches the full size, presenting frames.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, waitUntil, endAll, sleep } from './lib/participants.mjs';
import { waitForLiveTiles, probeTiles } from './lib/live.mjs';

const ROOM = 'e2e-layer-pause';
const STEP = { timeout: 180000 };
const SLOW = process.env.DIEMCAU_E2E_TAG?.includes('asan') ? 2 : 1;

/** Octets each simulcast layer of p's camera sent over ~1.5 s, by rid, and `active` as getStats says. */
async function layerGrowth(p) {
  const layers = async () => (await p.stats()).outbound.find((o) => o.kind === 'video' && o.layers.length)?.layers || [];
  const a = await layers();
  await sleep(1500);
  const b = await layers();
  const out = {};
  for (const l of b) out[l.rid] = { grew: l.bytesSent - (a.find((x) => x.rid === l.rid)?.bytesSent ?? 0), active: l.active, width: l.width };
  return out;
}

/** The subscriber's tile of id: its slot mid and the decoded width. */
const tileOf = (p, id) => p.page.evaluate((pid) => {
  const t = document.querySelector(`.tile[data-participant-id="${CSS.escape(pid)}"]`);
  return t && { mid: t.dataset.mid, width: t.querySelector('video')?.videoWidth ?? 0 };
}, id);

describe('unwatched simulcast layers are paused at the publisher', { timeout: 300000 }, () => {
  let server, pub, sub, pubId, camWidth;

  before(async () => {
    server = await startServer('layer-pause', ['--ice-tcp', 'false', '--simulcast', 'true']);
    [pub, sub] = await Promise.all([
      launchChromium('pause-pub', ['--use-fake-device-for-media-stream=fps=15']),
      launchChromium('pause-sub'),
    ]);
  }, STEP);

  after(() => endAll(server, [pub, sub].filter(Boolean), 'layer-pause'));

  it('the publisher offers three layers; asked for high, it sends the top and the lowest only', STEP, async () => {
    await pub.join(server.url, 'UBND huyện', ROOM);
    await sub.join(server.url, 'UBND xã Mường Lát', ROOM);
    await waitForSending(pub);
    const enc = await pub.page.evaluate(() => window.diemcau.publishEncodings());
    assert.deepEqual(enc?.layers.map((l) => l.rid), ['q', 'h', 'f'], JSON.stringify(enc));
    camWidth = enc.width;
    [{ id: pubId }] = await waitForTiles(sub, [pub.name]);
    await waitForLiveTiles(sub, [pubId]);
    // the page asks for its tile's size; the test asks for high: the middle layer is then
    // nobody's, paused like any unwatched one, the lowest never is
    const { mid } = await tileOf(sub, pubId);
    await sub.request('set_quality', { qualities: { [mid]: 'high' } });
    const r = await waitUntil('f and q to be sent, h to stand still', async () => {
      const g = await layerGrowth(pub);
      return { ok: g.f?.grew > 0 && g.q?.grew > 0 && g.h?.grew === 0, detail: JSON.stringify(g) };
    }, { timeoutMs: 30000 * SLOW, intervalMs: 0 });
    console.log(`asked for high: ${r.detail}`);
  });

  it('asked for low only, the upper layers stop within seconds; the low one goes on', STEP, async () => {
    const { mid } = await tileOf(sub, pubId);
    const t0 = Date.now();
    await sub.request('set_quality', { qualities: { [mid]: 'low' } });
    // the server waits 2 s before pausing; the page then sets the encodings inactive
    const r = await waitUntil('the h and f layers to stand still', async () => {
      const g = await layerGrowth(pub);
      return { ok: g.h?.grew === 0 && g.f?.grew === 0 && g.q?.grew > 0, detail: JSON.stringify(g), g };
    }, { timeoutMs: 12000 * SLOW, intervalMs: 0 });
    console.log(`paused after ${Date.now() - t0} ms: ${JSON.stringify(r.g)}`);
    if (r.g.f.active !== null) assert.equal(r.g.f.active, false, `getStats says f is inactive: ${JSON.stringify(r.g)}`);
    const seen = await probeTiles(sub, [pubId]);
    assert.ok(seen[pubId].video.frames >= 2, `the subscriber still sees the low layer: ${JSON.stringify(seen)}`);
  });

  it('asked for high, the top layer resumes and the subscriber reaches the full size', STEP, async () => {
    const { mid } = await tileOf(sub, pubId);
    const t0 = Date.now();
    await sub.request('set_quality', { qualities: { [mid]: 'high' } });
    await waitUntil('the f layer to be sent again', async () => {
      const g = await layerGrowth(pub);
      return { ok: g.f?.grew > 0, detail: JSON.stringify(g) };
    }, { timeoutMs: 10000 * SLOW, intervalMs: 0 });
    const resumedMs = Date.now() - t0;
    const r = await waitUntil('the subscriber to decode the full size', async () => {
      const t = await tileOf(sub, pubId);
      return { ok: t.width > 0.7 * camWidth, detail: JSON.stringify(t), t };
    }, { timeoutMs: 30000 * SLOW, intervalMs: 200 });
    console.log(`resumed after ${resumedMs} ms, full size (${r.t.width} of ${camWidth}) after ${Date.now() - t0} ms`);
    const seen = await probeTiles(sub, [pubId]);
    assert.ok(seen[pubId].video.frames >= 2 && seen[pubId].video.width > 0.7 * camWidth, `full size, moving: ${JSON.stringify(seen)}`);
  });
});

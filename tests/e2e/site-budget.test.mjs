// A budget per site (issue 12 §5), as a commune sees it. The chair of a meeting sits at the
// site "UBND xã Tân Lập" (its join token's site); four delegates publish simulcast cameras
// from Chromium: one holds the floor, three fill the chair's gallery. A technician sets the
// site's downstream budget to 250 kbit/s (PUT /admin/sites/<site>/budget): the chair keeps
// clean sound from the floor (getStats concealedSamples stays a small share) and the floor
// holder's picture on its low layer (frames keep coming), while the gallery tiles pause (all
// but at most one whose lowest layer still fits: the order is strict) and
// say why. The technicians' figures (transports.json) show each slot's layer and reason.
// A page that resumes a dropped connection is told again why. Once the budget is cleared
// (DELETE) the gallery moves again. The room is a commune of the
// room tree (xa-a1), so a budget for the whole commune tier (PUT /admin/tiers/commune/budget)
// reaches the site too, and pauses the gallery the same way until it is cleared.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles, probeTiles } from './lib/live.mjs';
import { devToken } from './lib/tokens.mjs';

const ROOM = 'xa-a1'; // a commune of the built-in room tree
const SITE = 'UBND xã Tân Lập';
const ADMIN = 'admin-credential-site-budget-8f13';
const STEP = { timeout: 150000 };
const SLOW = process.env.DIEMCAU_E2E_TAG?.includes('asan') ? 2 : 1;
const GALLERY = ['Xã Tân Phú', 'Xã Yên Sơn', 'Xã Mường Lý'];
const LAYER_OF = { low: 0, medium: 1, high: 2 };
const FLOOR = 'Xã Quang Chiểu';

/** Sums the subscribe connection's inbound audio: samples received and concealed. */
const audioCounts = (p) => p.page.evaluate(async () => {
  let received = 0;
  let concealed = 0;
  for (const pc of window.__pcs || []) {
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        received += s.totalSamplesReceived || 0;
        concealed += s.concealedSamples || 0;
      }
    });
  }
  return { received, concealed };
});

/** The chair's tiles: use, layout note and decoded width by participant id. */
const tiles = (p) => p.page.evaluate(() => Object.fromEntries([...document.querySelectorAll('.tile[data-participant-id]')]
  .map((t) => [t.dataset.participantId, { use: t.dataset.use, limit: t.dataset.limit, reason: t.dataset.limitReason,
    note: t.querySelector('.tile-limit')?.textContent || '', width: t.querySelector('video').videoWidth }])));

describe('a site budget: audio and the floor first, the gallery paused and told why; a tier budget too', { timeout: 480000 }, () => {
  let server, chair, holder;
  const gallery = [];
  const id = {};
  let width;

  const admin = (method, body, path = `sites/${encodeURIComponent(SITE)}`) => fetch(`http://127.0.0.1:${server.httpPort}/admin/${path}/budget`, {
    method, headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  // Strict order: the floor's lowest layer first, then gallery tiles while their lowest
  // layers fit; with Chromium's layer rates at most one of three does (a busy host's
  // encoders send less), the others pause.
  const waitGalleryPaused = () => waitUntil('the gallery to pause and the floor to be on its low layer', async () => {
    const t = await tiles(chair);
    const paused = GALLERY.filter((n) => t[id[n]]?.limit === 'paused' && t[id[n]]?.reason === 'budget');
    const floorLow = t[id[FLOOR]]?.width > 0 && t[id[FLOOR]].width <= 0.3 * width;
    const ok = paused.length >= GALLERY.length - 1 && floorLow;
    const f = ok ? null : await figures();
    return { ok, detail: `${JSON.stringify(t)}; figures ${JSON.stringify(f)}`, t, paused };
  }, { timeoutMs: 15000 * SLOW, intervalMs: 250 });
  const waitGalleryMoves = async () => {
    await waitUntil('the gallery notes to go', async () => {
      const t = await tiles(chair);
      const ok = GALLERY.every((n) => !t[id[n]]?.limit);
      return { ok, detail: `${JSON.stringify(t)}; figures ${ok ? '' : JSON.stringify(await figures())}` };
    }, { timeoutMs: 15000 * SLOW, intervalMs: 250 });
    await waitForLiveTiles(chair, GALLERY.map((n) => id[n]), { timeoutMs: 20000 * SLOW, audio: false });
  };
  const figures = async () => {
    const r = await fetch(`http://127.0.0.1:${server.httpPort}/admin/rooms/${ROOM}/transports.json`, {
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
    assert.equal(r.status, 200);
    return (await r.json()).participants.find((x) => x.site === SITE);
  };

  before(async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const config = join(mkdtempSync(join(tmpdir(), 'diemcau-site-budget-')), 'server.json');
    writeFileSync(config, JSON.stringify({ admin_token: ADMIN }));
    server = await startServer('site-budget', ['--config', config, '--simulcast', 'true', '--ice-tcp', 'false']);
    // 15 fps cameras: five browsers encode three layers each on a small machine
    const camera = ['--use-fake-device-for-media-stream=fps=15'];
    const launched = await Promise.all(['chair', 'floor', 'g1', 'g2', 'g3'].map((l) => launchChromium(`budget-${l}`, camera)));
    [chair, holder] = launched;
    gallery.push(...launched.slice(2));
    await chair.page.addInitScript(() => {
      const Orig = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Orig {
        constructor(...a) { super(...a); window.__pcs = [...(window.__pcs || []), this]; }
      };
    });
  }, STEP);

  after(() => endAll(server, [chair, holder, ...gallery].filter(Boolean), 'site-budget'));

  it('the chair at the site sees the floor holder and three gallery delegates', { timeout: 300000 }, async () => {
    const token = await devToken(server, { room: ROOM, name: 'Chủ tịch xã Tân Lập', role: 'chair', site: SITE });
    await chair.joinWithToken(server.url, token, 'Chủ tịch xã Tân Lập');
    await holder.join(server.url, FLOOR, ROOM, { role: 'delegate' });
    for (let i = 0; i < GALLERY.length; i++) await gallery[i].join(server.url, GALLERY[i], ROOM, { role: 'delegate' });
    await waitForSending(holder);
    width = (await holder.page.evaluate(() => window.diemcau.publishEncodings())).width;
    const found = await waitForTiles(chair, [FLOOR, ...GALLERY], { timeoutMs: 40000 * SLOW });
    for (const t of found) id[t.name] = t.id;
    await chair.request('grant_floor', { participant_id: id[FLOOR] });
    await waitUntil('the floor holder in the chair\'s floor slot', async () => {
      const t = await tiles(chair);
      return { ok: t[id[FLOOR]]?.use === 'floor_video', detail: JSON.stringify(t) };
    }, { timeoutMs: 20000 });
    await waitForLiveTiles(chair, [id[FLOOR], ...GALLERY.map((n) => id[n])], { timeoutMs: 60000 * SLOW, audio: false });
    await waitForLiveTiles(chair, [id[FLOOR]], { timeoutMs: 30000 * SLOW }); // and hears it
  });

  it('at 250 kbit/s: clean audio, the floor on its low layer, the gallery paused and saying why', STEP, async () => {
    const put = await admin('PUT', { kbps: 250 });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { site: SITE, kbps: 250 });
    const r = await waitGalleryPaused();
    const note = r.t[id[r.paused[0]]].note;
    console.log(`paused: ${r.paused.join(', ')}; a paused gallery tile says: ${note}`);
    assert.match(note, /Tạm dừng hình để giữ tiếng/);
    console.log(`screenshot: ${await chair.screenshot('site-budget-paused-chair.png')}`);
    // over the next 5 s: the floor's picture moves, the paused ones stand, the sound is clean
    const a0 = await audioCounts(chair);
    const seen = await probeTiles(chair, [id[FLOOR], ...GALLERY.map((n) => id[n])], 5000);
    const a1 = await audioCounts(chair);
    const concealed = (a1.concealed - a0.concealed) / Math.max(1, a1.received - a0.received);
    console.log(`under the budget: ${JSON.stringify(seen)}; audio concealed ${(concealed * 100).toFixed(2)} % of ${a1.received - a0.received} samples`);
    assert.ok(seen[id[FLOOR]].video.frames >= 10, `the floor's picture kept moving: ${JSON.stringify(seen[id[FLOOR]])}`);
    for (const n of r.paused) assert.ok(seen[id[n]].video.frames <= 1, `${n}'s tile paused: ${JSON.stringify(seen[id[n]])}`);
    assert.ok(seen[id[FLOOR]].audio.some((x) => x.peak > 0.01), `the floor is heard: ${JSON.stringify(seen[id[FLOOR]].audio)}`);
    assert.ok(a1.received - a0.received > 100000, 'audio samples arrived');
    assert.ok(concealed < 0.05, `clean audio: ${(concealed * 100).toFixed(2)} % concealed`);
    // what technicians see
    const f = await figures();
    console.log(`figures: ${JSON.stringify(f)}`);
    assert.equal(f.site_budget_kbps, 250);
    const floorSlot = f.slots.find((s) => s.use === 'floor_video');
    assert.equal(floorSlot.layer, 'low');
    assert.equal(floorSlot.reason, 'budget');
    const pausedSlots = f.slots.filter((s) => s.use === 'gallery' && s.participant_id && s.layer === 'off');
    // (the tile that still fitted may have paused since: rates are measured every second)
    assert.ok(pausedSlots.length >= r.paused.length, JSON.stringify(f.slots));
    assert.ok(pausedSlots.every((s) => s.reason === 'budget'));
  });

  it("the chair's page loses its connection and resumes: the paused tiles still say why", STEP, async () => {
    const before = await chair.page.evaluate(() => window.diemcau.participantId);
    await chair.page.evaluate(() => window.diemcau.dropConnection());
    await waitUntil('the chair to resume', async () => {
      const s = await chair.page.evaluate(() => ({ connection: window.diemcau.connection, id: window.diemcau.participantId,
        banner: document.querySelector('#connection-banner').hidden ? null : document.querySelector('#connection-banner').textContent }));
      return { ok: s.connection === 'open' && s.id === before && /Đã kết nối lại\./.test(s.banner || ''), detail: JSON.stringify(s) };
    }, { timeoutMs: 15000 * SLOW, intervalMs: 100 });
    // the page forgot what the server had said of each slot; the server says it again
    await waitUntil('the paused tiles to say why again', async () => {
      const t = await tiles(chair);
      const paused = GALLERY.filter((n) => t[id[n]]?.limit === 'paused' && t[id[n]]?.reason === 'budget');
      return { ok: paused.length >= GALLERY.length - 1, detail: JSON.stringify(t) };
    }, { timeoutMs: 5000 * SLOW, intervalMs: 250 });
  });

  it('the budget is cleared: the gallery moves again', STEP, async () => {
    const del = await admin('DELETE');
    assert.equal(del.status, 200);
    assert.deepEqual(await del.json(), { site: SITE, kbps: null });
    await waitGalleryMoves();
  });

  it('a budget for the commune tier pauses the gallery the same way, until it is cleared', STEP, async () => {
    const put = await admin('PUT', { kbps: 250 }, 'tiers/commune');
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { tier: 'commune', kbps: 250 });
    const r = await waitGalleryPaused();
    console.log(`paused by the tier budget: ${r.paused.join(', ')}`);
    console.log(`screenshot: ${await chair.screenshot('tier-budget-paused-chair.png')}`);
    const f = await figures();
    assert.equal(f.site_budget_kbps, 250, JSON.stringify(f));
    const pausedSlots = f.slots.filter((s) => s.use === 'gallery' && s.participant_id && s.layer === 'off');
    assert.ok(pausedSlots.length >= r.paused.length && pausedSlots.every((s) => s.reason === 'budget'), JSON.stringify(f.slots));
    const del = await admin('DELETE', undefined, 'tiers/commune');
    assert.deepEqual(await del.json(), { tier: 'commune', kbps: null });
    await waitGalleryMoves();
  });
});

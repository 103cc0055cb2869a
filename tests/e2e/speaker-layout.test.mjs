// A province meeting as the sites see it: a chair, an official and a delegate join through
// the page in development mode, an observer by an invitation link. The chair is large in the others'
// program area, the delegate small in the gallery strip with its microphone "waiting for
// the floor"; the observer publishes nothing and is never asked for a camera. When the
// chair gives the delegate the floor, the delegate fills the others' program (floor slot)
// within 2 s and its sound plays; the grid button shows everyone alike and asks the server
// for the grid's gallery size.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';
import { devToken } from './lib/tokens.mjs';

const ROOM = 'Giao ban UBND tỉnh';
const STEP = { timeout: 90000 };
const NAMES = { chair: 'Chủ tịch Nguyễn Văn Hải', official: 'Sở Nội vụ', delegate: 'UBND xã Tân Lập', observer: 'Phóng viên Đài tỉnh' };

/** Where each visible tile is: {program: [{id, use}], grid: [{id, use}], rects, layout}. */
const stageOf = (p) => p.page.evaluate(() => {
  const list = (sel) => [...document.querySelectorAll(sel)].filter((t) => !t.hidden).map((t) => {
    const r = t.getBoundingClientRect();
    return { id: t.dataset.participantId || t.dataset.sharerId, use: t.dataset.use, w: r.width, h: r.height, role: t.dataset.role };
  });
  return {
    layout: document.querySelector('#stage').dataset.layout,
    program: document.querySelector('#program').hidden ? [] : list('#program .tile'),
    grid: list('#grid .tile'),
  };
});

describe('speaker layout: chair in the program, delegate in the gallery, the floor moves it', { timeout: 300000 }, () => {
  let server;
  const p = {};
  const id = {};

  before(async () => {
    server = await startServer('speaker-layout');
    const labels = ['chair', 'official', 'delegate', 'observer'];
    const launched = await Promise.all(labels.map((l) => launchChromium(`speaker-${l}`)));
    labels.forEach((l, i) => { p[l] = launched[i]; });
    await p.observer.watchCapture();
  }, STEP);

  after(() => endAll(server, Object.values(p), 'speaker'));

  it('chair, official, delegate and observer join with their roles', STEP, async () => {
    for (const role of ['chair', 'official', 'delegate', 'observer']) {
      // The observer comes by an invitation link: its page must never ask for a camera.
      if (role === 'observer') await p[role].joinWithToken(server.url, await devToken(server, { room: ROOM, name: NAMES[role], role }), NAMES[role]);
      else await p[role].join(server.url, NAMES[role], ROOM, { role });
      await waitUntil(`${role} to be in the meeting`, async () => {
        const s = await p[role].page.evaluate(() => ({ state: window.diemcau.state, role: window.diemcau.role, id: window.diemcau.participantId }));
        id[role] = s.id;
        return { ok: s.state === 'meeting' && s.role === role, detail: JSON.stringify(s) };
      });
    }
    // Everyone who publishes is seen by the official (the observer sends nothing).
    await waitForTiles(p.official, [NAMES.chair, NAMES.delegate]);
  });

  it('the official sees the chair large in the program and the delegate in the strip, but does not hear the delegate', STEP, async () => {
    await waitForLiveTiles(p.official, [id.chair]);
    await waitForLiveTiles(p.official, [id.delegate], { audio: false });
    const s = await stageOf(p.official);
    assert.equal(s.layout, 'speaker');
    assert.deepEqual(s.program.map((t) => [t.id, t.use]), [[id.chair, 'chair_video']], JSON.stringify(s));
    const del = s.grid.find((t) => t.id === id.delegate);
    assert.ok(del && del.use === 'gallery', `delegate in the gallery strip: ${JSON.stringify(s)}`);
    assert.ok(s.program[0].w * s.program[0].h > 4 * del.w * del.h, `the program is much larger than a strip tile: ${JSON.stringify(s)}`);
    const heard = await p.official.page.evaluate((d) => document.querySelectorAll(`#audio-sinks audio[data-participant-id="${d}"]`).length, id.delegate);
    assert.equal(heard, 0, 'no audio slot carries the delegate before it has the floor');
    console.log(`screenshot: ${await p.official.screenshot('speaker-official-before-floor.png')}`);
  });

  it('the delegate sees its microphone waiting for the floor; the observer has no camera and no microphone', STEP, async () => {
    const mic = await p.delegate.page.evaluate(() => {
      const b = document.querySelector('#toggle-audio');
      return { floor: b.dataset.floor, text: b.textContent.trim(), hand: !document.querySelector('#toggle-hand').hidden };
    });
    assert.equal(mic.floor, 'needed', JSON.stringify(mic));
    assert.match(mic.text, /chờ lượt phát biểu/);
    assert.ok(mic.hand, 'the delegate can raise its hand');
    await waitForLiveTiles(p.delegate, [id.chair]);
    console.log(`screenshot: ${await p.delegate.screenshot('speaker-delegate.png')}`);

    const obs = await p.observer.page.evaluate(() => ({
      mic: !document.querySelector('#toggle-audio').hidden,
      cam: !document.querySelector('#toggle-video').hidden,
      self: !document.querySelector('#self-view').hidden,
      publish: window.diemcau.media.publish,
    }));
    assert.deepEqual(obs, { mic: false, cam: false, self: false, publish: 'new' });
    assert.deepEqual(await p.observer.capturedTracks(), [], 'the observer\'s page never opened a camera or microphone');
    await waitForLiveTiles(p.observer, [id.chair]);
    console.log(`screenshot: ${await p.observer.screenshot('speaker-observer.png')}`);
  });

  it('the delegate raises its hand and sees its place; the chair grants the floor: within 2 s the delegate is in the program, heard', STEP, async () => {
    await p.delegate.page.click('#toggle-hand');
    await waitUntil('the delegate to see its hand raised, first in the queue', async () => {
      const s = await p.delegate.page.evaluate(() => ({ pos: document.querySelector('#toggle-hand').dataset.position, text: document.querySelector('#toggle-hand').textContent.trim() }));
      return { ok: s.pos === '1' && /thứ 1/.test(s.text), detail: JSON.stringify(s) };
    }, { timeoutMs: 5000, intervalMs: 100 });

    const t0 = Date.now();
    await p.chair.request('grant_floor', { participant_id: id.delegate });
    for (const viewer of [p.official, p.observer]) {
      await waitUntil(`${viewer.label} to show the delegate in the program`, async () => {
        const s = await stageOf(viewer);
        const prog = s.program[0];
        return { ok: !!prog && prog.id === id.delegate && prog.use === 'floor_video', detail: JSON.stringify(s) };
      }, { timeoutMs: Math.max(100, 2000 - (Date.now() - t0)), intervalMs: 50 });
    }
    console.log(`delegate in the program of the official and the observer ${Date.now() - t0} ms after grant_floor`);
    const r = await waitForLiveTiles(p.official, [id.delegate], { timeoutMs: 10000 });
    console.log(`official sees and hears the delegate: ${JSON.stringify(r.seen)}`);
    await waitForLiveTiles(p.observer, [id.delegate], { timeoutMs: 10000 });
    const s = await stageOf(p.official);
    assert.ok(s.grid.some((t) => t.id === id.chair && t.use === 'chair_video'), `the chair moved to the strip: ${JSON.stringify(s)}`);
    const mic = await p.delegate.page.evaluate(() => document.querySelector('#toggle-audio').dataset.floor);
    assert.equal(mic, 'held', 'the delegate\'s microphone is now live for everyone');
    console.log(`screenshot: ${await p.official.screenshot('speaker-official-delegate-has-floor.png')}`);
    console.log(`screenshot: ${await p.delegate.screenshot('speaker-delegate-has-floor.png')}`);
  });

  it('the grid button shows every tile alike and asks for the grid\'s gallery size', STEP, async () => {
    const before = await p.official.page.evaluate(() => window.diemcau.gallery);
    await p.official.page.click('#toggle-layout');
    await waitUntil('the official\'s stage to be a grid', async () => {
      const s = await stageOf(p.official);
      return { ok: s.layout === 'grid' && s.program.length === 0 && s.grid.length === 2, detail: JSON.stringify(s) };
    }, { timeoutMs: 5000, intervalMs: 100 });
    const after = await p.official.page.evaluate(() => window.diemcau.gallery);
    assert.ok(after > before, `gallery ${before} → ${after}`);
    await waitForLiveTiles(p.official, [id.chair, id.delegate], { timeoutMs: 15000 });
    // The active speaker (dominant_speaker) is the tile drawn highlighted.
    const hl = await waitUntil('the official to highlight the dominant speaker', async () => {
      const h = await p.official.page.evaluate(() => ({
        dominant: window.diemcau.roomState?.dominant_speaker ?? null,
        self: window.diemcau.participantId,
        speaking: [...document.querySelectorAll('.tile.speaking, .self-tile.speaking')].map((t) => t.dataset.participantId || (t.id === 'self-view' ? 'self' : '?')),
      }));
      const want = h.dominant === h.self ? 'self' : h.dominant;
      return { ok: !!h.dominant && h.speaking.length === 1 && h.speaking[0] === want, detail: JSON.stringify(h), h };
    }, { timeoutMs: 15000, intervalMs: 200 });
    console.log(`highlighted speaker: ${JSON.stringify(hl.h)}`);
    console.log(`screenshot: ${await p.official.screenshot('speaker-official-grid.png')}`);
    await p.chair.request('revoke_floor');
    await waitUntil('the delegate\'s audio to leave the official\'s sinks', async () => {
      const n = await p.official.page.evaluate((d) => document.querySelectorAll(`#audio-sinks audio[data-participant-id="${d}"]`).length, id.delegate);
      return { ok: n === 0, detail: `${n} audio elements` };
    }, { timeoutMs: 5000, intervalMs: 100 });
  });
});

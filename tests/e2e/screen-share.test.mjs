// Screen sharing from the control bar: an official shares (getDisplayMedia; Chromium's fake
// capture), and the others see the screen large in their program area, moving; a second
// official who tries meanwhile is told someone else is sharing; a delegate has no share
// button; stopping the share gives the program back to the camera tiles.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll } from './lib/participants.mjs';

const ROOM = 'e2e-screen-share';
const STEP = { timeout: 60000 };
// Chromium picks the whole (fake) screen without showing its picker.
const CAPTURE = ['--auto-select-desktop-capture-source=Entire screen', '--enable-usermedia-screen-capturing'];

/** The screen tile on p's page as the user sees it: where it is, its size, frames presented in 1 s. */
const screenTile = (p) => p.page.evaluate(() => new Promise((resolve) => {
  const tile = [...document.querySelectorAll('.tile-screen')].find((t) => !t.hidden);
  if (!tile) return resolve(null);
  const video = tile.querySelector('video');
  let frames = 0;
  const tick = () => { frames++; video.requestVideoFrameCallback(tick); };
  video.requestVideoFrameCallback(tick);
  setTimeout(() => resolve({
    sharer: tile.dataset.sharerId, inProgram: !!tile.closest('#program'), label: tile.querySelector('.name').textContent,
    width: video.videoWidth, height: video.videoHeight, frames, shown: tile.classList.contains('show-video'),
  }), 1000);
}));

describe('screen sharing', { timeout: 200000 }, () => {
  let server, a, b, c;
  const id = {};

  before(async () => {
    server = await startServer('screen-share');
    [a, b, c] = await Promise.all([
      launchChromium('share-A', CAPTURE), launchChromium('share-B', CAPTURE), launchChromium('share-C', CAPTURE),
    ]);
  }, STEP);

  after(() => endAll(server, [a, b, c], 'share'));

  it('two officials and a delegate meet; only the officials have a share button', STEP, async () => {
    await a.join(server.url, 'Sở Kế hoạch', ROOM, { role: 'official' });
    await b.join(server.url, 'Sở Tài chính', ROOM, { role: 'official' });
    await c.join(server.url, 'UBND xã Hòa Bình', ROOM, { role: 'delegate' });
    const tiles = await waitForTiles(c, [a.name, b.name]);
    id.A = tiles.find((t) => t.name === a.name).id;
    await waitForTiles(a, [b.name, c.name]);
    const shown = async (p) => p.page.evaluate(() => !document.querySelector('#toggle-share').hidden);
    assert.equal(await shown(a), true);
    assert.equal(await shown(b), true);
    assert.equal(await shown(c), false, 'a delegate may not share');
  });

  it('A shares: the others see A\'s screen moving, large in the program', STEP, async () => {
    await a.page.click('#toggle-share');
    await waitUntil('A to be sharing', async () => {
      const s = await a.page.evaluate(() => ({ sharing: window.diemcau.sharing, state: document.querySelector('#toggle-share').dataset.state }));
      return { ok: s.sharing && s.state === 'sharing', detail: JSON.stringify(s) };
    }, { timeoutMs: 15000, intervalMs: 100 });
    for (const p of [b, c]) {
      const r = await waitUntil(`${p.label} to show A's screen`, async () => {
        const s = await screenTile(p);
        return { ok: !!s && s.sharer === id.A && s.inProgram && s.shown && s.width > 0 && s.height > 0 && s.frames >= 3, detail: JSON.stringify(s), s };
      }, { timeoutMs: 20000, intervalMs: 200 });
      assert.match(r.s.label, /Màn hình của Sở Kế hoạch/);
      console.log(`${p.label} sees the screen: ${JSON.stringify(r.s)}`);
    }
    console.log(`screenshot: ${await c.screenshot('share-C-sees-screen.png')}`);
  });

  it('B tries to share meanwhile and is told someone else is sharing', STEP, async () => {
    await b.page.click('#toggle-share');
    const r = await waitUntil('B to get the share_busy message', async () => {
      const s = await b.page.evaluate(() => ({
        sharing: window.diemcau.sharing,
        toasts: [...document.querySelectorAll('#toasts .toast-error')].map((t) => t.textContent),
      }));
      return { ok: s.toasts.some((x) => /Đang có người khác chia sẻ màn hình/.test(x)), detail: JSON.stringify(s), s };
    }, { timeoutMs: 15000, intervalMs: 100 });
    assert.equal(r.s.sharing, false);
    const s = await screenTile(c);
    assert.equal(s?.sharer, id.A, 'A\'s share goes on');
  });

  it('A stops: the screen tile goes away and the program is a camera again', STEP, async () => {
    await a.page.click('#toggle-share');
    for (const p of [b, c]) {
      await waitUntil(`${p.label} to drop the screen`, async () => {
        const s = await screenTile(p);
        return { ok: s === null, detail: JSON.stringify(s) };
      }, { timeoutMs: 10000, intervalMs: 200 });
    }
    assert.equal(await a.page.evaluate(() => window.diemcau.sharing), false);
  });
});

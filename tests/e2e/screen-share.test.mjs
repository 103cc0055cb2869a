// Screen sharing from the control bar: the chair shares (getDisplayMedia; Chromium's fake
// capture), and the others see the screen large in their program area, moving; an official
// who tries meanwhile is told someone else is sharing; a delegate has no share button until
// it holds the floor and the chair lets the floor share; stopping the share gives the
// program back to the camera tiles.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll, FAKE_SCREEN_CAPTURE } from './lib/participants.mjs';
import { probeScreen } from './lib/live.mjs';

const ROOM = 'e2e-screen-share';
const STEP = { timeout: 60000 };
const CAPTURE = FAKE_SCREEN_CAPTURE;

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

  it('a chair, an official and a delegate meet; only the chair and the official have a share button', STEP, async () => {
    await a.join(server.url, 'Sở Kế hoạch', ROOM, { role: 'chair' });
    await b.join(server.url, 'Sở Tài chính', ROOM, { role: 'official' });
    await c.join(server.url, 'UBND xã Hòa Bình', ROOM, { role: 'delegate' });
    const tiles = await waitForTiles(c, [a.name, b.name]);
    id.A = tiles.find((t) => t.name === a.name).id;
    id.C = (await waitForTiles(a, [b.name, c.name])).find((t) => t.name === c.name).id;
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
        const s = await probeScreen(p);
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
    const s = await probeScreen(c);
    assert.equal(s?.sharer, id.A, 'A\'s share goes on');
  });

  it('A stops: the screen tile goes away and the program is a camera again', STEP, async () => {
    await a.page.click('#toggle-share');
    for (const p of [b, c]) {
      await waitUntil(`${p.label} to drop the screen`, async () => {
        const s = await probeScreen(p);
        return { ok: s === null, detail: JSON.stringify(s) };
      }, { timeoutMs: 10000, intervalMs: 200 });
    }
    assert.equal(await a.page.evaluate(() => window.diemcau.sharing), false);
  });

  it('the delegate gets a share button while it holds a floor the chair lets share', STEP, async () => {
    const shareShown = () => c.page.evaluate(() => !document.querySelector('#toggle-share').hidden);
    await a.request('grant_floor', { participant_id: id.C });
    await waitUntil('the delegate to hold the floor', async () => {
      const f = await c.page.evaluate(() => document.querySelector('#toggle-audio').dataset.floor);
      return { ok: f === 'held', detail: f };
    }, { timeoutMs: 5000, intervalMs: 100 });
    assert.equal(await shareShown(), false, 'the floor alone does not let a delegate share');
    await a.request('set_room_options', { floor_may_share: true });
    await waitUntil('the delegate\'s share button', async () => ({ ok: await shareShown(), detail: 'hidden' }), { timeoutMs: 5000, intervalMs: 100 });
    await a.request('revoke_floor');
    await waitUntil('the delegate\'s share button to go', async () => ({ ok: !(await shareShown()), detail: 'shown' }), { timeoutMs: 5000, intervalMs: 100 });
  });
});

// A dropped signaling connection: within the grace period the page resumes (same id, the
// others notice nothing, media keeps flowing both ways); with no grace period left the
// page joins again with its token (a new id) and the others see and hear it again.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';

const STEP = { timeout: 60000 };
const NAMES = { A: 'Lý Thị Hoa', B: 'Mai Văn Tùng' };

const pageOf = (p) => p.page.evaluate(() => ({
  state: window.diemcau.state, id: window.diemcau.participantId, connection: window.diemcau.connection,
  banner: document.querySelector('#connection-banner').hidden ? null : document.querySelector('#connection-banner').textContent,
}));

for (const mode of ['resume', 'rejoin']) {
  describe(`a dropped connection: ${mode}`, { timeout: 180000 }, () => {
    let server, a, b;

    before(async () => {
      server = await startServer(`reconnect-${mode}`, mode === 'rejoin' ? ['--resume-grace', '0'] : []);
      [a, b] = await Promise.all([launchChromium(`reconnect-${mode}-A`), launchChromium(`reconnect-${mode}-B`)]);
    }, STEP);

    after(() => endAll(server, [a, b], `reconnect-${mode}`));

    it(`A's socket drops; A ${mode === 'resume' ? 'resumes under the same id' : 'joins again under a new id'} and A and B see and hear each other`, STEP, async () => {
      const room = `e2e-reconnect-${mode}`;
      await a.join(server.url, NAMES.A, room);
      await b.join(server.url, NAMES.B, room);
      const [tb] = await waitForTiles(a, [NAMES.B]);
      const [ta] = await waitForTiles(b, [NAMES.A]);
      await waitForLiveTiles(a, [tb.id]);
      await waitForLiveTiles(b, [ta.id]);

      await a.page.evaluate(() => window.diemcau.dropConnection());
      const want = mode === 'resume' ? /Đã kết nối lại\./ : /vào phòng lại/;
      const r = await waitUntil(`A to ${mode}`, async () => {
        const s = await pageOf(a);
        return { ok: s.state === 'meeting' && s.connection === 'open' && want.test(s.banner || ''), detail: JSON.stringify(s), s };
      }, { timeoutMs: 15000, intervalMs: 100 });
      if (mode === 'resume') assert.equal(r.s.id, ta.id, 'same participant id after resume');
      else assert.notEqual(r.s.id, ta.id, 'a new participant after joining again');

      const [ta2] = await waitForTiles(b, [NAMES.A]);
      assert.equal(ta2.id, r.s.id);
      await waitForLiveTiles(b, [ta2.id]);
      await waitForLiveTiles(a, [tb.id]);
      console.log(`screenshot: ${await a.screenshot(`reconnect-${mode}-A.png`)}`);
    });
  });
}

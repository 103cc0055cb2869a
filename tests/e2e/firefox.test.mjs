// Firefox ESR (WebDriver BiDi via puppeteer-core) and Chromium (playwright-core) meet
// through the SFU: each sees the other's video in its tile and hears its audio.
import { describe, it, before, after } from 'node:test';
import { startServer } from './lib/server.mjs';
import { launchChromium, launchFirefox, waitForTiles, waitForSending, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';

const ROOM = 'e2e-firefox-chromium';
const STEP = { timeout: 60000 };

describe('Firefox ESR and Chromium in one room', { timeout: 180000 }, () => {
  let server, ff, cr;
  const ids = {};

  before(async () => {
    server = await startServer('firefox');
    [ff, cr] = await Promise.all([launchFirefox('firefox-F'), launchChromium('firefox-C')]);
  }, STEP);

  after(() => endAll(server, [ff, cr], 'firefox'));

  it('both join and see each other as a tile', STEP, async () => {
    await ff.join(server.url, 'Hoàng Thị Firefox', ROOM);
    await cr.join(server.url, 'Võ Văn Chromium', ROOM);
    ids.cr = (await waitForTiles(ff, [cr.name]))[0].id;
    ids.ff = (await waitForTiles(cr, [ff.name]))[0].id;
  });

  it('each sees the other\'s video in its tile and hears its audio', STEP, async () => {
    await waitForSending(ff);
    await waitForSending(cr);
    const a = await waitForLiveTiles(ff, [ids.cr]);
    console.log(`Firefox receives: ${JSON.stringify(a.seen)}`);
    const b = await waitForLiveTiles(cr, [ids.ff]);
    console.log(`Chromium receives: ${JSON.stringify(b.seen)}`);
    console.log(`screenshot: ${await ff.screenshot('firefox-F-call.png')}`);
    console.log(`screenshot: ${await cr.screenshot('firefox-C-call.png')}`);
  });
});

// Room names are what people type, accents included: "Phòng họp Sở Nội vụ" works, and the
// same name typed as precomposed letters (NFC) and as base letters + combining marks (NFD,
// as some keyboards produce) leads to the same room.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';

const ROOM = 'Phòng họp Sở Nội vụ';

describe('a room name with Vietnamese diacritics', { timeout: 180000 }, () => {
  let server, a, b;

  before(async () => {
    server = await startServer('room-name');
    [a, b] = await Promise.all([launchChromium('room-name-A'), launchChromium('room-name-B')]);
  }, { timeout: 60000 });

  after(() => endAll(server, [a, b], 'room-name'));

  it('NFC and NFD spellings of "Phòng họp Sở Nội vụ" meet in one room', { timeout: 90000 }, async () => {
    const nfd = ROOM.normalize('NFD');
    assert.notEqual(nfd, ROOM, 'the two spellings differ as strings');
    await a.join(server.url, 'Vũ Thị Lan', ROOM);
    await b.join(server.url, 'Hà Văn Sơn', `  ${nfd} `);
    const [tb] = await waitForTiles(a, [b.name]);
    const [ta] = await waitForTiles(b, [a.name]);
    await waitForLiveTiles(a, [tb.id]);
    await waitForLiveTiles(b, [ta.id]);
    for (const p of [a, b]) {
      const shown = await p.page.evaluate(() => ({
        room: window.diemcau.room,
        label: document.querySelector('#room-label').textContent,
        url: new URL(location.href).searchParams.get('room'),
      }));
      assert.equal(shown.room, ROOM, `${p.label} is in the room as the server names it (NFC)`);
      assert.ok(shown.label.includes(ROOM), `${p.label}'s top bar shows the room name: ${shown.label}`);
      assert.equal(shown.url, ROOM, `${p.label}'s address keeps the room for a reload`);
    }
    console.log(`screenshot: ${await b.screenshot('room-name-B.png')}`);
  });
});

// A slot_update that arrives while the page is still applying a subscribe offer is newer
// than the offer's own slot table and must win. P's browser is made slow the way a loaded
// commune PC is: its setRemoteDescription for the first subscribe offer is held until the
// test has seen a slot_update arrive behind that offer (B joining fills a gallery slot);
// then it is released. P must show and play B. (Under ASan this once left a gallery tile
// empty for good: the offer's older table, applied after the hold, overwrote B's slot.)
import { describe, it, before, after } from 'node:test';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';

const ROOM = 'e2e-slot-race';
const STEP = { timeout: 90000 };
const NAMES = { A: 'Nguyễn Văn An', B: 'Trần Thị Bình', P: 'UBND xã Tân Phú' };

// Runs in P's page before its scripts: records the types of signaling messages received,
// in order, and holds setRemoteDescription(offer) until window.releaseOffers() is called.
function holdOffers() {
  window.received = [];
  let release;
  const released = new Promise((r) => { release = r; });
  window.releaseOffers = () => release();
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        try { window.received.push(JSON.parse(ev.data).type); } catch { /* not JSON */ }
      });
    }
  };
  const srd = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = async function (desc, ...rest) {
    if (desc?.type === 'offer') await released;
    return srd.call(this, desc, ...rest);
  };
}

describe('a slot_update behind a subscribe offer still being applied', { timeout: 240000 }, () => {
  let server;
  const people = {};
  const idOf = async (viewer, name) => (await viewer.tiles()).find((t) => t.name === name)?.id;

  before(async () => {
    server = await startServer('slot-race');
    const launched = await Promise.all(['A', 'B', 'P'].map((l) => launchChromium(`slot-race-${l}`)));
    ['A', 'B', 'P'].forEach((l, i) => { people[l] = launched[i]; });
    await people.P.page.addInitScript(holdOffers);
  }, STEP);

  after(() => endAll(server, Object.values(people), 'slot-race'));

  it('the newer slot_update wins: P sees and hears B', STEP, async () => {
    await people.A.join(server.url, NAMES.A, ROOM);
    await people.P.join(server.url, NAMES.P, ROOM);
    await waitUntil('P to receive its first subscribe offer (held)', async () => {
      const got = await people.P.page.evaluate(() => window.received);
      return { ok: got.includes('subscribe_offer'), detail: JSON.stringify(got) };
    });
    await people.B.join(server.url, NAMES.B, ROOM);
    await waitUntil('a slot_update to reach P behind the held offer', async () => {
      const got = await people.P.page.evaluate(() => window.received);
      return { ok: got.indexOf('slot_update', got.indexOf('subscribe_offer')) > 0, detail: JSON.stringify(got) };
    });
    await people.P.page.evaluate(() => window.releaseOffers());
    await waitForTiles(people.P, [NAMES.A, NAMES.B]);
    const r = await waitForLiveTiles(people.P, [await idOf(people.P, NAMES.A), await idOf(people.P, NAMES.B)]);
    console.log(`P sees: ${JSON.stringify(r.seen)}`);
  });
});

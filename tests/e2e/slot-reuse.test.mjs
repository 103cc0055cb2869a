// A slot freed by someone who left is reused for the next person: A, B, C join, C leaves,
// D joins into C's old slots; then B reloads its page and joins again. On A's page the
// newcomers' tiles must show moving pictures and their <audio> must play sound — not the
// departed person's silent track (Chromium kept the old, muted receiver track showing).
import { describe, it, before, after } from 'node:test';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';

const ROOM = 'e2e-slot-reuse';
const STEP = { timeout: 90000 };
const NAMES = { A: 'Nguyễn Văn An', B: 'Trần Thị Bình', C: 'Lê Minh Châu', D: 'Phạm Đức Dũng' };

describe('slot reuse: a newcomer in a departed participant\'s slot is seen and heard', { timeout: 300000 }, () => {
  let server;
  const people = {};

  const idOf = async (viewer, name) => (await viewer.tiles()).find((t) => t.name === name)?.id;

  before(async () => {
    server = await startServer('slot-reuse');
    const launched = await Promise.all(['A', 'B', 'C'].map((l) => launchChromium(`slot-reuse-${l}`)));
    ['A', 'B', 'C'].forEach((l, i) => { people[l] = launched[i]; });
  }, STEP);

  after(() => endAll(server, Object.values(people), 'slot-reuse'));

  it('A sees and hears B and C', STEP, async () => {
    for (const l of ['A', 'B', 'C']) await people[l].join(server.url, NAMES[l], ROOM);
    await waitForTiles(people.A, [NAMES.B, NAMES.C]);
    await waitForLiveTiles(people.A, [await idOf(people.A, NAMES.B), await idOf(people.A, NAMES.C)]);
  });

  it('C leaves, D joins into C\'s slots: A sees and hears D', STEP, async () => {
    await people.C.leave();
    await waitForTiles(people.A, [NAMES.B]);
    await people.C.close();
    delete people.C;
    people.D = await launchChromium('slot-reuse-D');
    await people.D.join(server.url, NAMES.D, ROOM);
    await waitForTiles(people.A, [NAMES.B, NAMES.D]);
    const r = await waitForLiveTiles(people.A, [await idOf(people.A, NAMES.D), await idOf(people.A, NAMES.B)]);
    console.log(`A sees: ${JSON.stringify(r.seen)}`);
    console.log(`screenshot: ${await people.A.screenshot('slot-reuse-A-sees-D.png')}`);
  });

  it('B reloads and joins again: A sees and hears the new B', STEP, async () => {
    const oldId = await idOf(people.A, NAMES.B);
    await people.B.page.reload();
    await people.B.join(server.url, NAMES.B, ROOM);
    const fresh = await waitUntil('A to show the rejoined B under a new id', async () => {
      const t = await people.A.tiles();
      const b = t.find((x) => x.name === NAMES.B);
      return { ok: !!b && b.id !== oldId && t.length === 2, detail: JSON.stringify(t), id: b?.id };
    });
    const r = await waitForLiveTiles(people.A, [fresh.id, await idOf(people.A, NAMES.D)]);
    console.log(`A sees: ${JSON.stringify(r.seen)}`);
    console.log(`screenshot: ${await people.A.screenshot('slot-reuse-A-sees-rejoined-B.png')}`);
  });
});

// Three Chromium participants meet in one room through the real page and the SFU; each
// sees the other two's video in their tiles and hears their audio; one leaves and its tile goes
// away everywhere; a late joiner sees everyone and everyone sees it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, waitForCount, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';

const ROOM = 'e2e-hop-chromium';
const STEP = { timeout: 60000 };

describe('meeting: three Chromium participants', { timeout: 240000 }, () => {
  let server;
  const people = {}; // label → Participant
  const ids = {};    // name → participant id (as the other pages show it)
  const all = () => Object.values(people);

  before(async () => {
    server = await startServer('meeting');
    // Launch in parallel: each browser takes a few seconds to start.
    const [a, b, c] = await Promise.all(['A', 'B', 'C'].map((l) => launchChromium(`meeting-${l}`)));
    Object.assign(people, { A: a, B: b, C: c });
  }, STEP);

  after(() => endAll(server, all(), 'meeting'));

  it('three people join one room and each sees the other two as tiles', STEP, async () => {
    const names = { A: 'Nguyễn Văn An', B: 'Trần Thị Bình', C: 'Lê Minh Châu' };
    for (const l of ['A', 'B', 'C']) await people[l].join(server.url, names[l], ROOM);
    for (const l of ['A', 'B', 'C']) {
      const others = Object.entries(names).filter(([k]) => k !== l).map(([, n]) => n);
      const tiles = await waitForTiles(people[l], others);
      for (const t of tiles) {
        if (ids[t.name] && ids[t.name] !== t.id) assert.fail(`${t.name} has id ${ids[t.name]} on one page and ${t.id} on another`);
        ids[t.name] = t.id;
      }
    }
    assert.equal(new Set(Object.values(ids)).size, 3, `three distinct participant ids: ${JSON.stringify(ids)}`);
    for (const l of ['A', 'B', 'C']) {
      assert.equal(await people[l].participantId(), ids[names[l]], `${l}'s own id matches what the others show`);
      await waitForCount(people[l], 3);
    }
  });

  it('each sees the other two\'s video in their tiles and hears their audio', STEP, async () => {
    await Promise.all(all().map((p) => waitForSending(p)));
    for (const p of all()) {
      const others = all().filter((o) => o !== p).map((o) => ids[o.name]);
      const r = await waitForLiveTiles(p, others);
      console.log(`${p.label} receives: ${JSON.stringify(r.seen)}`);
    }
    const shot = await people.A.screenshot('meeting-A-three.png');
    console.log(`screenshot: ${shot}`);
  });

  it('when one leaves, its tile disappears for the others and their media keeps flowing', STEP, async () => {
    const gone = ids[people.C.name];
    await people.C.leave();
    for (const p of [people.A, people.B]) {
      await waitUntil(`${p.label} to drop ${people.C.label}'s tile`, async () => {
        const t = await p.tiles();
        return { ok: !t.some((x) => x.id === gone) && t.length === 1, detail: JSON.stringify(t) };
      });
    }
    await waitForCount(people.A, 2);
    await waitForCount(people.B, 2);
    await waitForLiveTiles(people.A, [ids[people.B.name]]);
    await waitForLiveTiles(people.B, [ids[people.A.name]]);
    await people.C.close();
    delete people.C;
  });

  it('a late joiner sees everyone at once, and everyone sees it', STEP, async () => {
    const d = await launchChromium('meeting-D');
    people.D = d;
    const t0 = Date.now();
    await d.join(server.url, 'Phạm Đức Dũng', ROOM);
    const tiles = await waitForTiles(d, [people.A.name, people.B.name]);
    for (const t of tiles) assert.equal(t.id, ids[t.name], `late joiner sees ${t.name} with the same id`);
    await waitForLiveTiles(d, [ids[people.A.name], ids[people.B.name]]);
    console.log(`late joiner decoding both within ${Date.now() - t0} ms of clicking join`);
    for (const p of [people.A, people.B]) {
      const others = p === people.A ? [people.B.name, d.name] : [people.A.name, d.name];
      const t = await waitForTiles(p, others);
      ids[d.name] = t.find((x) => x.name === d.name).id;
    }
    await waitForLiveTiles(people.A, [ids[d.name]]);
    await waitForLiveTiles(people.B, [ids[d.name]]);
    for (const p of [people.A, people.B, d]) await waitForCount(p, 3);
    const shot = await d.screenshot('meeting-D-late-joiner.png');
    console.log(`screenshot: ${shot}`);
    assert.ok(server.alive(), 'server still running');
  });
});

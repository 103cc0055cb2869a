// What a site sees when its link is lossy: the tiles of what reaches it badly say "weak" or
// "poor signal", and a strip tells the user their own connection is weak; on a clean link
// nothing of the kind shows, and it goes away again when the link heals. Site B lives in
// its own network namespace (lib/netns.mjs) and loses 30 % of the UDP reaching it; A is on
// the server's side and must not be told its link is weak. A camera sent in simulcast layers
// may instead be lowered for B by the server's bandwidth allocator: its tile then says so
// ("quality reduced: the connection is weak") in place of the signal chip, which is as good.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, waitUntil, endAll, sleep } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';
import { makeSiteLink, privateNamespace } from './lib/netns.mjs';

const ROOM = 'e2e-link-quality';
const STEP = { timeout: 90000 };
const NAMES = { A: 'UBND tỉnh', B: 'UBND xã Tân Phú' };

/** What the page shows about links: each tile's level and chip text, and the own strip. */
async function shown(p) {
  return p.page.evaluate(() => ({
    tiles: Object.fromEntries([...document.querySelectorAll('.tile[data-participant-id]')].filter((t) => !t.hidden).map((t) => {
      const chip = t.querySelector('.link-chip');
      return [t.dataset.participantId, { level: t.dataset.link, chip: chip.hidden ? '' : chip.textContent.trim() }];
    })),
    notice: document.querySelector('#link-notice').hidden ? '' : document.querySelector('#link-notice').textContent,
    measured: window.diemcau.linkQuality,
    limits: Object.fromEntries([...document.querySelectorAll('.tile[data-participant-id]')].filter((t) => !t.hidden).map((t) =>
      [t.dataset.participantId, t.dataset.limit ? `${t.dataset.limit}/${t.dataset.limitReason}: ${t.querySelector('.tile-limit').textContent}` : ''])),
  }));
}

describe('link quality shown to a site on a lossy link', { timeout: 300000, skip: !privateNamespace() && 'needs tests/run-in-netns.sh' }, () => {
  let server;
  let link;
  const people = {};
  const ids = {};

  before(async () => {
    link = makeSiteLink('link-quality');
    server = await startServer('link-quality', link.serverArgs());
    const args = link.chromiumArgs(server.httpPort);
    [people.A, people.B] = await Promise.all([
      launchChromium('link-quality-A', args),
      launchChromium('link-quality-B', args, { executablePath: link.chromiumPath }),
    ]);
  }, STEP);

  after(async () => {
    try {
      await endAll(server, Object.values(people), 'link-quality');
    } finally {
      await link?.remove();
    }
  });

  it('on a clean link no tile and no strip speaks of a weak signal', STEP, async () => {
    const url = link.pageUrl(server.httpPort);
    await people.A.join(url, NAMES.A, ROOM);
    await people.B.join(url, NAMES.B, ROOM);
    [ids.B] = (await waitForTiles(people.A, [NAMES.B])).map((t) => t.id);
    [ids.A] = (await waitForTiles(people.B, [NAMES.A])).map((t) => t.id);
    await Promise.all([waitForSending(people.A), waitForSending(people.B)]);
    await waitForLiveTiles(people.B, [ids.A]);
    // ten seconds of samples (the page judges every 2 s): all quiet
    for (let i = 0; i < 10; i++) {
      for (const [who, other] of [['A', 'B'], ['B', 'A']]) {
        const s = await shown(people[who]);
        assert.deepEqual(s.tiles[ids[other]], { level: 'good', chip: '' }, `${who}'s tile of ${other}: ${JSON.stringify(s)}`);
        assert.equal(s.notice, '', `${who}'s own link strip`);
      }
      await sleep(1000);
    }
  });

  it('30 % loss toward B: B\'s tile of A says the signal is weak or poor and B is told its link is weak; A is not', STEP, async () => {
    link.dropIncoming(0.3);
    const r = await waitUntil('B to show a weak link', async () => {
      const s = await shown(people.B);
      const tile = s.tiles[ids.A];
      const chip = /^(weak|bad)$/.test(tile?.level) && /^Tín hiệu (yếu|kém)$/.test(tile.chip);
      const lowered = /^(lowered|paused)\/bandwidth: \S/.test(s.limits[ids.A] || '');
      return { ok: (chip || lowered) && /^Đường truyền của bạn/.test(s.notice), detail: JSON.stringify(s), s };
    }, { timeoutMs: 30000 });
    console.log(`B shows: ${JSON.stringify(r.s)}`);
    console.log(`screenshot: ${await people.B.screenshot('link-quality-B-lossy.png')}`);
    const a = await shown(people.A);
    assert.equal(a.notice, '', `A's own link is fine: ${JSON.stringify(a)}`);
  });

  it('when the loss ends, the chip and the strip go away', STEP, async () => {
    link.clear();
    const r = await waitUntil('B to show a good link again', async () => {
      const s = await shown(people.B);
      return { ok: s.tiles[ids.A]?.level === 'good' && s.tiles[ids.A].chip === '' && s.notice === '' && s.limits[ids.A] === '', detail: JSON.stringify(s), s };
    }, { timeoutMs: 40000 });
    console.log(`B shows: ${JSON.stringify(r.s)}`);
  });
});

// The meeting page at desktop and phone sizes, measured: the self view covers no remote
// tile's picture or name; each name label lies inside its tile, on top (hit test) and
// visibly drawn over the video (its dark background shows in the screenshot's pixels);
// the room name is shown whole.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';
import utilsBundle from 'playwright-core/lib/utilsBundle';

const { PNG } = utilsBundle;
const ROOM = 'Phòng họp giao ban Ủy ban nhân dân tỉnh';
const NAMES = ['Nguyễn Văn An', 'Trần Thị Bình Minh Nguyệt', 'Lê Châu'];
const SIZES = [
  { name: 'desktop', width: 1280, height: 720 },
  { name: 'phone', width: 390, height: 844 },
];

function measure() {
  const rect = (el) => { const b = el.getBoundingClientRect(); return { x: b.x, y: b.y, w: b.width, h: b.height }; };
  const self = document.querySelector('#self-view');
  const tiles = [...document.querySelectorAll('.tile[data-participant-id]')].map((t) => {
    t.scrollIntoView({ block: 'nearest' });
    const label = t.querySelector('.tile-label');
    const lb = label.getBoundingClientRect();
    const hit = document.elementFromPoint(lb.x + lb.width / 2, lb.y + lb.height / 2);
    return {
      name: t.querySelector('.name').textContent,
      tile: rect(t), video: rect(t.querySelector('video')), label: rect(label), labelOnTop: !!hit && label.contains(hit),
    };
  });
  const room = document.querySelector('#room-label');
  return { self: rect(self), tiles, room: { text: room.textContent, scrollWidth: room.scrollWidth, clientWidth: room.clientWidth } };
}

const intersects = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
const inside = (a, b) => a.x >= b.x - 0.5 && a.y >= b.y - 0.5 && a.x + a.w <= b.x + b.w + 0.5 && a.y + a.h <= b.y + b.h + 0.5;

describe('layout at desktop and phone sizes', { timeout: 240000 }, () => {
  let server;
  let people = [];

  before(async () => {
    server = await startServer('layout');
    people = await Promise.all(['A', 'B', 'C'].map((l) => launchChromium(`layout-${l}`)));
  }, { timeout: 60000 });

  after(() => endAll(server, people));

  it('three people meet, A sees both others live', { timeout: 90000 }, async () => {
    for (const [i, p] of people.entries()) await p.join(server.url, NAMES[i], ROOM);
    const tiles = await waitForTiles(people[0], NAMES.slice(1));
    await waitForLiveTiles(people[0], tiles.map((t) => t.id), { audio: false });
  });

  for (const size of SIZES) {
    it(`${size.name} ${size.width}×${size.height}: self view apart, labels whole and on top, room name whole`, { timeout: 60000 }, async () => {
      const a = people[0];
      await a.page.setViewportSize({ width: size.width, height: size.height });
      await a.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const m = await a.page.evaluate(measure);
      for (const t of m.tiles) {
        assert.ok(!intersects(m.self, t.video), `self view ${JSON.stringify(m.self)} covers ${t.name}'s picture ${JSON.stringify(t.video)}`);
        assert.ok(!intersects(m.self, t.label), `self view covers ${t.name}'s name ${JSON.stringify(t.label)}`);
        assert.ok(inside(t.label, t.tile), `${t.name}'s label ${JSON.stringify(t.label)} inside its tile ${JSON.stringify(t.tile)}`);
        assert.ok(t.labelOnTop, `${t.name}'s label is what a click on it hits`);
      }
      assert.ok(m.room.scrollWidth <= m.room.clientWidth, `room name shown whole: ${JSON.stringify(m.room)}`);
      // The label's own background (72 % black) must be what is drawn at its padding, not
      // the green fake-camera picture it sits on.
      const first = m.tiles[0];
      await a.page.evaluate(() => document.querySelector('.tile[data-participant-id]').scrollIntoView({ block: 'nearest' }));
      const lb = (await a.page.evaluate(measure)).tiles[0].label;
      const png = PNG.sync.read(await a.page.screenshot({ clip: { x: lb.x, y: lb.y, width: lb.w, height: lb.h } }));
      const px = (x, y) => { const i = (y * png.width + x) * 4; return [png.data[i], png.data[i + 1], png.data[i + 2]]; };
      const samples = [[4, Math.floor(png.height / 2)], [Math.floor(png.width / 2), 2], [png.width - 4, png.height - 3]].map(([x, y]) => px(x, y));
      assert.ok(samples.every((c) => Math.max(...c) < 110), `${first.name}'s label background is drawn (pixels ${JSON.stringify(samples)})`);
      console.log(`${size.name}: ${JSON.stringify(m)}`);
      console.log(`screenshot: ${await a.screenshot(`layout-${size.name}.png`)}`);
    });
  }

  it('desktop: the list button opens the side panel beside the stage, covering no tile', { timeout: 30000 }, async () => {
    const a = people[0];
    await a.page.setViewportSize({ width: 1280, height: 720 });
    await a.page.click('#toggle-panel');
    const m = await a.page.evaluate(() => {
      const panel = document.querySelector('#side-panel');
      const r = panel.getBoundingClientRect();
      return {
        panel: { x: r.x, y: r.y, w: r.width, h: r.height }, hidden: panel.hidden,
        expanded: document.querySelector('#toggle-panel').getAttribute('aria-expanded'),
        tiles: [...document.querySelectorAll('.tile[data-participant-id], #self-view')].map((t) => {
          const b = t.getBoundingClientRect();
          return { x: b.x, y: b.y, w: b.width, h: b.height };
        }),
      };
    });
    assert.ok(!m.hidden && m.panel.w > 200 && m.panel.h > 100, JSON.stringify(m));
    assert.equal(m.expanded, 'true');
    for (const t of m.tiles) assert.ok(!intersects(m.panel, t), `the panel ${JSON.stringify(m.panel)} covers a tile ${JSON.stringify(t)}`);
    console.log(`screenshot: ${await a.screenshot('layout-desktop-panel.png')}`);
    await a.page.click('#toggle-panel');
    assert.equal(await a.page.evaluate(() => document.querySelector('#side-panel').hidden), true);
  });
});

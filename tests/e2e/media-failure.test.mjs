// Media that does not connect, or stops, is said in words — it must not look like a camera
// that was switched off. (1) The server announces an address nobody can reach (192.0.2.1,
// TEST-NET-1: no route in the test's namespace), so ICE never connects: the page retries
// (ICE restart, then fresh connections) and then shows a persistent state in the top bar,
// on the tiles, and what to do. (2) A participant's browser crashes: on the other page its
// tile says "no signal" instead of freezing on the last frame for the 20 s grace period.
// (3) One participant's browser can reach nobody (relays only, none exists): its own page says media failed, and on the
// others' pages its tile says nothing arrives from it — not a camera switched off.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitUntil, endAll } from './lib/participants.mjs';
import { waitForLiveTiles } from './lib/live.mjs';

const STEP = { timeout: 90000 };

/**
 * Wraps the page's RTCPeerConnection (the real one is still used): counts the connections
 * the page builds, and with relayOnly makes the browser use relays only — as behind a
 * firewall that lets no UDP through, with no TURN server here to relay.
 */
async function watchPeerConnections(p, { relayOnly = false } = {}) {
  await p.page.addInitScript((relay) => {
    const Real = window.RTCPeerConnection;
    window.__pcCount = 0;
    window.RTCPeerConnection = function (config = {}) {
      window.__pcCount++;
      return new Real(relay ? { ...config, iceTransportPolicy: 'relay' } : config);
    };
    window.RTCPeerConnection.prototype = Real.prototype;
  }, relayOnly);
}

/** Top bar, help line and one remote tile as the user sees them. */
const pageState = (p, tileId) => p.page.evaluate((id) => {
  const visible = (el) => !!el && !el.hidden && el.getBoundingClientRect().height > 0;
  const tile = document.querySelector(`.tile[data-participant-id="${id}"]`);
  const line = tile?.querySelector('.tile-state');
  return {
    health: window.diemcau.mediaHealth,
    pcs: window.__pcCount,
    chip: visible(document.querySelector('#media-status')) ? document.querySelector('#media-status').textContent : null,
    help: visible(document.querySelector('#media-help')) ? document.querySelector('#media-help-text').textContent : null,
    retryButton: visible(document.querySelector('#media-retry')),
    tileMedia: tile?.dataset.media ?? null,
    tileLine: visible(line) ? line.textContent : null,
    tileShowsVideo: tile?.classList.contains('show-video') ?? null,
  };
}, tileId);

describe('media that never connects is shown as such, with retries and advice', { timeout: 200000 }, () => {
  let server, a, b;

  before(async () => {
    server = await startServer('media-failure', ['--announce-ip', '192.0.2.1']);
    [a, b] = await Promise.all([launchChromium('media-failure-A'), launchChromium('media-failure-B')]);
    await watchPeerConnections(a);
  }, STEP);

  after(() => endAll(server, [a, b], 'media-failure'));

  it('retries, then says in the top bar and on the tile that media failed, and what to do', STEP, async () => {
    await a.join(server.url, 'Ngô Thị Hạnh', 'e2e-media-failure');
    await b.join(server.url, 'Đặng Văn Khoa', 'e2e-media-failure');
    const bId = (await waitForTiles(a, [b.name]))[0].id;
    const seen = new Set();
    const final = await waitUntil('A to give up and show the failure state', async () => {
      const s = await pageState(a, bId);
      seen.add(s.health.state);
      return { ok: s.health.publish === 'failed' && s.health.subscribe === 'failed', detail: JSON.stringify(s), s };
    }, { timeoutMs: 75000, intervalMs: 250 });
    const s = final.s;
    console.log(`A after giving up: ${JSON.stringify(s)}; states seen: ${[...seen].join(', ')}`);
    assert.ok(seen.has('retrying'), 'the page retried before giving up');
    assert.equal(s.health.attempt, 2, 'two retries (ICE restart, then a fresh transport)');
    assert.ok(s.pcs >= 3, `fresh connections were built (${s.pcs} RTCPeerConnections)`);
    assert.match(s.chip || '', /Không kết nối được hình ảnh/);
    assert.match(s.help || '', /UDP/);
    assert.ok(s.retryButton, 'a "Thử lại" button');
    assert.equal(s.tileMedia, 'failed');
    assert.ok(s.tileLine, 'the tile says what is wrong');
    assert.equal(s.tileShowsVideo, false);
    console.log(`screenshot: ${await a.screenshot('media-failure-A-failed.png')}`);
    await a.page.click('#media-retry');
    await waitUntil('"Thử lại" to start over', async () => {
      const h = await a.page.evaluate(() => window.diemcau.mediaHealth);
      return { ok: h.state === 'retrying' && h.attempt === 1, detail: JSON.stringify(h) };
    }, { timeoutMs: 5000, intervalMs: 100 });
  });
});

describe('a participant whose browser crashed is shown as "no signal", not a frozen frame', { timeout: 200000 }, () => {
  let server, a, b;

  before(async () => {
    server = await startServer('media-crash');
    [a, b] = await Promise.all([launchChromium('media-crash-A'), launchChromium('media-crash-B')]);
  }, STEP);

  after(() => endAll(server, [a, b], 'media-crash'));

  it('B crashes: within seconds A\'s tile of B says so', STEP, async () => {
    await a.join(server.url, 'Ngô Thị Hạnh', 'e2e-media-crash');
    await b.join(server.url, 'Đặng Văn Khoa', 'e2e-media-crash');
    const bId = (await waitForTiles(a, [b.name]))[0].id;
    await waitForLiveTiles(a, [bId]);
    const t0 = Date.now();
    await b.crash();
    const r = await waitUntil('A to mark B\'s tile as stalled', async () => {
      const s = await pageState(a, bId);
      return { ok: s.tileMedia === 'stalled' && !!s.tileLine && !s.tileShowsVideo, detail: JSON.stringify(s), s };
    }, { timeoutMs: 15000, intervalMs: 250 });
    console.log(`A shows ${JSON.stringify(r.s.tileLine)} ${Date.now() - t0} ms after B crashed`);
    assert.ok(r.s.tileLine.includes(b.name));
    assert.equal((await a.tiles()).length, 1, 'B is still in the room (grace period): the state, not a removal');
    console.log(`screenshot: ${await a.screenshot('media-crash-A-stalled.png')}`);
  });
});

describe('a participant whose media cannot connect: the others see "nothing received", not "camera off"', { timeout: 200000 }, () => {
  let server, a, b;

  before(async () => {
    server = await startServer('media-no-udp');
    [a, b] = await Promise.all([launchChromium('media-no-udp-A'), launchChromium('media-no-udp-B')]);
    // B gathers no candidate, so its media can never connect.
    await watchPeerConnections(b, { relayOnly: true });
  }, STEP);

  after(() => endAll(server, [a, b], 'media-no-udp'));

  it('B\'s tile on A\'s page says nothing was received; B\'s page says media failed', STEP, async () => {
    await a.join(server.url, 'Ngô Thị Hạnh', 'e2e-media-no-udp');
    await b.join(server.url, 'Đặng Văn Khoa', 'e2e-media-no-udp');
    const bId = (await waitForTiles(a, [b.name]))[0].id;
    const r = await waitUntil('A to say nothing arrives from B', async () => {
      const s = await pageState(a, bId);
      return { ok: s.tileMedia === 'waiting' && !!s.tileLine && !s.tileShowsVideo, detail: JSON.stringify(s), s };
    }, { timeoutMs: 30000, intervalMs: 250 });
    assert.ok(r.s.tileLine.includes(b.name), r.s.tileLine);
    assert.equal(r.s.health.state, 'connected', 'A\'s own media is fine');
    console.log(`screenshot: ${await a.screenshot('media-no-udp-A.png')}`);
    await waitUntil('B to show that its media failed', async () => {
      const h = await b.page.evaluate(() => window.diemcau.mediaHealth);
      return { ok: h.state === 'retrying' || h.state === 'failed', detail: JSON.stringify(h) };
    }, { timeoutMs: 30000, intervalMs: 250 });
  });
});

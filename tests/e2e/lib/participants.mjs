// Browser participants driving the real meeting page through its documented hooks:
// #name, #room, #role, #join, #leave, #participant-count, .tile[data-participant-id] (a
// video slot's tile while it shows someone's camera) and
// window.diemcau.stats() → {inbound:[{participantId, kind, framesDecoded, packetsReceived,
// bytesReceived, …}], outbound:[…]}.
import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { ARTIFACTS, LOGS } from './server.mjs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const FIREFOX_PATH = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // A hidden/occluded headless page must not throttle timers or WebRTC.
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

// For launchChromium's extraArgs: getDisplayMedia picks the whole (fake) screen without
// showing its picker.
export const FAKE_SCREEN_CAPTURE = ['--auto-select-desktop-capture-source=Entire screen', '--enable-usermedia-screen-capturing'];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() (→ {ok, detail}) until ok or the deadline; throws with the last detail. */
export async function waitUntil(what, fn, { timeoutMs = 30000, intervalMs = 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'never evaluated';
  for (;;) {
    try {
      const r = await fn();
      if (r.ok) return r;
      last = r.detail;
    } catch (e) {
      last = `error: ${e.message}`;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last}`);
    await sleep(intervalMs);
  }
}

class Participant {
  constructor(label, page, closeFn) {
    this.label = label;
    this.page = page;
    this.closeFn = closeFn;
    this.name = null;
    mkdirSync(LOGS, { recursive: true });
    this.consoleLog = createWriteStream(join(LOGS, `browser-${label}.log`));
    page.on('console', (m) => this.consoleLog.write(`[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => this.consoleLog.write(`[pageerror] ${e?.stack || e}\n`));
  }

  /**
   * Opens the page (development mode: the page fetches its own token), fills the form —
   * name, room and role (default `official`) — and clicks #join.
   */
  async join(url, name, room, { role = 'official' } = {}) {
    this.name = name;
    this.role = role;
    await this.openForm(url);
    await this.page.evaluate(
      ([n, r, role]) => {
        for (const [sel, v] of [['#name', n], ['#room', r], ['#role', role]]) {
          const el = document.querySelector(sel);
          if (!el) throw new Error(`page has no ${sel}`);
          el.value = v;
          el.dispatchEvent(new Event('input', { bubbles: true }));
          el.dispatchEvent(new Event('change', { bubbles: true }));
        }
      },
      [name, room, role],
    );
    await this.page.click('#join');
  }

  /** Opens an invitation link (…/?token=…) and clicks #join without typing anything. */
  async joinWithToken(url, token, name) {
    this.name = name;
    const u = new URL(url);
    u.searchParams.set('token', token);
    await this.openForm(u.href);
    await this.page.click('#join');
  }

  /** Loads the page and waits until it knows where its token comes from (body[data-ready]). */
  async openForm(url) {
    await this.page.goto(url, { timeout: 20000 });
    await this.page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  }

  /** A signaling request sent by this page (window.diemcau.request); resolves with the `ok`. */
  async request(type, fields = {}) {
    return this.page.evaluate(([ty, f]) => window.diemcau.request(ty, f), [type, fields]);
  }

  /**
   * From the next page load on, remembers every track getUserMedia hands the page (the
   * real getUserMedia is still called) so that capturedTracks() can tell which are live.
   */
  async watchCapture() {
    const script = () => {
      const md = navigator.mediaDevices;
      if (!md?.getUserMedia) return;
      const real = md.getUserMedia.bind(md);
      window.__captured = [];
      md.getUserMedia = async (c) => {
        const stream = await real(c);
        window.__captured.push(...stream.getTracks());
        return stream;
      };
    };
    if (this.page.addInitScript) await this.page.addInitScript(script);
    else await this.page.evaluateOnNewDocument(script);
  }

  /** Tracks getUserMedia gave this page since watchCapture(): [{kind, readyState}]. */
  async capturedTracks() {
    return this.page.evaluate(() => (window.__captured || []).map((t) => ({ kind: t.kind, readyState: t.readyState })));
  }

  /** Crashes the page's renderer (Chromium): no `leave`, no goodbye, media just stops. */
  async crash() {
    const cdp = await this.page.context().newCDPSession(this.page);
    cdp.send('Page.crash').catch(() => {}); // not awaited: the reply never comes, the page is gone
  }

  async leave() {
    await this.page.click('#leave');
  }

  /** Remote tiles on this page: [{id, name}]. */
  async tiles() {
    return this.page.evaluate(() =>
      [...document.querySelectorAll('.tile[data-participant-id]')].map((t) => ({
        id: t.dataset.participantId,
        name: (t.querySelector('.name')?.textContent || '').trim(),
      })),
    );
  }

  /** #participant-count's data-count: people in the room including this one. */
  async participantCount() {
    return this.page.evaluate(() => {
      const v = document.querySelector('#participant-count')?.dataset.count;
      return v == null ? null : Number(v);
    });
  }

  /** Own participant id as the page knows it (window.diemcau.participantId). */
  async participantId() {
    return this.page.evaluate(() => window.diemcau?.participantId ?? null);
  }

  async stats() {
    return this.page.evaluate(async () => {
      if (!window.diemcau || typeof window.diemcau.stats !== 'function') throw new Error('window.diemcau.stats() missing');
      return await window.diemcau.stats();
    });
  }

  async screenshot(file) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, file);
    await this.page.screenshot({ path });
    return path;
  }

  async close() {
    try { await this.closeFn(); } finally { this.consoleLog.end(); }
  }
}

/** From the next page load on, keeps every RTCPeerConnection the page makes in window.__pcs (for getStats). */
export async function keepPeerConnections(p) {
  await p.page.addInitScript(() => {
    const Orig = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Orig {
      constructor(...a) { super(...a); window.__pcs = [...(window.__pcs || []), this]; }
    };
  });
}

/** extraArgs: more Chromium switches, e.g. to take UDP away from one participant;
 * executablePath: another way to start Chromium (lib/netns.mjs starts it in a site's
 * own network namespace). */
export async function launchChromium(label, extraArgs = [], { executablePath = CHROMIUM_PATH } = {}) {
  const dir = await mkdtemp(join(tmpdir(), `diemcau-e2e-${label}-`));
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(dir, {
      executablePath,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...extraArgs],
      viewport: { width: 1280, height: 720 },
      permissions: ['camera', 'microphone'],
      timeout: 30000,
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const page = ctx.pages()[0] || (await ctx.newPage());
  return new Participant(label, page, async () => {
    try { await ctx.close(); } finally { await rm(dir, { recursive: true, force: true }); }
  });
}

export async function launchFirefox(label) {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    timeout: 30000,
    defaultViewport: { width: 1280, height: 720 },
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.peerconnection.ice.loopback': true,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      // The tests measure remote sound with Web Audio (lib/live.mjs): let it run unclicked.
      'media.autoplay.block-webaudio': false,
      'media.cubeb.force_mock_context': true,
      // With only the fake-stream prefs Firefox counts the page as having no camera
      // permission and gathers only its default-route address ("default address only"
      // privacy mode): nothing at all in a loopback-only namespace, and never 127.0.0.1.
      // A granted default permission makes it gather every host address, loopback
      // included (media.peerconnection.ice.loopback), so it can pair with the server's
      // 127.0.0.1 candidate (nICEr pairs loopback only with loopback).
      'permissions.default.camera': 1,
      'permissions.default.microphone': 1,
    },
  });
  const page = await browser.newPage();
  return new Participant(label, page, () => browser.close());
}

/**
 * For after(): screenshots each participant as `<shotPrefix>-end-<label>.png` (when a prefix
 * is given), closes them all, then stops the server (which fails on a crash or a sanitizer
 * report). Throws the first problem.
 */
export async function endAll(server, people, shotPrefix) {
  const errors = [];
  for (const p of people) {
    if (!p) continue;
    if (shotPrefix) await p.screenshot(`${shotPrefix}-end-${p.label}.png`).catch(() => {});
    await p.close().catch((e) => errors.push(e));
  }
  if (server) await server.stop();
  if (errors.length) throw errors[0];
}

// ---- media checks ------------------------------------------------------------------

/** Waits until p's remote tiles are exactly the given names; returns [{id, name}]. */
export async function waitForTiles(p, names, { timeoutMs = 30000 } = {}) {
  const want = [...names].sort();
  const r = await waitUntil(
    `${p.label} to show tiles for [${want.join(', ')}]`,
    async () => {
      const t = await p.tiles();
      const got = t.map((x) => x.name).sort();
      return { ok: JSON.stringify(got) === JSON.stringify(want), detail: JSON.stringify(t), tiles: t };
    },
    { timeoutMs },
  );
  return r.tiles;
}

export async function waitForCount(p, n, opts) {
  return waitUntil(`${p.label}'s #participant-count to be ${n}`, async () => {
    const c = await p.participantCount();
    return { ok: c === n, detail: `data-count=${c}` };
  }, opts);
}

/** Also checks that outbound media is flowing from p (its camera and microphone are sent). */
export async function waitForSending(p, { timeoutMs = 30000 } = {}) {
  return waitUntil(
    `${p.label} to send audio and video`,
    async () => {
      const a = await p.stats();
      await sleep(1000);
      const b = await p.stats();
      const ok = ['audio', 'video'].every((k) => {
        const x = a.outbound.find((s) => s.kind === k), y = b.outbound.find((s) => s.kind === k);
        return x && y && y.bytesSent > x.bytesSent;
      });
      return { ok, detail: JSON.stringify(b.outbound) };
    },
    { timeoutMs, intervalMs: 0 },
  );
}

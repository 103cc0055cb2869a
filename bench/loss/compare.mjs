// The same random loss toward a subscriber, our server and Janus VideoRoom, in one run
// (issue 12's targets). Run through bench/loss-compare.sh (inside tests/run-in-netns.sh).
//
// Per round and target: a fresh server (ours from $DIEMCAU_BIN, or Janus 1.1.2 started
// by bench/janus/start.sh), one Chromium publisher on the clean side (the run's own
// namespace) and one Chromium subscriber in a site namespace (tests/e2e/lib/netns.mjs)
// whose incoming UDP loses a random share (nftables numgen). For each loss level the
// subscriber page is watched for SECONDS: frames its <video> presents
// (requestVideoFrameCallback), the longest gap between two, and getStats deltas. Targets
// rotate between rounds; the tables give medians over the rounds.
//
//   node bench/loss/compare.mjs [--rounds 3] [--seconds 20] [--losses 0,5,10]
//        [--targets ours,janus,ours-nonack] [--fps 30] [--out DIR]
import { createServer } from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSiteLink } from '../../tests/e2e/lib/netns.mjs';
import { startServer } from '../../tests/e2e/lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, waitUntil, endAll } from '../../tests/e2e/lib/participants.mjs';
import { waitForLiveTiles } from '../../tests/e2e/lib/live.mjs';
import { summarize, markdownTable } from './summary.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

function options(argv) {
  const o = { rounds: 3, seconds: 20, losses: [0, 5, 10], targets: ['ours', 'janus', 'ours-nonack'], fps: 30, out: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--rounds') o.rounds = Number(v);
    else if (k === '--seconds') o.seconds = Number(v);
    else if (k === '--losses') o.losses = v.split(',').map(Number);
    else if (k === '--targets') o.targets = v.split(',');
    else if (k === '--fps') o.fps = Number(v);
    else if (k === '--out') o.out = v;
    else throw new Error(`unknown option ${k} (see the head of bench/loss/compare.mjs)`);
  }
  return o;
}

const opt = options(process.argv.slice(2));
// Chromium's fake camera (a moving test pattern) at the source rate asked for: it gives
// 20 frames/s unless told (`fps=`). The later switch wins over tests/e2e's plain one.
const FAKE_CAMERA = [`--use-fake-device-for-media-stream=fps=${opt.fps}`];
const PUBLISHER = 'Trụ sở huyện';
const VIEWER = 'Xã Tân Phú';
// ours --nack false: its loss levels (the baseline at 5 %; 0 % first, as the warm-up the
// other targets get from their own 0 % window)
const NONACK_LOSSES = [0, 5];

const load = () => loadavg().map((x) => Math.round(x * 100) / 100);

// ---- what the subscriber perceives --------------------------------------------------

/** In the page: presented frames of the <video> at `selector` over `ms`: count, per
 * second, the longest gap between two frames (window edges included), gaps over 1 s. */
async function watchVideo([selector, ms]) {
  const video = document.querySelector(selector);
  if (!video) return { error: `no ${selector}` };
  const times = [];
  let done = false;
  const tick = (now) => {
    if (done) return;
    times.push(now);
    video.requestVideoFrameCallback(tick);
  };
  const start = performance.now();
  video.requestVideoFrameCallback(tick);
  await new Promise((r) => setTimeout(r, ms));
  done = true;
  const end = performance.now();
  const points = [start, ...times.filter((t) => t >= start && t <= end), end];
  const gaps = points.slice(1).map((t, i) => t - points[i]);
  const perSecond = new Array(Math.ceil(ms / 1000)).fill(0);
  for (const t of points.slice(1, -1)) perSecond[Math.min(perSecond.length - 1, Math.floor((t - start) / 1000))]++;
  return {
    frames: points.length - 2,
    seconds: (end - start) / 1000,
    longestGapMs: Math.round(Math.max(...gaps)),
    gapsOver1s: gaps.filter((g) => g > 1000).length,
    perSecond,
    width: video.videoWidth,
    height: video.videoHeight,
  };
}

const INBOUND_FIELDS = ['packetsReceived', 'packetsLost', 'nackCount', 'pliCount', 'retransmittedPacketsReceived',
  'framesDecoded', 'keyFramesDecoded', 'freezeCount', 'totalFreezesDuration', 'concealedSamples', 'totalSamplesReceived'];

/** In the page (both targets alike, through window.__pcs): getStats of the inbound video
 * stream that feeds the <video> at `selector` (by its track id), and of the audio stream
 * that received the most packets (ours has an audio slot per use; one carries the sound). */
async function inboundInPage([selector, fields]) {
  const trackId = document.querySelector(selector)?.srcObject?.getVideoTracks?.()[0]?.id;
  let video = null;
  let audio = null;
  for (const pc of window.__pcs || []) {
    if (pc.connectionState === 'closed') continue;
    for (const s of (await pc.getStats()).values()) {
      if (s.type !== 'inbound-rtp') continue;
      if (s.kind === 'video' && s.trackIdentifier === trackId) video = s;
      if (s.kind === 'audio' && (s.packetsReceived ?? 0) > (audio?.packetsReceived ?? -1)) audio = s;
    }
  }
  const pick = (s) => Object.fromEntries(fields.map((k) => [k, s?.[k] ?? 0]));
  return { video: pick(video), audio: pick(audio), found: !!video };
}

async function inbound(sub, selector) {
  const r = await sub.page.evaluate(inboundInPage, [selector, INBOUND_FIELDS]);
  if (!r.found) throw new Error(`${sub.label}: no inbound-rtp for the track of ${selector}`);
  return r;
}

/** Before a page loads: keeps every RTCPeerConnection it makes in window.__pcs, so that
 * the bench reads the numbers of both targets' pages the same way. */
async function keepPeerConnections(p) {
  await p.page.addInitScript(() => {
    const Real = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (...args) {
      const pc = new Real(...args);
      window.__pcs.push(pc);
      return pc;
    };
    window.RTCPeerConnection.prototype = Real.prototype;
  });
}

/** The publisher's camera as it leaves: frames encoded, bytes sent, its frame width, and
 * the send-side bandwidth estimate (availableOutgoingBitrate of the selected pair). */
async function sent(pub) {
  return pub.page.evaluate(async () => {
    const out = { framesEncoded: 0, bytesSent: 0, width: 0, bwe: 0 };
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      const stats = [...(await pc.getStats()).values()];
      const video = stats.find((s) => s.type === 'outbound-rtp' && s.kind === 'video');
      if (!video) continue;
      const transport = stats.find((s) => s.type === 'transport');
      const pair = stats.find((s) => s.type === 'candidate-pair' && s.id === transport?.selectedCandidatePairId)
        || stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
      return { framesEncoded: video.framesEncoded ?? 0, bytesSent: video.bytesSent ?? 0, width: video.frameWidth ?? 0,
        bwe: pair?.availableOutgoingBitrate ?? 0 };
    }
    return out;
  });
}

// Both servers cap the publisher at 1.5 Mbit/s by REMB (ours always, Janus by the room's
// bitrate); Chromium starts near 300 kbit/s and climbs. The windows begin once its estimate
// is near the cap, so that both targets are measured on the same stream.
const CAP_BPS = 1500000;
async function warmUp(pub, label) {
  const t0 = Date.now();
  let last = null;
  try {
    await waitUntil(`${label}: the publisher's bandwidth estimate to reach 90 % of ${CAP_BPS}`, async () => {
      last = await sent(pub);
      return { ok: last.bwe >= 0.9 * CAP_BPS, detail: JSON.stringify(last) };
    }, { timeoutMs: 45000, intervalMs: 500 });
  } catch (e) {
    console.log(`${label}: ${e.message} — measuring anyway`);
  }
  return { seconds: Math.round((Date.now() - t0) / 100) / 10, bwe: last?.bwe ?? 0, width: last?.width ?? 0 };
}

/** One window: the subscriber's page watched for opt.seconds, stats before and after. */
async function measure(sub, pub, selector) {
  const loadBefore = load();
  const [inBefore, sentBefore] = await Promise.all([inbound(sub, selector), sent(pub)]);
  const seen = await sub.page.evaluate(watchVideo, [selector, opt.seconds * 1000]);
  const [inAfter, sentAfter] = await Promise.all([inbound(sub, selector), sent(pub)]);
  if (seen.error) throw new Error(seen.error);
  const d = (kind, k) => inAfter[kind][k] - inBefore[kind][k];
  const samples = d('audio', 'totalSamplesReceived');
  return {
    fps: Math.round((seen.frames / seen.seconds) * 10) / 10,
    longestGapMs: seen.longestGapMs,
    gapsOver1s: seen.gapsOver1s,
    perSecond: seen.perSecond,
    size: `${seen.width}x${seen.height}`,
    freezeCount: d('video', 'freezeCount'),
    freezeSeconds: Math.round(d('video', 'totalFreezesDuration') * 100) / 100,
    nackCount: d('video', 'nackCount'),
    retransmitted: d('video', 'retransmittedPacketsReceived'),
    plis: d('video', 'pliCount'),
    keyFrames: d('video', 'keyFramesDecoded'),
    videoPackets: d('video', 'packetsReceived'),
    videoLost: d('video', 'packetsLost'),
    decodedFps: Math.round((d('video', 'framesDecoded') / seen.seconds) * 10) / 10,
    concealed: samples > 0 ? Math.round((d('audio', 'concealedSamples') / samples) * 10000) / 10000 : null,
    sourceFps: Math.round(((sentAfter.framesEncoded - sentBefore.framesEncoded) / seen.seconds) * 10) / 10,
    sourceKbps: Math.round(((sentAfter.bytesSent - sentBefore.bytesSent) * 8) / seen.seconds / 1000),
    sourceWidth: sentAfter.width,
    bweKbps: Math.round(sentAfter.bwe / 1000),
    load: [loadBefore[0], load()[0]], // 1-minute load average before and after the window
  };
}

/** Watches each loss level in turn on a connected publisher/subscriber pair. */
async function measureLosses(link, losses, sub, pub, selector, tag) {
  const out = { warmUp: await warmUp(pub, tag) };
  console.log(`${tag} warm-up: ${JSON.stringify(out.warmUp)}`);
  for (const loss of losses) {
    link.clear();
    if (loss) link.dropIncoming(loss / 100);
    out[loss] = await measure(sub, pub, selector);
    console.log(`${tag} ${loss}%: ${JSON.stringify(out[loss])}`);
  }
  link.clear();
  return out;
}

// ---- targets ------------------------------------------------------------------------

async function runOurs(link, losses, { nack, tag }) {
  const server = await startServer(tag, [...link.serverArgs(), '--nack', String(nack)]);
  const people = [];
  try {
    const pub = await launchChromium(`${tag}-pub`, FAKE_CAMERA);
    people.push(pub);
    await keepPeerConnections(pub);
    const sub = await launchChromium(`${tag}-sub`, [...link.chromiumArgs(server.httpPort), ...FAKE_CAMERA],
      { executablePath: link.chromiumPath });
    people.push(sub);
    await keepPeerConnections(sub);
    const room = `loss-compare-${tag}`;
    await pub.join(server.url, PUBLISHER, room);
    await waitForSending(pub);
    // an observer receives only, as the Janus page's subscriber does
    await sub.join(link.pageUrl(server.httpPort), VIEWER, room, { role: 'observer' });
    const [tile] = await waitForTiles(sub, [PUBLISHER]);
    await waitForLiveTiles(sub, [tile.id], { timeoutMs: 60000 });
    const own = (await sub.stats()).outbound.filter((o) => o.packetsSent > 0);
    if (own.length) throw new Error(`the observer sends media, unlike the Janus subscriber: ${JSON.stringify(own)}`);
    return await measureLosses(link, losses, sub, pub, `.tile[data-participant-id="${tile.id}"] video`, tag);
  } finally {
    link.clear();
    await endAll(server, people, null);
  }
}

/** A static server for janus-page.{html,js} on every address of the run's namespace. */
async function servePage() {
  const files = { '/janus-page.html': 'text/html', '/janus-page.js': 'text/javascript' };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (!files[path]) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': `${files[path]}; charset=utf-8` }).end(readFileSync(join(HERE, path.slice(1))));
  });
  await new Promise((r) => server.listen(0, '0.0.0.0', r));
  return server;
}

/** Janus 1.1.2 by bench/janus/start.sh: WebSocket and ICE on the site link's server-side
 * address (Janus never gathers loopback candidates); default NACK settings. */
function startJanus(link, tag) {
  const dir = mkdtempSync(join(tmpdir(), `loss-compare-${tag}-`));
  const out = execFileSync('bash', [join(ROOT, 'bench/janus/start.sh'), '--dir', dir, '--ws-ip', link.hostIp,
    '--ice-enforce', link.hostIf, '--room', 'bench'], { encoding: 'utf8' });
  const v = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  const pid = Number(v.JANUS_PID);
  return {
    url: v.JANUS_URL,
    async stop() {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      await waitUntil('janus to exit', async () => {
        try { process.kill(pid, 0); return { ok: false, detail: 'running' }; } catch { return { ok: true }; }
      }, { timeoutMs: 10000, intervalMs: 100 }).catch(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
      mkdirSync(join(ROOT, 'tests/artifacts/logs/loss-compare'), { recursive: true });
      try { execFileSync('cp', [join(dir, 'janus.log'), join(ROOT, `tests/artifacts/logs/loss-compare/janus-${tag}.log`)]); } catch { /* no log */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function janusConnected(p) {
  const r = await waitUntil(`${p.label}'s Janus page to connect`, async () => {
    const s = await p.page.evaluate(() => ({ state: window.janusLoss?.state, error: window.janusLoss?.error }));
    if (s.state === 'failed') throw new Error(s.error);
    return { ok: s.state === 'connected', detail: JSON.stringify(s) };
  }, { timeoutMs: 30000, intervalMs: 200 });
  return r;
}

async function runJanus(link, losses, { tag }) {
  const janus = startJanus(link, tag);
  const page = await servePage();
  const port = page.address().port;
  const people = [];
  try {
    const room = `lc${tag.replace(/[^A-Za-z0-9]/g, '')}`;
    const pub = await launchChromium(`${tag}-pub`, FAKE_CAMERA);
    people.push(pub);
    await keepPeerConnections(pub);
    await pub.page.goto(`http://127.0.0.1:${port}/janus-page.html?role=pub&room=${room}&ws=${encodeURIComponent(janus.url)}`);
    await janusConnected(pub);
    const feed = await pub.page.evaluate(() => window.janusLoss.feedId);
    const sub = await launchChromium(`${tag}-sub`, [...link.chromiumArgs(port), ...FAKE_CAMERA], { executablePath: link.chromiumPath });
    people.push(sub);
    await keepPeerConnections(sub);
    await sub.page.goto(`${link.pageUrl(port)}janus-page.html?role=sub&room=${room}&feed=${encodeURIComponent(feed)}&ws=${encodeURIComponent(janus.url)}`);
    await janusConnected(sub);
    await waitUntil(`${sub.label} to show moving video`, async () => {
      const s = await sub.page.evaluate(watchVideo, ['#remote', 1000]);
      return { ok: s.frames >= 3 && s.width > 0, detail: JSON.stringify(s) };
    }, { timeoutMs: 60000, intervalMs: 200 });
    return await measureLosses(link, losses, sub, pub, '#remote', tag);
  } finally {
    link.clear();
    await endAll(null, people, null);
    page.close();
    await janus.stop();
  }
}

const RUNNERS = {
  ours: (link, tag) => runOurs(link, opt.losses, { nack: true, tag }),
  'ours-nonack': (link, tag) => runOurs(link, NONACK_LOSSES.filter((l) => opt.losses.includes(l)), { nack: false, tag }),
  janus: (link, tag) => runJanus(link, opt.losses, { tag }),
};

/** "Janus version: 1102 (1.1.2)": janus prints it, then exits 1 on --version. */
function janusVersion() {
  try { return execFileSync('janus', ['--version'], { encoding: 'utf8' }).split('\n')[0]; } catch (e) { return String(e.stdout).split('\n')[0]; }
}

// ---- the run --------------------------------------------------------------------------

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = opt.out || join(ROOT, 'bench/out', `loss-compare-${stamp}`);
mkdirSync(outDir, { recursive: true });
const run = {
  started: new Date().toISOString(),
  options: opt,
  host: { cpus: cpus().length, model: cpus()[0]?.model, load: load() },
  chromium: execFileSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim(),
  janus: janusVersion(),
  rounds: [],
};
const link = makeSiteLink('losscmp');
try {
  for (let r = 0; r < opt.rounds; r++) {
    const order = opt.targets.map((_, i) => opt.targets[(i + r) % opt.targets.length]); // rotate per round
    const round = { round: r + 1, order, results: {} };
    for (const target of order) {
      const tag = `lc-r${r + 1}-${target}`;
      console.log(`round ${r + 1}: ${target} (load ${load().join(' ')})`);
      round.results[target] = await RUNNERS[target](link, tag);
    }
    run.rounds.push(round);
    writeFileSync(join(outDir, 'rounds.json'), JSON.stringify(run, null, 1));
  }
} finally {
  await link.remove();
}
run.finished = new Date().toISOString();
run.summary = summarize(run);
writeFileSync(join(outDir, 'rounds.json'), JSON.stringify(run, null, 1));
const table = markdownTable(run);
writeFileSync(join(outDir, 'table.md'), table);
console.log(`\n${table}\nwritten to ${outDir}`);

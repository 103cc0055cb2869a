// Redundant audio (RFC 2198 RED, issue 12 §2): one Chromium publisher in the test's
// namespace, one Chromium viewer in a site namespace whose incoming UDP loses 10 % at
// random (lib/netns.mjs). Audio is not retransmitted: what keeps it whole is Opus in-band
// FEC and, where negotiated, RED — each packet also carries the one before it.
//
// The same link is measured against a server with RED off (--red false) and one with it
// on; both figures are logged. With RED the viewer's sound stays without audible gaps
// (concealed samples, NetEq's stand-ins for lost audio, under 2 % of those received) and
// both pages negotiated audio/red. Then a viewer that refuses RED (its answer leaves it
// out, through setCodecPreferences) still plays the RED publisher's sound: the server
// strips each RED packet to its primary block.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeSiteLink } from './lib/netns.mjs';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitForTiles, waitForSending, endAll } from './lib/participants.mjs';
import { probeTiles, waitForLiveTiles } from './lib/live.mjs';

const SECONDS = 12; // measured per condition: ~600 audio packets, ~60 of them lost
const LOSS = 0.1;
const PUBLISHER = 'Trụ sở huyện';
const VIEWER = 'Xã Tân Phú';

/** From the next page load on, the page keeps its PeerConnections in window.__pcs (the
 * negotiated SDP is read from them: getStats names Opus as the codec even of RED), and with
 * `refuse` its subscribe answers leave RED out, as a receiver without RED would answer. */
async function watchPcs(p, refuse) {
  const script = (refuseRed) => {
    const Real = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Real {
      constructor(...args) { super(...args); window.__pcs.push(this); }
    };
    if (!refuseRed) return;
    const real = Real.prototype.createAnswer;
    RTCPeerConnection.prototype.createAnswer = function createAnswer(...args) {
      const caps = RTCRtpReceiver.getCapabilities('audio');
      const codecs = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== 'audio/red');
      for (const tr of this.getTransceivers())
        if (tr.receiver.track?.kind === 'audio') tr.setCodecPreferences(codecs);
      return real.apply(this, args);
    };
  };
  if (p.page.addInitScript) await p.page.addInitScript(script, refuse);
  else await p.page.evaluateOnNewDocument(script, refuse);
}

/** The codecs (rtpmap names, m-line order) of the first audio m-line of the page's open
 * PeerConnections' `which` description where that is an answer (a viewer publishes too:
 * its publishing connection's local description is an offer): [[name…]…]. */
async function audioCodecs(p, which) {
  return p.page.evaluate((w) => window.__pcs.filter((pc) => pc.connectionState !== 'closed' && pc[w]?.type === 'answer').map((pc) => {
    const sdp = pc[w].sdp;
    const m = sdp.match(/^m=audio \S+ \S+ ([\d ]+)\r?$/m);
    if (!m) return null;
    return m[1].split(' ').map((pt) => (sdp.match(new RegExp(`^a=rtpmap:${pt} ([^/]+)/`, 'm')) || [])[1] || pt);
  }).filter(Boolean), which);
}

/** The viewer's inbound audio from id (lib/stats.js). */
async function audioStats(sub, id) {
  const s = await sub.stats();
  return s.inbound.find((e) => e.participantId === id && e.kind === 'audio' && e.active) || {};
}

/** How far the viewer's <audio> elements for id have played (seconds, the largest). */
async function audioTime(sub, id) {
  return sub.page.evaluate((pid) => Math.max(0, ...[...document.querySelectorAll(
    `#audio-sinks audio[data-participant-id="${CSS.escape(pid)}"]`)].map((a) => a.currentTime)), id);
}

/** SECONDS seconds of the link at LOSS interleaved with SECONDS on the clean link, one
 * second each in turn, so that what the busy machine itself conceals (a starved page, a
 * late server) falls on both alike: per condition the share of audio samples concealed,
 * packets, octets a packet, packets lost, each second's loudness and how far the audio
 * element played. The loss's own share is lossy.concealed − clean.concealed. */
async function measure(sub, id, link) {
  const sums = { clean: {}, lossy: {} };
  const peaks = { clean: [], lossy: [] };
  for (let i = 0; i < 2 * SECONDS; i++) {
    const cond = i % 2 ? 'lossy' : 'clean';
    if (cond === 'lossy') link.dropIncoming(LOSS);
    else link.clear();
    const before = await audioStats(sub, id);
    const t0 = await audioTime(sub, id);
    const r = (await probeTiles(sub, [id], 1000))[id];
    peaks[cond].push(Math.max(0, ...(r.audio || []).map((a) => a.peak)));
    const after = await audioStats(sub, id);
    const t1 = await audioTime(sub, id);
    const add = (k, v) => { sums[cond][k] = (sums[cond][k] ?? 0) + v; };
    for (const k of ['concealedSamples', 'totalSamplesReceived', 'packetsReceived', 'bytesReceived', 'packetsLost'])
      add(k, (after[k] ?? 0) - (before[k] ?? 0));
    add('played', t1 - t0);
  }
  link.clear();
  const of = (cond) => {
    const x = sums[cond];
    return {
      concealed: x.totalSamplesReceived > 0 ? Math.round((x.concealedSamples / x.totalSamplesReceived) * 1000) / 1000 : null,
      packets: x.packetsReceived,
      bytesPerPacket: x.packetsReceived > 0 ? Math.round(x.bytesReceived / x.packetsReceived) : 0,
      lost: x.packetsLost,
      peaks: peaks[cond],
      played: Math.round(x.played * 10) / 10,
    };
  };
  const m = { lossy: of('lossy'), clean: of('clean') };
  m.byLoss = m.lossy.concealed === null || m.clean.concealed === null ? null
    : Math.round((m.lossy.concealed - m.clean.concealed) * 1000) / 1000;
  return m;
}

/** A server (`red` on or off), the publisher outside and the viewer behind the link, which
 * loses LOSS of what the viewer receives every other second. */
async function measureRed(link, { red, viewerRefusesRed = false, label }) {
  const server = await startServer(`red-${label}`, [...link.serverArgs(), '--red', String(red)]);
  const people = [];
  try {
    const [pub, sub] = await Promise.all([
      launchChromium(`red-${label}-pub`),
      launchChromium(`red-${label}-sub`, link.chromiumArgs(server.httpPort), { executablePath: link.chromiumPath }),
    ]);
    people.push(pub, sub);
    await watchPcs(pub, false);
    await watchPcs(sub, viewerRefusesRed);
    link.clear();
    await pub.join(server.url, PUBLISHER, `e2e-red-${label}`);
    await waitForSending(pub);
    await sub.join(link.pageUrl(server.httpPort), VIEWER, `e2e-red-${label}`);
    const [tile] = await waitForTiles(sub, [PUBLISHER]);
    // the sound plays before the loss starts
    await waitForLiveTiles(sub, [tile.id], { timeoutMs: 60000, video: false });
    const m = await measure(sub, tile.id, link);
    // as negotiated: the server's answer to the publisher (RED first: it sends RED), the
    // viewer's answer to the server's subscription offer
    m.publishAnswer = (await audioCodecs(pub, 'currentRemoteDescription'))[0] || [];
    m.subscribeAnswer = (await audioCodecs(sub, 'currentLocalDescription')).find((c) => c.includes('opus')) || [];
    console.log(`red ${label} @${LOSS * 100}%: ${JSON.stringify(m)}`);
    return m;
  } finally {
    link.clear();
    await endAll(server, people, `red-${label}`);
  }
}

describe('red: audio through 10 % loss', { timeout: 1200000 }, () => {
  let link;
  const m = {};

  before(() => { link = makeSiteLink('red'); });
  after(async () => { await link?.remove(); });

  /** A viewer that plays the sound: loud in nearly every second (the fake microphone's
   * beeps are short and periodic, a window now and then holds none), its audio element's
   * clock running, packets arriving. */
  function assertPlays(r, what) {
    assert.ok(r.peaks.filter((p) => p > 0.01).length >= SECONDS - 2, `${what}: seconds without sound: ${r.peaks}`);
    assert.ok(r.played >= SECONDS - 1.5, `${what}: the audio element played ${r.played} s of ${SECONDS}`);
    assert.ok(r.packets > 30 * SECONDS, `${what}: audio packets: ${r.packets}`);
  }

  it('without RED (--red false): Opus alone, measured', { timeout: 360000 }, async () => {
    m.off = await measureRed(link, { red: false, label: 'off' });
    assert.deepEqual([m.off.publishAnswer, m.off.subscribeAnswer], [['opus'], ['opus']], JSON.stringify(m.off));
    assertPlays(m.off.clean, 'without RED, clean');
  });

  it('with RED: audio/red on both sides, the sound without gaps', { timeout: 360000 }, async () => {
    m.on = await measureRed(link, { red: true, label: 'on' });
    console.log(`red: concealed at ${LOSS * 100} % loss beyond the clean link's: without RED ${m.off?.byLoss}, with RED ${m.on.byLoss}`);
    assert.deepEqual(m.on.publishAnswer, ['red', 'opus'], `the publisher sends RED: ${JSON.stringify(m.on)}`);
    assert.ok(m.on.subscribeAnswer.includes('red'), `the viewer takes RED: ${JSON.stringify(m.on)}`);
    // RED carries each packet twice: about double the octets of plain Opus
    assert.ok(m.on.clean.bytesPerPacket > 1.6 * m.off.clean.bytesPerPacket,
      `RED reaches the viewer: ${m.on.clean.bytesPerPacket} octets a packet, Opus alone ${m.off.clean.bytesPerPacket}`);
    assert.ok(m.on.lossy.lost > 0, `the link lost packets: ${JSON.stringify(m.on.lossy)}`);
    // what the loss adds to the concealed audio: under 2 % with RED, under half of Opus alone's
    assert.ok(m.on.byLoss !== null && m.on.byLoss < 0.02, `concealed by the loss with RED: ${JSON.stringify(m.on)}`);
    assert.ok(m.on.byLoss < 0.5 * m.off.byLoss, `RED conceals less: ${m.on.byLoss}, without ${m.off.byLoss}`);
    assertPlays(m.on.lossy, 'RED at 10 %');
  });

  it('a viewer that refuses RED still plays a RED publisher (stripped to Opus)', { timeout: 360000 }, async () => {
    const s = await measureRed(link, { red: true, viewerRefusesRed: true, label: 'stripped' });
    assert.deepEqual(s.publishAnswer, ['red', 'opus'], `the publisher sends RED: ${JSON.stringify(s)}`);
    assert.deepEqual(s.subscribeAnswer, ['opus'], `the viewer refused RED: ${JSON.stringify(s)}`);
    // the server stripped RED to its primary block: the octets of plain Opus
    assert.ok(s.clean.bytesPerPacket < 0.7 * m.on.clean.bytesPerPacket,
      `stripped: ${s.clean.bytesPerPacket} octets a packet, RED ${m.on.clean.bytesPerPacket}`);
    assertPlays(s.clean, 'stripped, clean');
    assertPlays(s.lossy, 'stripped at 10 %');
  });
});

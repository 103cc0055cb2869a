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
import { launchChromium, waitForTiles, waitForSending, waitUntil, endAll } from './lib/participants.mjs';
import { probeTiles } from './lib/live.mjs';

const SECONDS = 10; // measured per condition
const LOSS = 0.1;
const PUBLISHER = 'Trụ sở huyện';
const VIEWER = 'Xã Tân Phú';

/** From the next page load on, the page's subscribe answers leave RED out (as a receiver
 * without RED would answer). */
async function refuseRed(p) {
  const script = () => {
    const real = RTCPeerConnection.prototype.createAnswer;
    RTCPeerConnection.prototype.createAnswer = function createAnswer(...args) {
      const caps = RTCRtpReceiver.getCapabilities('audio');
      const codecs = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== 'audio/red');
      for (const tr of this.getTransceivers())
        if (tr.receiver.track?.kind === 'audio') tr.setCodecPreferences(codecs);
      return real.apply(this, args);
    };
  };
  if (p.page.addInitScript) await p.page.addInitScript(script);
  else await p.page.evaluateOnNewDocument(script);
}

/** The viewer's inbound audio from id and the publisher's outbound audio (lib/stats.js). */
async function audioStats(sub, id, pub) {
  const s = await sub.stats();
  const p = await pub.stats();
  return {
    in: s.inbound.find((e) => e.participantId === id && e.kind === 'audio' && e.active) || {},
    out: p.outbound.find((e) => e.kind === 'audio') || {},
  };
}

/** How far the viewer's <audio> elements for id have played (seconds, the largest). */
async function audioTime(sub, id) {
  return sub.page.evaluate((pid) => Math.max(0, ...[...document.querySelectorAll(
    `#audio-sinks audio[data-participant-id="${CSS.escape(pid)}"]`)].map((a) => a.currentTime)), id);
}

/** SECONDS one-second loudness probes of id's sound, getStats and the audio element's
 * clock before and after. */
async function measure(sub, id, pub) {
  const before = await audioStats(sub, id, pub);
  const t0 = await audioTime(sub, id);
  const peaks = [];
  for (let i = 0; i < SECONDS; i++) {
    const r = (await probeTiles(sub, [id], 1000))[id];
    peaks.push(Math.max(0, ...(r.audio || []).map((a) => a.peak)));
  }
  const after = await audioStats(sub, id, pub);
  const played = Math.round(((await audioTime(sub, id)) - t0) * 10) / 10;
  const d = (k) => (after.in[k] ?? 0) - (before.in[k] ?? 0);
  const samples = d('totalSamplesReceived');
  return {
    concealed: samples > 0 ? Math.round((d('concealedSamples') / samples) * 1000) / 1000 : null,
    packets: d('packetsReceived'),
    bytesPerPacket: d('packetsReceived') > 0 ? Math.round(d('bytesReceived') / d('packetsReceived')) : 0,
    lost: d('packetsLost'),
    peaks,
    played,
    inCodec: after.in.codec,
    outCodec: after.out.codec,
  };
}

/** A server (`red` on or off), the publisher outside and the viewer behind the lossy link;
 * the viewer measured at LOSS. */
async function measureRed(link, { red, viewerRefusesRed = false, label }) {
  const server = await startServer(`red-${label}`, [...link.serverArgs(), '--red', String(red)]);
  const people = [];
  try {
    const [pub, sub] = await Promise.all([
      launchChromium(`red-${label}-pub`),
      launchChromium(`red-${label}-sub`, link.chromiumArgs(server.httpPort), { executablePath: link.chromiumPath }),
    ]);
    people.push(pub, sub);
    if (viewerRefusesRed) await refuseRed(sub);
    link.clear();
    await pub.join(server.url, PUBLISHER, `e2e-red-${label}`);
    await waitForSending(pub);
    await sub.join(link.pageUrl(server.httpPort), VIEWER, `e2e-red-${label}`);
    const [tile] = await waitForTiles(sub, [PUBLISHER]);
    // the sound arrives before the loss starts
    await waitUntil(`${label}: sound from the publisher`, async () => {
      const r = (await probeTiles(sub, [tile.id], 500))[tile.id];
      return (r.audio || []).some((a) => a.peak > 0.01);
    }, { timeoutMs: 60000 });
    link.dropIncoming(LOSS);
    const m = await measure(sub, tile.id, pub);
    console.log(`red ${label} @${LOSS * 100}%: ${JSON.stringify(m)}`);
    return m;
  } finally {
    link.clear();
    await endAll(server, people, `red-${label}`);
  }
}

describe('red: audio through 10 % loss', { timeout: 400000 }, () => {
  let link;
  const m = {};

  before(() => { link = makeSiteLink('red'); });
  after(async () => { await link?.remove(); });

  it('without RED (--red false): Opus alone, measured', { timeout: 120000 }, async () => {
    m.off = await measureRed(link, { red: false, label: 'off' });
    assert.equal(m.off.inCodec, 'audio/opus', `without RED the viewer receives Opus: ${JSON.stringify(m.off)}`);
  });

  it('with RED: audio/red on both sides, the sound without gaps', { timeout: 120000 }, async () => {
    m.on = await measureRed(link, { red: true, label: 'on' });
    console.log(`red: concealed at ${LOSS * 100}% loss: without RED ${m.off?.concealed}, with RED ${m.on.concealed}`);
    assert.equal(m.on.outCodec, 'audio/red', `the publisher sends RED: ${JSON.stringify(m.on)}`);
    assert.equal(m.on.inCodec, 'audio/red', `the viewer receives RED: ${JSON.stringify(m.on)}`);
    assert.ok(m.on.lost > 0, `the link lost packets: ${JSON.stringify(m.on)}`);
    assert.ok(m.on.concealed !== null && m.on.concealed < 0.02, `concealed audio with RED: ${m.on.concealed}`);
    assert.ok(m.on.peaks.filter((p) => p > 0.01).length >= SECONDS - 2, `seconds without sound: ${m.on.peaks}`);
    assert.ok(m.on.played >= SECONDS - 1.5, `the audio element played ${m.on.played} s of ${SECONDS}`);
  });

  it('a viewer that refuses RED still plays a RED publisher (stripped to Opus)', { timeout: 120000 }, async () => {
    const s = await measureRed(link, { red: true, viewerRefusesRed: true, label: 'stripped' });
    assert.equal(s.outCodec, 'audio/red', `the publisher sends RED: ${JSON.stringify(s)}`);
    assert.equal(s.inCodec, 'audio/opus', `the viewer receives plain Opus: ${JSON.stringify(s)}`);
    assert.ok(s.packets > 30 * SECONDS, `audio packets arrive: ${JSON.stringify(s)}`);
    assert.ok(s.peaks.filter((p) => p > 0.01).length >= SECONDS - 2, `seconds without sound: ${s.peaks}`);
    assert.ok(s.played >= SECONDS - 1.5, `the audio element played ${s.played} s of ${SECONDS}`);
  });
});

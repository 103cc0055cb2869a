// Loss-repair measurements for tests/e2e/loss*.test.mjs: one Chromium publisher, one
// Chromium viewer, one of them in a site namespace (lib/netns.mjs) whose link loses a random
// share of its UDP. What the viewer perceives is measured on its page — frames its tile's
// <video> presents each second (probeTiles), its audio element's loudness each second —
// beside getStats (freezes, NACKs, retransmissions, concealed audio samples).
import { startServer } from './server.mjs';
import { launchChromium, waitForTiles, waitForSending, endAll } from './participants.mjs';
import { waitForLiveTiles, probeTiles } from './live.mjs';

export const SECONDS = 10; // measured per condition
const PUBLISHER = 'Trụ sở huyện';
const VIEWER = 'Xã Tân Phú';
const ROOM_OF = (label) => `e2e-${label}`;

/** The viewer's inbound getStats entries for the publisher: {video, audio}. */
async function inbound(p, id) {
  const s = await p.stats();
  const of = (kind) => s.inbound.find((e) => e.participantId === id && e.kind === kind && e.active);
  return { video: of('video'), audio: of('audio') };
}

/** The publisher's video as its getStats sees it: what it resent, what the server's
 * receiver reports said it lost. */
async function published(pub) {
  const s = await pub.stats();
  return s.outbound.find((e) => e.kind === 'video') || {};
}

/** SECONDS one-second probes of id's tile on p's page, with getStats before and after
 * (the viewer's, and the publisher's `pub`). */
async function measure(p, id, pub) {
  const before = await inbound(p, id);
  const pubBefore = await published(pub);
  const frames = [];
  const peaks = [];
  for (let i = 0; i < SECONDS; i++) {
    const r = (await probeTiles(p, [id], 1000))[id];
    frames.push(r.video?.frames ?? 0);
    peaks.push(Math.max(0, ...(r.audio || []).map((a) => a.peak)));
  }
  const after = await inbound(p, id);
  const pubAfter = await published(pub);
  const d = (kind, k) => (after[kind]?.[k] ?? 0) - (before[kind]?.[k] ?? 0);
  const dp = (k) => (pubAfter[k] ?? 0) - (pubBefore[k] ?? 0);
  const samples = d('audio', 'totalSamplesReceived');
  return {
    fps: frames.reduce((a, b) => a + b, 0) / SECONDS,
    frames,
    peaks,
    freezes: d('video', 'freezeCount'),
    freezeSeconds: Math.round(d('video', 'totalFreezesDuration') * 100) / 100,
    nacks: d('video', 'nackCount'),
    retransmitted: d('video', 'retransmittedPacketsReceived'),
    lost: d('video', 'packetsLost'),
    concealed: samples > 0 ? Math.round((d('audio', 'concealedSamples') / samples) * 1000) / 1000 : null,
    // the publisher's side: packets it resent (RTX), the server's receiver reports
    pubResent: dp('retransmittedPacketsSent'),
    pubReportedLost: dp('reportedPacketsLost'),
    pubReportedJitter: pubAfter.reportedJitter ?? 0,
  };
}

/**
 * One server (repair on or off: `nack`), the publisher and the viewer, `lossy` ('viewer' or
 * 'publisher') behind `link`; for each share in `losses` the lossy side's incoming
 * (viewer) or outgoing (publisher) UDP loses that share and the viewer is measured.
 * Returns {"on@5%": measurement, …}.
 */
export async function measureRepair(link, { nack, lossy, losses, label }) {
  const out = {};
  const server = await startServer(`${label}-nack-${nack}`, [...link.serverArgs(), '--nack', String(nack)]);
  const people = [];
  const site = (who) => lossy === who;
  const launch = (who) => (site(who)
    ? launchChromium(`${label}-${who}-${nack}`, link.chromiumArgs(server.httpPort), { executablePath: link.chromiumPath })
    : launchChromium(`${label}-${who}-${nack}`));
  const url = (who) => (site(who) ? link.pageUrl(server.httpPort) : server.url);
  try {
    const [pub, sub] = await Promise.all([launch('publisher'), launch('viewer')]);
    people.push(pub, sub);
    link.clear();
    await pub.join(url('publisher'), PUBLISHER, ROOM_OF(label));
    await waitForSending(pub);
    await sub.join(url('viewer'), VIEWER, ROOM_OF(label));
    const [tile] = await waitForTiles(sub, [PUBLISHER]);
    await waitForLiveTiles(sub, [tile.id], { timeoutMs: 60000 });
    for (const loss of losses) {
      link.clear();
      if (loss && lossy === 'viewer') link.dropIncoming(loss);
      if (loss && lossy === 'publisher') link.dropOutgoing(loss);
      const key = `${nack ? 'on' : 'off'}@${Math.round(loss * 100)}%`;
      out[key] = await measure(sub, tile.id, pub);
      console.log(`${label} ${key}: ${JSON.stringify(out[key])}`);
    }
  } finally {
    link.clear();
    await endAll(server, people, `${label}-${nack}`);
  }
  return out;
}

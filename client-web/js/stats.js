// stats.js — per-track numbers from getStats of both PeerConnections,
// for tests and diagnostics (window.diemcau.stats()).

/** Every report of a type (a simulcast sender has one outbound-rtp per layer). */
async function reportsOf(getter, type) {
  try {
    return [...(await getter.getStats()).values()].filter((s) => s.type === type);
  } catch { return []; } /* closed */
}

async function reportOf(getter, type) {
  try {
    const report = await getter.getStats();
    for (const s of report.values()) if (s.type === type) return s;
  } catch { /* closed */ }
  return null;
}

/** inbound: one entry per subscribe transceiver that has a slot. */
export async function collectStats(publisher, subscriber) {
  const inbound = [];
  const outbound = [];
  const spc = subscriber?.pc;
  if (spc && spc.connectionState !== 'closed') {
    for (const tr of spc.getTransceivers()) {
      if (tr.mid == null) continue;
      const slot = subscriber.slots.get(tr.mid);
      const s = await reportOf(tr.receiver, 'inbound-rtp');
      inbound.push({
        mid: tr.mid,
        participantId: slot?.participant_id ?? null,
        active: !!slot?.active,
        kind: slot?.kind || tr.receiver.track?.kind,
        framesDecoded: s?.framesDecoded ?? 0,
        packetsReceived: s?.packetsReceived ?? 0,
        bytesReceived: s?.bytesReceived ?? 0,
        packetsLost: s?.packetsLost ?? 0,
        // what loss does to the picture and the sound, and how much repair asked for
        nackCount: s?.nackCount ?? 0,
        retransmittedPacketsReceived: s?.retransmittedPacketsReceived ?? 0,
        freezeCount: s?.freezeCount ?? 0,
        totalFreezesDuration: s?.totalFreezesDuration ?? 0,
        concealedSamples: s?.concealedSamples ?? 0,
        totalSamplesReceived: s?.totalSamplesReceived ?? 0,
      });
    }
  }
  const ppc = publisher?.pc;
  if (ppc && ppc.connectionState !== 'closed') {
    for (const tr of ppc.getTransceivers()) {
      const r = await reportOf(tr.sender, 'remote-inbound-rtp'); // the server's receiver reports
      // a simulcast sender resends, and is reported on, per layer: the sums
      const sum = (list, k) => list.reduce((a, x) => a + (x[k] ?? 0), 0);
      const layerReports = await reportsOf(tr.sender, 'outbound-rtp');
      outbound.push({
        mid: tr.mid,
        kind: tr.sender.track?.kind || (tr === publisher.transceivers.audio ? 'audio' : 'video'),
        // a simulcast sender is reported per layer, and a layer may be paused: the busiest
        // layer's frames, the sums of what was sent
        framesEncoded: Math.max(0, ...layerReports.map((x) => x.framesEncoded ?? 0)),
        packetsSent: sum(layerReports, 'packetsSent'),
        bytesSent: sum(layerReports, 'bytesSent'),
        // simulcast: each layer as the encoder makes it now
        layers: layerReports.filter((r) => r.rid).map((r) => ({
          rid: r.rid, width: r.frameWidth ?? 0, fps: r.framesPerSecond ?? 0, limit: r.qualityLimitationReason ?? '',
          bytesSent: r.bytesSent ?? 0, active: r.active ?? null,
        })),
        retransmittedPacketsSent: sum(layerReports, 'retransmittedPacketsSent'),
        reportedPacketsLost: sum(await reportsOf(tr.sender, 'remote-inbound-rtp'), 'packetsLost'),
        reportedJitter: r?.jitter ?? 0,
      });
    }
  }
  return { inbound, outbound };
}

// A time line of what a meeting page shows, kept inside the page: every change of the
// highlighted speaker, the program and the gallery tiles is stamped (Date.now(), the same
// clock as the test's) by a MutationObserver the moment the DOM changes, so the test can
// measure afterwards how long a change took to reach the screen without polling the page
// while it is busy. It also keeps the most <video>/<audio> elements and tiles ever seen, and
// (watchPeerConnections) every RTCPeerConnection the page made, for counting inbound streams.

/** Runs in the page: starts the log (window.__stageLog). */
function installInPage() {
  if (window.__stageLog) return;
  const log = { events: [], max: { tiles: 0, remoteVideos: 0, audios: 0, slots: 0 } };
  window.__stageLog = log;
  const ids = (sel) => [...document.querySelectorAll(sel)].filter((t) => !t.hidden && t.dataset.participantId)
    .map((t) => t.dataset.participantId);
  let last = '';
  const take = () => {
    const state = {
      dominant: window.diemcau?.roomState?.dominant_speaker ?? null,
      speaking: ids('.tile.speaking'),
      program: ids('#program .tile'),
      floor: ids('.tile[data-use="floor_video"]'),
      chair: ids('.tile[data-use="chair_video"]'),
      gallery: ids('.tile[data-use="gallery"]'),
      showingVideo: ids('.tile.show-video'), // the rest show the avatar
    };
    const key = JSON.stringify(state);
    const m = log.max;
    m.tiles = Math.max(m.tiles, document.querySelectorAll('.tile').length);
    m.remoteVideos = Math.max(m.remoteVideos, document.querySelectorAll('.tile video').length);
    m.audios = Math.max(m.audios, document.querySelectorAll('#audio-sinks audio').length);
    m.slots = Math.max(m.slots, window.diemcau?.slots?.length || 0);
    if (key === last) return;
    last = key;
    log.events.push({ t: Date.now(), ...state });
  };
  new MutationObserver(take).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['class', 'hidden', 'data-participant-id'],
  });
  take();
}

export async function startStageLog(p) {
  await p.page.evaluate(installInPage);
}

/** {events: [{t, speaking, program, floor, chair, gallery}], max: {tiles, remoteVideos, audios, slots}} */
export async function readStageLog(p) {
  return p.page.evaluate(() => window.__stageLog);
}

/**
 * The first time at or after `since` (ms) when `pred(state)` held on the page: `since` itself
 * if the state in force then already satisfied it; null if it never did.
 */
export function firstTimeWhen(log, since, pred) {
  const inForce = log.events.filter((e) => e.t <= since).at(-1);
  if (inForce && pred(inForce)) return since;
  return log.events.find((e) => e.t > since && pred(e))?.t ?? null;
}

/** Before the page loads: remember every RTCPeerConnection it creates (window.__pcs). */
export async function watchPeerConnections(p) {
  await p.page.addInitScript(() => {
    const Real = window.RTCPeerConnection;
    if (!Real) return;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Real {
      constructor(...a) {
        super(...a);
        window.__pcs.push(this);
      }
    };
  });
}

/**
 * From getStats of every open peer connection of the page: per connection, its receiving
 * transceivers (m-lines) by kind and the inbound-rtp streams by kind that received packets.
 */
export async function inboundStreams(p) {
  return p.page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      const mlines = { audio: 0, video: 0 };
      for (const tr of pc.getTransceivers()) {
        if (tr.mid != null && tr.receiver.track && /recv/.test(tr.currentDirection || tr.direction)) mlines[tr.receiver.track.kind]++;
      }
      const inbound = { audio: 0, video: 0 };
      const ssrcs = new Set();
      for (const s of (await pc.getStats()).values()) {
        if (s.type !== 'inbound-rtp' || !(s.packetsReceived > 0)) continue;
        inbound[s.kind]++;
        ssrcs.add(s.ssrc);
      }
      out.push({ mlines, inbound, ssrcs: ssrcs.size });
    }
    return out;
  });
}

/**
 * What a page's video receivers took in, for a failure's message: per inbound video stream
 * of every open connection, its packet, frame and repair counters (two readings a second
 * apart tell a stream that stalls from one that never started).
 */
export async function videoReceiveStats(p) {
  return p.page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs || []) {
      if (pc.connectionState === 'closed') continue;
      for (const s of (await pc.getStats()).values()) {
        if (s.type !== 'inbound-rtp' || s.kind !== 'video') continue;
        out.push({ pc: pc.connectionState, ssrc: s.ssrc, mid: s.mid, packets: s.packetsReceived, lost: s.packetsLost,
          framesReceived: s.framesReceived, decoded: s.framesDecoded, keyframes: s.keyFramesDecoded,
          dropped: s.framesDropped, nacks: s.nackCount, plis: s.pliCount, freezes: s.freezeCount });
      }
    }
    return out;
  });
}

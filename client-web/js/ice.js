// ice.js — the RTCPeerConnection configuration: the server's own candidates need no ICE
// server, but a network that blocks UDP may need the TURN server the join (or resume)
// result names, with credentials that expire (a resume brings fresh ones).

let iceServers = [];

/** Takes `ice_servers` from a join/resume result (kept as they are when it has none). */
export function setIceServers(list) {
  if (!Array.isArray(list)) return;
  iceServers = list.filter((s) => s && (typeof s.urls === 'string' || Array.isArray(s.urls)));
}

/** The configuration for a new RTCPeerConnection. */
export function rtcConfiguration() {
  return { iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };
}

// publisher.js — the publish PeerConnection: one sendonly audio and one
// sendonly video transceiver, offer → `publish` → answer. Mute via
// track.enabled plus a `mute` message; device switch via replaceTrack.

export class Publisher extends EventTarget {
  constructor(signaling) {
    super();
    this.signaling = signaling;
    this.pc = null;
    this.transceivers = { audio: null, video: null };
    this.tracks = { audio: null, video: null };
    this.muted = { audio: false, video: false };
  }

  /** Create the connection with the stream's tracks and negotiate. */
  async start(stream) {
    this.close();
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    pc.onconnectionstatechange = () => {
      this.dispatchEvent(new CustomEvent('state', { detail: pc.connectionState }));
    };
    this.dispatchEvent(new CustomEvent('pc', { detail: pc }));
    for (const kind of ['audio', 'video']) {
      const track = stream.getTracks().find((tr) => tr.kind === kind) || null;
      this.tracks[kind] = track;
      if (track) track.enabled = !this.muted[kind];
      const streams = track ? [stream] : [];
      this.transceivers[kind] = pc.addTransceiver(track || kind, { direction: 'sendonly', streams });
    }
    preferCodecs(this.transceivers.video);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const res = await this.signaling.request('publish', { sdp: pc.localDescription.sdp });
    if (this.pc !== pc) return; // closed meanwhile
    await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  }

  /** Restart ICE on the same connection: a new offer with new credentials (the server
   * then gives it a new transport, see PROTOCOL.md `publish`). */
  async restartIce() {
    const pc = this.pc;
    if (!pc) return;
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
    const res = await this.signaling.request('publish', { sdp: pc.localDescription.sdp });
    if (this.pc !== pc) return;
    await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  }

  hasTrack(kind) { return !!this.tracks[kind]; }

  /** Mute or unmute locally and tell the others. */
  async setMuted(kind, muted) {
    this.muted[kind] = muted;
    if (this.tracks[kind]) this.tracks[kind].enabled = !muted;
    await this.signaling.request('mute', { kind, muted });
  }

  /** Announce the current mute state again (after a fresh join). */
  async announceMutes() {
    for (const kind of ['audio', 'video']) {
      if (this.muted[kind]) await this.signaling.request('mute', { kind, muted: true });
    }
  }

  /** Replace the sent track of one kind (device switch); stops the old one. */
  async replaceTrack(kind, track) {
    const old = this.tracks[kind];
    if (track) track.enabled = !this.muted[kind];
    if (this.transceivers[kind]) await this.transceivers[kind].sender.replaceTrack(track);
    this.tracks[kind] = track;
    if (old && old !== track) old.stop();
  }

  close() {
    if (this.pc) {
      this.pc.onconnectionstatechange = null;
      this.pc.close();
    }
    this.pc = null;
    this.transceivers = { audio: null, video: null };
  }
}

// The server takes the first usable codec in order VP8, H.264: put VP8 first.
function preferCodecs(transceiver) {
  if (!transceiver?.setCodecPreferences || !RTCRtpSender.getCapabilities) return;
  const caps = RTCRtpSender.getCapabilities('video');
  if (!caps) return;
  const rank = (c) => {
    const m = c.mimeType.toLowerCase();
    if (m === 'video/vp8') return 0;
    if (m === 'video/h264') return 1;
    return 2;
  };
  const codecs = [...caps.codecs].sort((a, b) => rank(a) - rank(b));
  try { transceiver.setCodecPreferences(codecs); } catch { /* keep the default */ }
}

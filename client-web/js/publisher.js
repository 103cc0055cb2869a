// publisher.js — the publish PeerConnection: one sendonly audio and one
// sendonly video transceiver (and a second video one while sharing a screen),
// offer → `publish` → answer. Mute via track.enabled plus a `mute` message;
// device switch via replaceTrack.

import { rtcConfiguration } from './ice.js';
import { cameraEncodings } from './quality.js';
import { screenEncodings } from './screen-share.js';

export class Publisher extends EventTarget {
  constructor(signaling) {
    super();
    this.signaling = signaling;
    this.pc = null;
    this.transceivers = { audio: null, video: null };
    this.tracks = { audio: null, video: null };
    this.muted = { audio: false, video: false };
    this.screenTrack = null;
  }

  /** Create the connection with the stream's tracks and negotiate. */
  async start(stream) {
    this.close();
    const pc = new RTCPeerConnection(rtcConfiguration());
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
      const sendEncodings = kind === 'video' ? cameraEncodings(track) : undefined; // (screen shares: addScreenTransceiver)
      this.transceivers[kind] = pc.addTransceiver(track || kind, { direction: 'sendonly', streams, ...(sendEncodings && { sendEncodings }) });
    }
    preferCodecs(this.transceivers.video);
    if (this.screenTrack) this.addScreenTransceiver();
    await this.negotiate();
  }

  /** Offer → `publish` (naming the screen m-line while a screen is shared) → answer. */
  async negotiate(offerOptions = {}) {
    const pc = this.pc;
    if (!pc) return;
    await pc.setLocalDescription(await pc.createOffer(offerOptions));
    const fields = { sdp: pc.localDescription.sdp };
    if (this.screenTrack && this.transceivers.screen?.mid != null) fields.screen_mid = this.transceivers.screen.mid;
    let res;
    try {
      res = await this.signaling.request('publish', fields);
    } catch (e) {
      // Refused (share_busy, forbidden): leave the offer pending no longer.
      if (this.pc === pc && pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      throw e;
    }
    if (this.pc !== pc) return; // closed meanwhile
    await pc.setRemoteDescription({ type: 'answer', sdp: res.sdp });
  }

  /** Restart ICE on the same connection: a new offer with new credentials (the server
   * then gives it a new transport, see PROTOCOL.md `publish`). */
  async restartIce() {
    await this.negotiate({ iceRestart: true });
  }

  /** Put a track on the screen m-line (kept once created); inactive while nothing is shared. */
  async showScreen(track) {
    const tr = this.transceivers.screen;
    await tr.sender.replaceTrack(track);
    tr.direction = track ? 'sendonly' : 'inactive';
  }

  addScreenTransceiver() {
    const sendEncodings = screenEncodings();
    const init = { direction: 'sendonly' };
    try {
      this.transceivers.screen = this.pc.addTransceiver(this.screenTrack, { ...init, ...(sendEncodings && { sendEncodings }) });
    } catch (e) {
      if (!sendEncodings) throw e;
      this.transceivers.screen = this.pc.addTransceiver(this.screenTrack, init); // the mode refused: one layer
    }
    preferCodecs(this.transceivers.screen);
  }

  /**
   * Share a screen track (getDisplayMedia), or stop sharing with null. A third video m-line
   * carries it, named by `screen_mid`; stopping renegotiates without naming it. Rejects with
   * the server's SignalingError (share_busy, forbidden) and then shares nothing.
   */
  async setScreen(track) {
    const old = this.screenTrack;
    this.screenTrack = track;
    if (!this.pc) return;
    if (track && !this.transceivers.screen) this.addScreenTransceiver();
    else if (this.transceivers.screen) await this.showScreen(track);
    try {
      await this.negotiate();
    } catch (e) {
      this.screenTrack = null;
      await this.showScreen(null).catch(() => {});
      throw e;
    } finally {
      if (old && old !== track) old.stop();
    }
  }

  /**
   * The server's `layers` message: send only the simulcast encodings (by rid) of the m-line
   * `mid` that someone watches; the others go inactive, and come back (starting with a
   * keyframe) when named again. Applied one after another, the latest last.
   */
  setLayers({ mid, active }) {
    if (!Array.isArray(active)) return Promise.resolve();
    this.layersChain = (this.layersChain || Promise.resolve()).then(async () => {
      const tr = Object.values(this.transceivers).find((t) => t && t.mid === mid);
      if (!tr || !this.pc) return;
      const params = tr.sender.getParameters();
      let changed = false;
      for (const enc of params.encodings || []) {
        if (!enc.rid) continue;
        const want = active.includes(enc.rid);
        if (enc.active !== want) {
          enc.active = want;
          changed = true;
        }
      }
      if (changed) await tr.sender.setParameters(params);
    }).catch((e) => console.warn('layers', e));
    return this.layersChain;
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
    this.transceivers = { audio: null, video: null, screen: null };
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

// screen-share.js — sharing a screen: getDisplayMedia, then the publisher's screen m-line
// (PROTOCOL.md `publish` screen_mid). Stops by itself when the user ends the capture from
// the browser's own bar. Emits `change`; start() rejects with the server's SignalingError
// (share_busy, forbidden) or the browser's error (the user cancelled the picker).

// The screen goes out in three VP8 temporal layers where the browser can (Chromium:
// scalabilityMode L1T3): a site whose budget cannot carry the whole share then gets its
// base layer, the same sharp slides at a quarter of the frame rate, instead of nothing
// (the server's allocator picks the layers, PROTOCOL.md `slot_quality` frame_rate).
const SCREEN_SCALABILITY = 'L1T3';

/**
 * sendEncodings for the screen transceiver, or undefined (one plain layer) when the
 * browser's capabilities list VP8's scalability modes without L1T3. Chromium does not list
 * them (without a flag) but takes the mode; a browser that refuses it makes
 * addTransceiver throw, and the publisher then adds the screen without it.
 */
export function screenEncodings() {
  const codecs = globalThis.RTCRtpSender?.getCapabilities?.('video')?.codecs || [];
  const vp8 = codecs.find((c) => c.mimeType?.toLowerCase() === 'video/vp8');
  if (!vp8 || (vp8.scalabilityModes && !vp8.scalabilityModes.includes(SCREEN_SCALABILITY))) return undefined;
  return [{ scalabilityMode: SCREEN_SCALABILITY }];
}

export class ScreenShare extends EventTarget {
  constructor() {
    super();
    this.publisher = null;
    this.track = null;
    this.busy = false;
  }

  static supported() { return !!navigator.mediaDevices?.getDisplayMedia; }

  get sharing() { return !!this.track; }

  async start(publisher) {
    if (this.busy || this.track) return;
    this.busy = true;
    this.emit();
    let track = null;
    try {
      const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      track = stream.getVideoTracks()[0];
      if (!track) return;
      track.contentHint = 'detail';
      await publisher.setScreen(track);
      this.publisher = publisher;
      this.track = track;
      track.addEventListener('ended', () => this.stop());
    } catch (e) {
      track?.stop();
      throw e;
    } finally {
      this.busy = false;
      this.emit();
    }
  }

  async stop() {
    const { track, publisher } = this;
    if (!track) return;
    this.track = null;
    this.publisher = null;
    this.emit();
    track.stop();
    await publisher?.setScreen(null).catch(() => {});
  }

  /** The publisher is gone (left, failed): forget the share without renegotiating. */
  forget() {
    this.track?.stop();
    this.track = null;
    this.publisher = null;
    this.emit();
  }

  emit() { this.dispatchEvent(new Event('change')); }
}

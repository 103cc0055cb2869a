// quality.js — simulcast from the page's side. When the server says so (join result
// `simulcast`), a camera at least 640 pixels wide is sent in three layers (rid q/h/f: ¼, ½ and full size); each video tile asks the server for the
// layer its size needs (PROTOCOL.md `set_quality`): the program tile high, the others by
// their height on screen, so a small gallery tile costs the link a ¼-size stream.

const SIMULCAST_MIN_WIDTH = 640;

/** sendEncodings for a camera track, or undefined (one encoding) for a small camera. */
let simulcastOn = false;

/** The join (or resume) result's `simulcast`: whether the server wants layers at all. */
export function setSimulcast(on) {
  if (typeof on === 'boolean') simulcastOn = on;
}

export function cameraEncodings(track) {
  const width = track?.getSettings?.().width || 0;
  if (!simulcastOn || width < SIMULCAST_MIN_WIDTH) return undefined;
  return [
    { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150000 },
    { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500000 },
    { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1500000 },
  ];
}

/** The quality a tile needs: the program tile high, others by their height in device pixels. */
export function qualityForTile(el, inProgram) {
  if (inProgram) return 'high';
  const px = el.getBoundingClientRect().height * (window.devicePixelRatio || 1);
  return px >= 540 ? 'high' : px >= 270 ? 'medium' : 'low';
}

/** Sends what changed since the last request, per subscriber session (its slots). */
export class QualityRequests {
  constructor() {
    this.session = null;
    this.sent = new Map(); // mid → quality the server has
    this.pending = false;
  }

  /** tiles: Map mid → { el } of the video tiles; program: the program area element. */
  update(session, signaling, tiles, program) {
    if (session !== this.session) {
      this.session = session;
      this.sent.clear();
    }
    if (!session || !signaling || this.pending) return;
    const changed = {};
    for (const [mid, tile] of tiles) {
      if (tile.el.hidden) continue; // shows nobody: whatever it had
      const q = qualityForTile(tile.el, program.contains(tile.el));
      if (this.sent.get(mid) !== q) changed[mid] = q;
    }
    if (!Object.keys(changed).length) return;
    this.pending = true;
    let done = false;
    signaling.request('set_quality', { qualities: changed })
      .then(() => {
        done = true;
        if (this.session === session) for (const [mid, q] of Object.entries(changed)) this.sent.set(mid, q);
      })
      // Slots not offered yet, or the connection went: asked again at the next render, not
      // at once — a refusal answered by asking again is a request loop (it once flooded the
      // server until it dropped the page's connection).
      .catch(() => {})
      .finally(() => {
        this.pending = false;
        // what changed while this one was under way
        if (done && this.session === session) this.update(session, signaling, tiles, program);
      });
  }
}

// subscriber.js — the subscribe PeerConnection. Created on the first
// `subscribe_offer`; every offer is answered in arrival order with its
// version. Tracks are remembered per transceiver mid; the slot table maps a
// mid to the participant it currently shows (`slots` in offers and
// `slot_update`). Emits `change` whenever tracks or slots change, `pc` when it
// creates a connection, and `state` with the connection state. close() forgets the
// connection; the next offer builds a new one.

import { rtcConfiguration } from './ice.js';

export class Subscriber extends EventTarget {
  constructor(signaling) {
    super();
    this.signaling = signaling;
    this.pc = null;
    this.slots = new Map(); // mid → {mid, kind, use, participant_id, active}
    this.tracks = new Map(); // mid → MediaStreamTrack
    this.queue = Promise.resolve();
    this.version = -1;
    this.generation = 0;
  }

  /** Queue an offer; answers strictly in order. */
  handleOffer(msg) {
    const gen = this.generation;
    // The offer's slots are the server's state when it sent the offer: apply them now, in
    // the order of the wire, not after the queue and setRemoteDescription — a slot_update
    // that arrives meanwhile is newer and must not be overwritten by them.
    this.applySlots(msg.slots);
    this.queue = this.queue.then(() => (gen === this.generation ? this.answer(msg) : null)).catch((e) => {
      if (e?.code === 'stale_version') return; // a newer offer is coming
      this.dispatchEvent(new CustomEvent('error', { detail: e }));
    });
    return this.queue;
  }

  ensurePc() {
    if (this.pc) return this.pc;
    const pc = new RTCPeerConnection(rtcConfiguration());
    this.pc = pc;
    pc.ontrack = (ev) => {
      const mid = ev.transceiver?.mid;
      if (mid == null) return;
      this.tracks.set(mid, ev.track);
      const changed = () => this.emitChange();
      ev.track.addEventListener('ended', changed);
      this.emitChange();
    };
    pc.onconnectionstatechange = () => {
      this.dispatchEvent(new CustomEvent('state', { detail: pc.connectionState }));
    };
    this.dispatchEvent(new CustomEvent('pc', { detail: pc }));
    return pc;
  }

  async answer(msg) {
    const pc = this.ensurePc();
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    // ontrack has fired for new m-lines by now; mids are known.
    for (const tr of pc.getTransceivers()) {
      if (tr.mid != null && !this.tracks.has(tr.mid) && tr.receiver.track) {
        this.tracks.set(tr.mid, tr.receiver.track);
      }
    }
    this.emitChange(); // the new m-lines' tracks are known now
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (this.pc !== pc) return;
    this.version = msg.version;
    await this.signaling.request('subscribe_answer', { version: msg.version, sdp: pc.localDescription.sdp });
  }

  /** Update the mid → participant table (full list or a partial update). */
  applySlots(slots) {
    if (!Array.isArray(slots)) return;
    for (const s of slots) {
      if (s?.mid == null) continue;
      const mid = String(s.mid);
      const prev = this.slots.get(mid) || {};
      this.slots.set(mid, {
        mid,
        kind: s.kind ?? prev.kind,
        use: s.use ?? prev.use,
        participant_id: s.active === false ? null : (s.participant_id ?? null),
        active: s.active !== false && s.participant_id != null,
      });
    }
    this.emitChange();
  }

  /**
   * Every slot the offers carried, in mid order: [{mid, kind, use, participantId, active,
   * track}]; an inactive slot (or one whose track ended) has participantId null.
   */
  slotViews() {
    const out = [];
    for (const [mid, slot] of this.slots) {
      const track = this.tracks.get(mid) || null;
      const live = slot.active && !!track && track.readyState !== 'ended';
      out.push({
        mid, kind: slot.kind || track?.kind, use: slot.use || 'gallery',
        participantId: live ? slot.participant_id : null, active: live, track,
      });
    }
    return out.sort((a, b) => Number(a.mid) - Number(b.mid));
  }

  emitChange() {
    this.dispatchEvent(new Event('change'));
  }

  close() {
    if (this.pc) {
      this.pc.ontrack = null;
      this.pc.onconnectionstatechange = null;
      this.pc.close();
    }
    this.pc = null;
    this.slots.clear();
    this.tracks.clear();
    this.version = -1;
    this.generation++;
    this.queue = Promise.resolve();
    this.emitChange();
  }
}

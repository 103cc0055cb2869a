// flow.js — which remote participants' media stopped arriving? Every POLL_MS it reads
// packetsReceived of each active subscribe slot; a participant none of whose slots
// received a packet for STALL_MS is `stalled` (a crashed browser, a cut cable: the tile
// would otherwise freeze on its last frame until the server drops them). Emits `change`.

const POLL_MS = 1000;
export const STALL_MS = 4000;

export class FlowWatch extends EventTarget {
  constructor() {
    super();
    this.subscriber = null;
    this.seen = new Map(); // participantId → {packets, changedAt}
    this.stalled = new Set();
    this.timer = null;
  }

  start(subscriber) {
    this.subscriber = subscriber;
    if (!this.timer) this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.subscriber = null;
    this.seen.clear();
    this.setStalled(new Set());
  }

  async poll() {
    const sub = this.subscriber;
    const pc = sub?.pc;
    if (!pc || pc.connectionState !== 'connected') return;
    const packets = new Map(); // participantId → packets over its active slots
    for (const tr of pc.getTransceivers()) {
      const slot = tr.mid != null ? sub.slots.get(tr.mid) : null;
      if (!slot?.active) continue;
      let n = 0;
      try {
        for (const s of (await tr.receiver.getStats()).values()) if (s.type === 'inbound-rtp') n += s.packetsReceived || 0;
      } catch { /* closed meanwhile */ }
      packets.set(slot.participant_id, (packets.get(slot.participant_id) || 0) + n);
    }
    if (this.subscriber !== sub) return;
    const now = performance.now();
    const stalled = new Set();
    for (const [id, n] of packets) {
      const prev = this.seen.get(id);
      if (!prev || n !== prev.packets) this.seen.set(id, { packets: n, changedAt: now });
      else if (now - prev.changedAt >= STALL_MS) stalled.add(id);
    }
    for (const id of this.seen.keys()) if (!packets.has(id)) this.seen.delete(id);
    this.setStalled(stalled);
  }

  setStalled(stalled) {
    const same = stalled.size === this.stalled.size && [...stalled].every((id) => this.stalled.has(id));
    this.stalled = stalled;
    if (!same) this.dispatchEvent(new Event('change'));
  }
}

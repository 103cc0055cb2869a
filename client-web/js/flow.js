// flow.js — which remote participants' media is not arriving? Every POLL_MS it reads
// packetsReceived of each active subscribe slot. A participant none of whose slots received
// a packet for STALL_MS is `stalled` if something came before (a crashed browser, a cut
// cable: the tile would otherwise freeze on its last frame until the server drops them),
// `waiting` if nothing ever came (their media never connected: the tile would otherwise look
// like a camera switched off). stateOf(id) → 'live' | 'stalled' | 'waiting'. Emits `change`.

const POLL_MS = 1000;
export const STALL_MS = 4000;

export class FlowWatch extends EventTarget {
  constructor() {
    super();
    this.subscriber = null;
    this.seen = new Map(); // participantId → {packets, changedAt}
    this.states = new Map(); // participantId → 'stalled' | 'waiting' (absent: live)
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
    this.setStates(new Map());
  }

  stateOf(id) { return this.states.get(id) || 'live'; }

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
    const states = new Map();
    for (const [id, n] of packets) {
      const prev = this.seen.get(id);
      if (!prev || n !== prev.packets) this.seen.set(id, { packets: n, changedAt: now });
      else if (now - prev.changedAt >= STALL_MS) states.set(id, n > 0 ? 'stalled' : 'waiting');
    }
    for (const id of this.seen.keys()) if (!packets.has(id)) this.seen.delete(id);
    this.setStates(states);
  }

  setStates(states) {
    const same = states.size === this.states.size && [...states].every(([id, s]) => this.states.get(id) === s);
    this.states = states;
    if (!same) this.dispatchEvent(new Event('change'));
  }
}

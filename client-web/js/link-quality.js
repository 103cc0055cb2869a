// link-quality.js — how well media gets through, judged as a user would: for each remote
// participant, what our subscribe connection receives of them (packets still missing after
// retransmission, time the picture stood frozen); for our own link, the round-trip time and
// the loss in both directions: of what we receive, the loss every remote participant shows
// (one sender's bad uplink shows at all its receivers, and is not ours), and of what we
// send, what the server reports missing. Every SAMPLE_MS it reads getStats of both connections. A level — 'good', 'weak' or
// 'bad' — is judged over the last WINDOW samples; it gets worse at once and better only
// after RECOVER_SAMPLES better samples in a row, so an indicator does not flap. Emits
// `change` when a level changes.

const SAMPLE_MS = 2000;
const WINDOW = 4; // samples: the last ~8 s
const RECOVER_SAMPLES = 3;
const RANK = { good: 0, weak: 1, bad: 2 };
const MIN_PACKETS = 50; // a participant's window counts for our own link from this many packets

/**
 * The rules in one place. loss: share (0–1) of packets missing after repair; frozen:
 * share of the time the picture stood still; rttMs: round-trip time.
 */
export function judge({ loss = 0, frozen = 0, rttMs = 0 }) {
  if (loss >= 0.08 || frozen >= 0.3 || rttMs >= 1000) return 'bad';
  // a single short freeze (a busy decoder, a keyframe wait) is not a weak link
  if (loss >= 0.02 || frozen >= 0.1 || rttMs >= 400) return 'weak';
  return 'good';
}

/** One subject's cumulative counters over the window, and its level. */
class Judged {
  constructor() {
    this.samples = []; // {at (ms), received, lost, freezeS}
    this.loss = 0; // share lost over the window
    this.packets = 0; // packets expected over the window
    this.level = 'good';
    this.better = 0;
  }

  /** counters: cumulative {received, lost, freezeS}. */
  push(at, counters) {
    const prev = this.samples[this.samples.length - 1];
    // Counters that went back belong to new streams (someone else in the slot, a new
    // connection): start the window over.
    if (prev && (counters.received < prev.received || counters.lost < prev.lost || counters.freezeS < prev.freezeS)) {
      this.samples = [];
    }
    this.samples.push({ at, ...counters });
    if (this.samples.length > WINDOW + 1) this.samples.shift();
    if (this.samples.length < 2) return false; // nothing to compare yet
    const first = this.samples[0];
    const received = counters.received - first.received;
    const lost = counters.lost - first.lost;
    const seconds = (at - first.at) / 1000;
    this.packets = received + lost;
    this.loss = this.packets > 0 ? lost / this.packets : 0;
    this.frozen = seconds > 0 ? (counters.freezeS - first.freezeS) / seconds : 0;
    return this.settle(judge({ loss: this.loss, frozen: this.frozen }));
  }

  settle(measured) {
    const before = this.level;
    if (RANK[measured] >= RANK[this.level]) {
      this.level = measured;
      this.better = 0;
    } else if (++this.better >= RECOVER_SAMPLES) {
      this.level = measured;
      this.better = 0;
    }
    return this.level !== before;
  }
}

async function statsOf(pc) {
  if (!pc || pc.connectionState === 'closed') return null;
  try {
    return await pc.getStats();
  } catch {
    return null; // closed meanwhile
  }
}

/** The selected candidate pair's round-trip time in ms (0 when not known yet). */
function rttOf(report) {
  for (const s of report.values()) {
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      const pair = report.get(s.selectedCandidatePairId);
      if (pair?.currentRoundTripTime != null) return pair.currentRoundTripTime * 1000;
    }
  }
  for (const s of report.values()) { // Firefox names the pair without a transport entry
    if (s.type === 'candidate-pair' && s.selected && s.currentRoundTripTime != null) return s.currentRoundTripTime * 1000;
  }
  return 0;
}

export class LinkQuality extends EventTarget {
  constructor() {
    super();
    this.remote = new Map(); // participant id → Judged
    this.self = new Judged(); // only its level (settle) is used
    this.timer = null;
    this.getSubscriber = null;
    this.getPublisher = null;
  }

  /** getSubscriber() → Subscriber (pc, slots); getPublisher() → Publisher (pc). */
  start(getSubscriber, getPublisher) {
    this.getSubscriber = getSubscriber;
    this.getPublisher = getPublisher;
    if (!this.timer) this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    const had = this.remote.size > 0 || this.self.level !== 'good';
    this.remote.clear();
    this.self = new Judged();
    if (had) this.dispatchEvent(new Event('change'));
  }

  levelOf(id) { return this.remote.get(id)?.level || 'good'; }

  get own() { return this.self.level; }

  async sample() {
    const sub = this.getSubscriber?.();
    const [down, up] = await Promise.all([statsOf(sub?.pc), statsOf(this.getPublisher?.()?.pc)]);
    if (!this.timer || !down) return;
    const at = performance.now();
    const perParticipant = new Map();
    for (const s of down.values()) {
      if (s.type !== 'inbound-rtp' || s.mid == null) continue;
      const slot = sub.slots.get(String(s.mid));
      if (!slot?.active) continue;
      const c = perParticipant.get(slot.participant_id) || { received: 0, lost: 0, freezeS: 0 };
      c.received += s.packetsReceived || 0;
      c.lost += Math.max(0, s.packetsLost || 0);
      c.freezeS += s.totalFreezesDuration || 0;
      perParticipant.set(slot.participant_id, c);
    }
    let changed = false;
    for (const [id, c] of perParticipant) {
      let j = this.remote.get(id);
      if (!j) this.remote.set(id, (j = new Judged()));
      changed = j.push(at, c) || changed;
    }
    for (const id of [...this.remote.keys()]) {
      if (!perParticipant.has(id)) {
        changed = changed || this.remote.get(id).level !== 'good';
        this.remote.delete(id);
      }
    }
    const counted = [...this.remote.values()].filter((j) => j.packets >= MIN_PACKETS);
    const downlinkLoss = counted.length ? Math.min(...counted.map((j) => j.loss)) : 0;
    let uplinkLoss = 0;
    let rttMs = rttOf(down);
    if (up) {
      for (const s of up.values()) {
        if (s.type === 'remote-inbound-rtp' && s.fractionLost != null) uplinkLoss = Math.max(uplinkLoss, s.fractionLost);
      }
      rttMs = Math.max(rttMs, rttOf(up));
    }
    changed = this.self.settle(judge({ loss: Math.max(downlinkLoss, uplinkLoss), rttMs })) || changed;
    if (changed) this.dispatchEvent(new Event('change'));
  }
}

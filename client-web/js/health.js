// health.js — is our media connected? Watches the publish and subscribe PeerConnections,
// and when one fails (or does not connect within CONNECT_TIMEOUT_MS) retries it through
// the `restart(pc, attempt)` callback: the app restarts ICE first, then builds a fresh
// transport. After MAX_ATTEMPTS it stays `failed` until retry() (the user's button).
// Emits `change`; `state` is the worst of the two: connected < connecting < retrying < failed.

export const CONNECT_TIMEOUT_MS = 10000;
const DISCONNECTED_GRACE_MS = 5000; // `disconnected` often heals by itself within seconds
export const MAX_ATTEMPTS = 2;

const RANK = { idle: 0, connected: 1, connecting: 2, retrying: 3, failed: 4 };

export class MediaHealth extends EventTarget {
  constructor(restart) {
    super();
    this.restart = restart;
    this.pcs = {
      publish: { state: 'idle', attempt: 0, pc: null, timer: null },
      subscribe: { state: 'idle', attempt: 0, pc: null, timer: null },
    };
  }

  get state() {
    const states = Object.values(this.pcs).map((p) => p.state);
    return states.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), 'idle');
  }

  /** The highest retry attempt under way (for "trying again (2)"). */
  get attempt() {
    return Math.max(...Object.values(this.pcs).map((p) => p.attempt));
  }

  stateOf(name) { return this.pcs[name].state; }

  /** Start watching a (new) connection for `name`. */
  watch(name, pc) {
    const w = this.pcs[name];
    if (w.pc === pc) return;
    this.unwatch(w);
    w.pc = pc;
    if (w.state !== 'retrying') this.set(w, 'connecting');
    this.arm(w, CONNECT_TIMEOUT_MS);
    pc.addEventListener('connectionstatechange', w.onState = () => this.onState(name, pc));
  }

  onState(name, pc) {
    const w = this.pcs[name];
    if (w.pc !== pc) return;
    const s = pc.connectionState;
    if (s === 'connected') {
      clearTimeout(w.timer);
      w.attempt = 0;
      this.set(w, 'connected');
    } else if (s === 'failed') {
      this.fail(name);
    } else if (s === 'disconnected') {
      this.arm(w, DISCONNECTED_GRACE_MS);
    }
  }

  /** The server says the connection failed or lost consent (`media_state`). */
  serverFailed(name) {
    if (this.pcs[name].pc) this.fail(name);
  }

  /** A failure: retry, or give up and wait for the user. */
  fail(name) {
    const w = this.pcs[name];
    clearTimeout(w.timer);
    if (w.state === 'failed') return;
    if (w.attempt >= MAX_ATTEMPTS) {
      this.set(w, 'failed');
      return;
    }
    w.attempt++;
    this.set(w, 'retrying');
    this.arm(w, CONNECT_TIMEOUT_MS); // a retry that hangs counts as failed too
    Promise.resolve(this.restart(name, w.attempt)).catch(() => this.fail(name));
  }

  /** The user pressed "try again": start over with the retries. */
  retry() {
    for (const [name, w] of Object.entries(this.pcs)) {
      if (w.state !== 'failed') continue;
      w.attempt = 0;
      w.state = 'connecting';
      this.fail(name);
    }
  }

  arm(w, ms) {
    clearTimeout(w.timer);
    const pc = w.pc;
    w.timer = setTimeout(() => {
      if (w.pc === pc && pc?.connectionState !== 'connected') this.fail(this.nameOf(w));
    }, ms);
  }

  nameOf(w) { return Object.keys(this.pcs).find((k) => this.pcs[k] === w); }

  set(w, state) {
    if (w.state === state) return;
    w.state = state;
    this.dispatchEvent(new Event('change'));
  }

  unwatch(w) {
    clearTimeout(w.timer);
    if (w.pc && w.onState) w.pc.removeEventListener('connectionstatechange', w.onState);
    w.pc = null;
  }

  /** Forget everything (leaving the meeting). */
  reset() {
    for (const w of Object.values(this.pcs)) {
      this.unwatch(w);
      w.attempt = 0;
      w.state = 'idle';
    }
    this.dispatchEvent(new Event('change'));
  }
}

// signaling.js — WebSocket client for signaling/PROTOCOL.md (diemcau-v1).
//
// request(type, fields) → Promise of the `ok` message, rejected with a
// SignalingError(code, message) on `error`. Server events are dispatched as
// DOM events named after their `type` (detail = the message).
// After join/resume succeeds, a dropped socket is reopened with backoff and
// the first message on the new socket is `resume`; the result of a successful
// resume is dispatched as `resumed`, a refused one as `resume-failed`.
// Connection state changes are dispatched as `state` (detail = state string):
//   idle | connecting | open | reconnecting | closed

export class SignalingError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

const REQUEST_TIMEOUT_MS = 10000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

export function defaultUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/ws`;
}

export class Signaling extends EventTarget {
  constructor(url = defaultUrl()) {
    super();
    this.url = url;
    this.ws = null;
    this.state = 'idle';
    this.nextId = 1;
    this.pending = new Map(); // id → {resolve, reject, timer}
    this.resumeToken = null;
    this.wantOpen = false;
    this.attempt = 0;
    this.reconnectTimer = null;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  /** Open the socket; resolves when open, rejects with code `connect` if it fails. */
  connect() {
    this.wantOpen = true;
    this.setState('connecting');
    return this.openSocket();
  }

  openSocket() {
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(this.url, 'diemcau-v1');
      } catch (e) {
        reject(new SignalingError('connect', e.message));
        return;
      }
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        resolve();
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
      ws.onclose = () => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.failPending(new SignalingError('closed'));
        if (!opened) reject(new SignalingError('connect'));
        this.onSocketClosed();
      };
      ws.onerror = () => { /* onclose follows */ };
    }).then(() => {
      if (this.state === 'connecting') this.setState('open');
    });
  }

  onMessage(data) {
    let msg;
    try { msg = JSON.parse(data); } catch { return; }
    if (!msg || typeof msg.type !== 'string') return;
    if ((msg.type === 'ok' || msg.type === 'error') && msg.id != null && this.pending.has(msg.id)) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.type === 'ok') p.resolve(msg);
      else p.reject(new SignalingError(msg.code || 'internal', msg.message));
      return;
    }
    this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
  }

  /** Send a request with an id; resolves with the `ok` message. */
  request(type, fields = {}) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SignalingError('closed'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingError('timeout'));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...fields, type, id }));
    });
  }

  /** Join with a token (PROTOCOL.md `join`); name is used only when the token has none. */
  async join({ room, token, name, gallery }) {
    const fields = { room, gallery };
    if (token) fields.token = token;
    if (name) fields.name = name;
    const res = await this.request('join', fields);
    this.resumeToken = res.resume_token || null;
    this.attempt = 0;
    return res;
  }

  /** Leave the room and stop reconnecting. */
  async leave() {
    this.wantOpen = false;
    this.resumeToken = null;
    clearTimeout(this.reconnectTimer);
    try {
      await this.request('leave');
    } catch { /* closing anyway */ }
    this.close();
  }

  /** Page is going away: send `leave` without waiting, then close. */
  leaveNow() {
    if (this.ws?.readyState === WebSocket.OPEN && this.resumeToken) {
      try { this.ws.send(JSON.stringify({ type: 'leave' })); } catch { /* ignore */ }
    }
    this.close();
  }

  /** Move to a new socket at once and `resume` there; the server then sends a fresh
   * subscribe_offer, which is how the subscribe connection is rebuilt from scratch.
   * Resolves after the first attempt to resume. */
  async restart() {
    const ws = this.ws;
    if (!ws || !this.resumeToken) return;
    this.ws = null;
    ws.onclose = null;
    ws.onmessage = null;
    try { ws.close(1000); } catch { /* ignore */ }
    this.failPending(new SignalingError('closed'));
    this.setState('reconnecting');
    this.attempt = 0;
    clearTimeout(this.reconnectTimer);
    await this.reconnect();
  }

  /** Drop the socket as a network failure would (its onclose runs: reconnect and resume).
   * For tests and diagnostics. */
  drop() {
    try { this.ws?.close(4000, 'dropped'); } catch { /* ignore */ }
  }

  close() {
    this.wantOpen = false;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = null;
    this.failPending(new SignalingError('closed'));
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try { ws.close(1000); } catch { /* ignore */ }
    }
    this.setState('closed');
  }

  failPending(err) {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  onSocketClosed() {
    if (!this.wantOpen || !this.resumeToken) {
      this.wantOpen = false;
      this.setState('closed');
      return;
    }
    this.setState('reconnecting');
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = base / 2 + Math.random() * base / 2;
    this.attempt++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.reconnect(), delay);
  }

  async reconnect() {
    if (!this.wantOpen) return;
    try {
      await this.openSocket();
    } catch {
      return; // onclose already scheduled the next attempt
    }
    try {
      const res = await this.request('resume', { resume_token: this.resumeToken });
      if (res.resume_token) this.resumeToken = res.resume_token;
      this.attempt = 0;
      this.setState('open');
      this.dispatchEvent(new CustomEvent('resumed', { detail: res }));
    } catch (e) {
      if (e.code === 'resume_failed' || e.code === 'unauthorized') {
        this.resumeToken = null;
        this.attempt = 0;
        this.setState('open');
        this.dispatchEvent(new CustomEvent('resume-failed', { detail: e }));
      } else if (this.ws) {
        // Socket still up but resume did not work (timeout, internal): retry.
        const ws = this.ws;
        this.ws = null;
        ws.onclose = null;
        try { ws.close(); } catch { /* ignore */ }
        this.scheduleReconnect();
      }
    }
  }
}

// janus-page.js — a minimal Janus 1.x VideoRoom client over the Janus API's WebSocket
// (subprotocol "janus-protocol"), written for bench/loss/compare.mjs (Janus ships no
// janus.js in Debian's package). One page is one role, from the query string:
//   ?role=pub&ws=ws://…:8188/&room=loss            publishes camera + microphone
//   ?role=sub&ws=ws://…:8188/&room=loss&feed=ID    plays feed ID's audio and video
// The flow is the one bench/sig_janus.c speaks: create session → attach
// janus.plugin.videoroom → publisher: join (ptype publisher) → publish with the offer →
// answer in the "configured" event; subscriber: join (ptype subscriber, streams [{feed}])
// → offer in the "attached" event → start with the answer. ICE candidates travel inside
// the SDP (gathering is awaited, then trickle "completed"): no trickle logic needed.
// window.janusLoss: {state, feedId, error, stats()} for the bench.

const q = new URLSearchParams(location.search);
const role = q.get('role');
const room = q.get('room') || 'loss';
const KEEPALIVE_MS = 20000; // Janus's session_timeout is 60 s in bench/janus's config

// The room is made by the publisher with the settings the comparison needs: the same
// 1.5 Mbit/s REMB cap our server sends its publishers, VP8 + Opus, no periodic FIR, no
// TWCC from publishers (ours takes REMB only from its side too).
const ROOM_SETTINGS = {
  permanent: false, publishers: 10, bitrate: 1500000, fir_freq: 0, audiocodec: 'opus', videocodec: 'vp8',
  transport_wide_cc_ext: false, notify_joining: false,
};
// What our meeting page asks of the camera (client-web/js/devices.js), so both publishers
// encode the same picture.
const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };

const page = { state: 'connecting', feedId: null, error: null, pc: null, stats };
window.janusLoss = page;

function setState(s, detail = '') {
  page.state = s;
  const el = document.getElementById('state');
  el.dataset.state = s;
  el.textContent = detail ? `${s}: ${detail}` : s;
}

function fail(what) {
  page.error = String(what);
  setState('failed', page.error);
}

/** The Janus API over one WebSocket: request() resolves with the final answer of a
 * transaction (skipping "ack"), plugin events of the handle go to onEvent. */
class JanusApi {
  constructor(url) {
    this.ws = new WebSocket(url, 'janus-protocol');
    this.pending = new Map(); // transaction → {resolve, reject, acceptAck}
    this.next = 0;
    this.onEvent = () => {};
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = resolve;
      this.ws.onerror = () => reject(new Error(`websocket ${url} failed`));
    });
    this.ws.onclose = () => fail('websocket closed');
    this.ws.onmessage = (m) => this.#receive(JSON.parse(m.data));
  }

  #receive(msg) {
    const t = msg.transaction && this.pending.get(msg.transaction);
    if (msg.janus === 'event' && msg.plugindata) this.onEvent(msg.plugindata.data, msg.jsep);
    if (msg.janus === 'hangup') fail(`janus hangup: ${msg.reason}`);
    if (!t || (msg.janus === 'ack' && !t.acceptAck)) return;
    this.pending.delete(msg.transaction);
    if (msg.janus === 'error') t.reject(new Error(`janus error ${msg.error?.code}: ${msg.error?.reason}`));
    else t.resolve(msg);
  }

  /** Sends a request; an asynchronous plugin message is answered by "ack" first and its
   * result comes as an event (onEvent), so `acceptAck` settles on the ack. */
  request(body, { acceptAck = false } = {}) {
    const transaction = `t${++this.next}`;
    const msg = { ...body, transaction };
    if (this.session) msg.session_id = this.session;
    return new Promise((resolve, reject) => {
      this.pending.set(transaction, { resolve, reject, acceptAck });
      this.ws.send(JSON.stringify(msg));
    });
  }

  async start() {
    await this.opened;
    this.session = (await this.request({ janus: 'create' })).data.id;
    setInterval(() => this.request({ janus: 'keepalive' }, { acceptAck: true }).catch(() => {}), KEEPALIVE_MS);
    this.handle = (await this.request({ janus: 'attach', plugin: 'janus.plugin.videoroom' })).data.id;
  }

  /** A synchronous plugin request ("create"): its data, or throws on a VideoRoom error
   * other than the ones in `tolerate`. */
  async pluginSync(body, tolerate = []) {
    const r = await this.request({ janus: 'message', handle_id: this.handle, body });
    const data = r.plugindata?.data || {};
    if (data.error_code && !tolerate.includes(data.error_code)) throw new Error(`videoroom ${data.error_code}: ${data.error}`);
    return data;
  }

  /** An asynchronous plugin request: resolves with the first event (data, jsep) that
   * `match` accepts, rejects on a VideoRoom error event. */
  pluginAsync(body, jsep, match) {
    return new Promise((resolve, reject) => {
      this.onEvent = (data, ej) => {
        if (data.error_code) reject(new Error(`videoroom ${data.error_code}: ${data.error}`));
        else if (match(data, ej)) resolve({ data, jsep: ej });
      };
      const msg = { janus: 'message', handle_id: this.handle, body };
      if (jsep) msg.jsep = jsep;
      this.request(msg, { acceptAck: true }).catch(reject);
    });
  }

  trickleDone() {
    return this.request({ janus: 'trickle', handle_id: this.handle, candidate: { completed: true } }, { acceptAck: true });
  }
}

/** Resolves once the PeerConnection has gathered every candidate (they then are in its
 * local description). */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
  });
}

function connected(pc) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pc.connectionState === 'connected') resolve();
      if (pc.connectionState === 'failed') reject(new Error('PeerConnection failed'));
    };
    pc.addEventListener('connectionstatechange', check);
    check();
  });
}

async function publish(api) {
  await api.pluginSync({ request: 'create', room, ...ROOM_SETTINGS }, [427]); // 427: exists
  const joined = await api.pluginAsync({ request: 'join', ptype: 'publisher', room, display: 'publisher' }, null,
    (d) => d.videoroom === 'joined');
  page.feedId = joined.data.id;
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: VIDEO });
  const pc = new RTCPeerConnection();
  page.pc = pc;
  for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const offer = { type: 'offer', sdp: pc.localDescription.sdp };
  const r = await api.pluginAsync({ request: 'publish', audio: true, video: true }, offer, (d, j) => j?.type === 'answer');
  await api.trickleDone();
  await pc.setRemoteDescription(r.jsep);
  await connected(pc);
}

async function subscribe(api) {
  const feed = q.get('feed');
  const pc = new RTCPeerConnection();
  page.pc = pc;
  const video = document.getElementById('remote');
  const audio = document.getElementById('remote-audio');
  pc.ontrack = (e) => {
    const el = e.track.kind === 'video' ? video : audio;
    el.srcObject = new MediaStream([e.track]);
    el.play().catch(() => {});
  };
  const attached = await api.pluginAsync({ request: 'join', ptype: 'subscriber', room, streams: [{ feed }] }, null,
    (d, j) => d.videoroom === 'attached' && j?.type === 'offer');
  await pc.setRemoteDescription(attached.jsep);
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  const answer = { type: 'answer', sdp: pc.localDescription.sdp };
  await api.pluginAsync({ request: 'start' }, answer, (d) => d.started === 'ok');
  await api.trickleDone();
  await connected(pc);
}

/** The subscriber's inbound numbers in the shape tests/e2e's window.diemcau.stats() gives
 * for one participant: {video, audio}, each with the getStats fields the bench reads. */
async function stats() {
  const out = {};
  if (!page.pc) return out;
  for (const s of (await page.pc.getStats()).values()) {
    if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.kind === 'audio')) out[s.kind] = s;
  }
  return out;
}

(async () => {
  try {
    if (role !== 'pub' && role !== 'sub') throw new Error('role must be pub or sub');
    const api = new JanusApi(q.get('ws'));
    await api.start();
    setState('negotiating');
    await (role === 'pub' ? publish(api) : subscribe(api));
    setState('connected');
  } catch (e) {
    fail(e.message || e);
  }
})();

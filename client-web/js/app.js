// app.js — page flow: join form with preview → meeting → "you left" screen (camera off)
// or, when the connection is lost for good, back to the form.
// Wires signaling, publisher, subscriber and the view together and exposes
// window.diemcau for tests.

import { t, errorText, getLang, setLang, onLangChange, applyTranslations } from './i18n.js';
import { Signaling } from './signaling.js';
import { Publisher } from './publisher.js';
import { Subscriber } from './subscriber.js';
import { MeetingView } from './ui.js';
import { Notices } from './notices.js';
import { icons } from './icons.js';
import { collectStats } from './stats.js';
import { MediaHealth } from './health.js';
import { FlowWatch } from './flow.js';
import { MicMeter, playTestSound } from './meter.js';
import { loadChoice, saveChoice, openMedia, openTrack, stopStream, fillSelects } from './devices.js';

const $ = (id) => document.getElementById(id);
// The server's room rule (PROTOCOL.md `join`): any text, trimmed, NFC, 1–64 code points,
// no control characters. Normalising here too keeps the URL and the label as the server has it.
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const normalRoom = (s) => s.normalize('NFC').trim();
const roomOk = (s) => s.length > 0 && [...s].length <= 64 && !CONTROL_RE.test(s);
const NAME_KEY = 'diemcau.name';
const ROOM_KEY = 'diemcau.room';

const app = {
  phase: 'join', // join | joining | meeting | reconnecting | leaving | left
  participantId: null,
  room: null,
  name: null,
  participants: new Map(),
  stream: new MediaStream(),
  choice: loadChoice(),
  muted: { audio: false, video: false },
  signaling: null,
  publisher: null,
  subscriber: null,
  mediaState: { publish: 'new', subscribe: 'new' },
  previewToken: 0,
  previewDone: Promise.resolve(),
};

const view = new MeetingView({
  grid: $('grid'),
  audioSinks: $('audio-sinks'),
  count: $('participant-count'),
  selfVideo: $('self-video'),
  selfTile: $('self-view'),
  selfName: $('self-name'),
  empty: $('grid-empty'),
});
const notices = new Notices({ banner: $('connection-banner'), toasts: $('toasts') });
const health = new MediaHealth(restartMedia);
const flow = new FlowWatch();
const meter = new MicMeter($('mic-meter'));
health.addEventListener('change', () => renderMeeting());
flow.addEventListener('change', () => renderMeeting());

// ---------- phase and rendering ----------

function setPhase(phase) {
  app.phase = phase;
  document.body.dataset.phase = phase;
  const inMeeting = phase === 'meeting' || phase === 'reconnecting';
  $('join-view').hidden = inMeeting || phase === 'left';
  $('left-view').hidden = phase !== 'left';
  $('meeting-view').hidden = !inMeeting;
  $('meeting-info').hidden = !inMeeting;
  if (!inMeeting) $('media-help').hidden = true;
  $('join').disabled = phase === 'joining';
  $('join').textContent = t(phase === 'joining' ? 'join.joining' : 'join.submit');
  $('join').setAttribute('aria-busy', String(phase === 'joining'));
}

function renderMeeting() {
  if (app.phase !== 'meeting' && app.phase !== 'reconnecting') return;
  view.render(app.participants, app.subscriber ? app.subscriber.activeTracks() : [], tileMedia);
  renderMediaStatus();
  view.renderSelf(app.stream, app.name, app.muted);
  $('self-view').dataset.selfId = app.participantId || '';
  $('room-label').textContent = t('meeting.room', { room: app.room || '' });
  $('meeting-heading').textContent = t('meeting.room', { room: app.room || '' });
  renderControls();
}

/** What a remote tile says about its media: our subscribe connection first, then theirs. */
function tileMedia(id) {
  const sub = health.stateOf('subscribe');
  if (sub === 'connecting' || sub === 'retrying' || sub === 'failed') return sub;
  return flow.stateOf(id);
}

function renderMediaStatus() {
  const state = health.state;
  const chip = $('media-status');
  chip.hidden = !['connecting', 'retrying', 'failed'].includes(state);
  chip.dataset.state = state;
  chip.textContent = chip.hidden ? '' : t(`media.${state}`, { n: health.attempt });
  $('media-help').hidden = state !== 'failed';
  $('media-help-text').textContent = t('media.failedHelp');
}

/**
 * A media connection failed (health.js decides when): restart the publish connection's
 * ICE first, then build a fresh one; the subscribe connection (the server offers it, so
 * we cannot restart its ICE) is rebuilt by resuming on a new socket, which brings a fresh
 * offer that a new RTCPeerConnection answers.
 */
let restarts = Promise.resolve();
function restartMedia(pc, attempt) {
  // One at a time: the subscribe restart replaces the socket, which would fail a publish
  // request in flight on it.
  const run = restarts.then(() => restartOne(pc, attempt));
  restarts = run.catch(() => {});
  return run;
}

async function restartOne(pc, attempt) {
  if (pc === 'publish') {
    const pub = app.publisher;
    if (!pub) return;
    if (attempt === 1) {
      await pub.restartIce();
    } else {
      await pub.start(app.stream);
      await pub.announceMutes();
    }
  } else {
    app.subscriber?.close();
    await app.signaling?.restart();
  }
}

function renderControls() {
  const a = $('toggle-audio');
  const v = $('toggle-video');
  a.dataset.state = app.muted.audio ? 'off' : 'on';
  v.dataset.state = app.muted.video ? 'off' : 'on';
  a.querySelector('.ctl-icon').innerHTML = app.muted.audio ? icons.micOff : icons.mic;
  v.querySelector('.ctl-icon').innerHTML = app.muted.video ? icons.camOff : icons.cam;
  a.querySelector('.ctl-text').textContent = t(app.muted.audio ? 'control.micOn' : 'control.micOff');
  v.querySelector('.ctl-text').textContent = t(app.muted.video ? 'control.camOn' : 'control.camOff');
}

function staticIcons() {
  $('open-settings').querySelector('.ctl-icon').innerHTML = icons.settings;
  $('leave').querySelector('.ctl-icon').innerHTML = icons.leave;
  $('participant-count').querySelector('.count-icon').innerHTML = icons.people;
  $('self-view').querySelector('.mic-off').innerHTML = icons.micOff;
}

// ---------- preview (join form) ----------

function startPreview() {
  app.previewDone = runPreview();
  return app.previewDone;
}

async function runPreview() {
  const token = ++app.previewToken;
  stopStream(app.stream);
  const { stream, error } = await openMedia(app.choice);
  if (token !== app.previewToken) { stopStream(stream); return; }
  app.stream = stream;
  // An empty stream would hold the page's load event forever (a media element waiting for data).
  $('preview').srcObject = stream.getTracks().length ? stream : null;
  meter.attach(stream);
  $('preview-off').hidden = stream.getVideoTracks().length > 0;
  $('media-error').textContent = error ? mediaErrorText(error) : '';
  $('media-error').dataset.key = error || '';
  await fillSelects($('audio-device'), $('video-device'), app.choice, stream);
}

async function testSpeakers() {
  const btn = $('speaker-test');
  btn.disabled = true;
  btn.dataset.playing = 'true';
  try { await playTestSound(); } finally {
    btn.disabled = false;
    btn.dataset.playing = 'false';
  }
}

const mediaErrorText = (key) => t(key, { https: `https://${location.hostname}/` });

function onPreviewDeviceChange() {
  app.choice = { audio: $('audio-device').value, video: $('video-device').value };
  saveChoice(app.choice);
  startPreview();
}

// ---------- joining ----------

function showJoinError(text) {
  const el = $('join-error');
  el.textContent = text || '';
  el.hidden = !text;
}

async function onJoinSubmit(ev) {
  ev.preventDefault();
  if (app.phase !== 'join') return;
  const name = $('name').value.trim();
  const room = normalRoom($('room').value);
  $('name').setAttribute('aria-invalid', 'false');
  $('room').setAttribute('aria-invalid', 'false');
  if (!name || [...name].length > 64) {
    $('name').setAttribute('aria-invalid', 'true');
    showJoinError(t('error.name'));
    $('name').focus();
    return;
  }
  if (!roomOk(room)) {
    $('room').setAttribute('aria-invalid', 'true');
    showJoinError(t('error.room'));
    $('room').focus();
    return;
  }
  showJoinError('');
  try {
    localStorage.setItem(NAME_KEY, name);
    localStorage.setItem(ROOM_KEY, room);
  } catch { /* ignore */ }
  app.name = name;
  app.room = room;
  setPhase('joining');
  await app.previewDone; // publish the previewed devices, not an empty stream

  const sig = new Signaling();
  app.signaling = sig;
  wireSignaling(sig);
  try {
    await sig.connect();
    const res = await sig.join(room, name);
    if (app.signaling !== sig) return;
    onJoined(res);
  } catch (e) {
    if (app.signaling !== sig) return;
    teardown();
    setPhase('join');
    showJoinError(errorText(e.code, e.message));
    $('join').focus();
    return;
  }
  const url = new URL(location.href);
  url.searchParams.set('room', room);
  history.replaceState(null, '', url);
  setPhase('meeting');
  meter.detach();
  renderMeeting();
  $('toggle-audio').focus();
  await startPublishing();
}

function onJoined(res) {
  app.participantId = res.participant_id;
  if (res.room) app.room = res.room;
  app.participants = new Map();
  for (const p of res.participants || []) app.participants.set(p.id, p);
  if (!app.subscriber) {
    app.subscriber = new Subscriber(app.signaling);
    app.subscriber.addEventListener('change', () => renderMeeting());
    app.subscriber.addEventListener('state', (e) => setMediaState('subscribe', e.detail));
    app.subscriber.addEventListener('error', (e) => reportError(e.detail));
    app.subscriber.addEventListener('pc', (e) => health.watch('subscribe', e.detail));
    flow.start(app.subscriber);
  }
  app.subscriber.signaling = app.signaling;
}

async function startPublishing() {
  if (!app.publisher) {
    app.publisher = new Publisher(app.signaling);
    app.publisher.addEventListener('state', (e) => setMediaState('publish', e.detail));
    app.publisher.addEventListener('pc', (e) => health.watch('publish', e.detail));
  }
  const pub = app.publisher;
  pub.muted = { ...app.muted };
  for (const kind of ['audio', 'video']) {
    if (!app.stream.getTracks().some((tr) => tr.kind === kind)) app.muted[kind] = pub.muted[kind] = true;
  }
  try {
    await pub.start(app.stream);
    await pub.announceMutes();
  } catch (e) {
    reportError(e);
  }
  renderMeeting();
}

function setMediaState(pc, state) {
  app.mediaState[pc] = state;
  document.body.dataset[pc === 'publish' ? 'publishState' : 'subscribeState'] = state;
}

function reportError(e) {
  if (!e || e.code === 'closed' || e.code === 'stale_version') return;
  notices.toast(errorText(e.code, e.message), 'error');
}

// ---------- server events ----------

function wireSignaling(sig) {
  const on = (type, fn) => sig.addEventListener(type, (ev) => {
    if (app.signaling === sig) fn(ev.detail);
  });

  on('participant_joined', ({ participant }) => {
    if (!participant?.id || participant.id === app.participantId) return;
    app.participants.set(participant.id, participant);
    notices.toast(t('notice.joined', { name: participant.name }));
    renderMeeting();
  });
  on('participant_left', ({ participant_id: id, reason }) => {
    const p = app.participants.get(id);
    if (!p) return;
    app.participants.delete(id);
    const key = reason === 'timeout' ? 'notice.leftTimeout' : reason === 'kicked' ? 'notice.kicked' : 'notice.left';
    notices.toast(t(key, { name: p.name }));
    renderMeeting();
  });
  on('participant_updated', ({ participant }) => {
    if (!participant?.id || participant.id === app.participantId) return;
    const prev = app.participants.get(participant.id) || {};
    app.participants.set(participant.id, { ...prev, ...participant });
    renderMeeting();
  });
  on('subscribe_offer', (msg) => {
    if (!app.subscriber) onJoined({ participant_id: app.participantId, participants: [...app.participants.values()] });
    app.subscriber.handleOffer(msg);
  });
  on('slot_update', ({ slots }) => app.subscriber?.applySlots(slots));
  on('media_state', ({ pc, state }) => {
    document.body.dataset[pc === 'publish' ? 'serverPublishState' : 'serverSubscribeState'] = state;
    if (state === 'failed' || state === 'timeout') health.serverFailed(pc);
  });
  on('error', (e) => reportError(e));
  on('state', (state) => onConnectionState(state));
  on('resumed', (res) => {
    onJoined(res);
    setPhase('meeting');
    notices.setBanner('back');
    renderMeeting();
  });
  on('resume-failed', () => rejoin());
}

function onConnectionState(state) {
  document.body.dataset.connection = state;
  if (state === 'reconnecting' && (app.phase === 'meeting' || app.phase === 'reconnecting')) {
    setPhase('reconnecting');
    notices.setBanner('lost');
  } else if (state === 'closed' && (app.phase === 'meeting' || app.phase === 'reconnecting')) {
    // Closed for good (no resume possible): back to the form with a message.
    teardown();
    backToForm(t('error.closed'));
  }
}

/** The grace period passed: join anew on the open socket, publish again. */
async function rejoin() {
  const sig = app.signaling;
  app.subscriber?.close();
  app.subscriber = null;
  app.publisher?.close();
  app.participants = new Map();
  health.reset();
  flow.stop();
  try {
    const res = await sig.join(app.room, app.name);
    if (app.signaling !== sig) return;
    onJoined(res);
    app.publisher.signaling = sig;
    setPhase('meeting');
    notices.setBanner('rejoined');
    renderMeeting();
    await startPublishing();
  } catch (e) {
    if (app.signaling !== sig) return;
    teardown();
    backToForm(errorText(e.code, e.message));
  }
}

// ---------- controls ----------

async function toggle(kind) {
  const pub = app.publisher;
  if (!pub) return;
  const wantMuted = !app.muted[kind];
  if (!wantMuted && !pub.hasTrack(kind)) {
    // Turning on a kind we have no device for: try to open it now.
    try {
      const track = await openTrack(kind, app.choice[kind] === 'none' ? '' : app.choice[kind]);
      if (!track) return;
      await pub.replaceTrack(kind, track);
      swapStreamTrack(kind, track);
    } catch {
      notices.toast(t('error.media'), 'error');
      return;
    }
  }
  app.muted[kind] = wantMuted;
  renderMeeting();
  try {
    await pub.setMuted(kind, wantMuted);
  } catch (e) {
    reportError(e);
  }
}

function swapStreamTrack(kind, track) {
  const stream = new MediaStream(app.stream.getTracks().filter((tr) => tr.kind !== kind));
  if (track) stream.addTrack(track);
  app.stream = stream;
}

async function openSettings() {
  await fillSelects($('settings-audio'), $('settings-video'), app.choice, app.stream);
  $('settings-dialog').showModal();
}

async function onSettingsChange(kind, value) {
  app.choice[kind] = value;
  saveChoice(app.choice);
  const pub = app.publisher;
  if (!pub) return;
  try {
    const track = value === 'none' ? null : await openTrack(kind, value);
    await pub.replaceTrack(kind, track);
    swapStreamTrack(kind, track);
    const muted = !track ? true : app.muted[kind] && pub.hasTrack(kind) ? app.muted[kind] : false;
    if (muted !== app.muted[kind]) {
      app.muted[kind] = muted;
      await pub.setMuted(kind, muted);
    }
  } catch (e) {
    notices.toast(e?.code ? errorText(e.code, e.message) : t('error.device'), 'error');
  }
  renderMeeting();
}

async function leave() {
  if (app.phase !== 'meeting' && app.phase !== 'reconnecting') return;
  const sig = app.signaling;
  setPhase('leaving');
  await sig?.leave();
  teardown();
  // Nothing keeps the camera and microphone open after leaving: they open again only
  // when the user chooses to join again.
  app.previewToken++; // a preview still opening stops itself
  stopStream(app.stream);
  app.stream = new MediaStream();
  $('preview').srcObject = null;
  meter.detach();
  app.muted = { audio: false, video: false };
  setPhase('left');
  renderLeft();
  $('left-heading').focus();
}

function renderLeft() {
  $('left-text').textContent = t('left.textRoom', { room: app.room || '' });
}

/** "Join again": open the devices, then join the same room under the same name. */
async function joinAgain() {
  setPhase('join');
  showJoinError('');
  await startPreview();
  $('join-form').requestSubmit();
}

function toForm() {
  setPhase('join');
  showJoinError('');
  startPreview();
  $('room').focus();
}

function teardown() {
  const sig = app.signaling;
  app.signaling = null;
  sig?.close();
  app.publisher?.close();
  app.publisher = null;
  app.subscriber?.close();
  app.subscriber = null;
  app.participants = new Map();
  app.participantId = null;
  app.mediaState = { publish: 'new', subscribe: 'new' };
  health.reset();
  flow.stop();
  view.clear();
  notices.clear();
}

function backToForm(message) {
  app.muted = { audio: false, video: false };
  setPhase('join');
  showJoinError(message);
  startPreview();
  $('join').focus();
}

// ---------- language ----------

function relabelAll() {
  applyTranslations();
  setPhase(app.phase);
  if (app.phase === 'left') renderLeft();
  else if (app.phase !== 'join' && app.phase !== 'joining') renderMeeting();
  notices.relabel();
  const key = $('media-error').dataset.key;
  if (key) $('media-error').textContent = mediaErrorText(key);
  fillSelects($('audio-device'), $('video-device'), app.choice, app.stream);
}

// ---------- start ----------

function init() {
  staticIcons();
  applyTranslations();
  const params = new URLSearchParams(location.search);
  let savedName = '';
  try { savedName = localStorage.getItem(NAME_KEY) || ''; } catch { /* ignore */ }
  $('name').value = savedName;
  $('room').value = params.get('room') || '';
  $('lang-switch').addEventListener('click', () => setLang(getLang() === 'vi' ? 'en' : 'vi'));
  onLangChange(relabelAll);
  $('join-form').addEventListener('submit', onJoinSubmit);
  $('audio-device').addEventListener('change', onPreviewDeviceChange);
  $('video-device').addEventListener('change', onPreviewDeviceChange);
  $('toggle-audio').addEventListener('click', () => toggle('audio'));
  $('toggle-video').addEventListener('click', () => toggle('video'));
  $('open-settings').addEventListener('click', openSettings);
  $('settings-audio').addEventListener('change', (e) => onSettingsChange('audio', e.target.value));
  $('settings-video').addEventListener('change', (e) => onSettingsChange('video', e.target.value));
  $('leave').addEventListener('click', leave);
  $('rejoin').addEventListener('click', joinAgain);
  $('to-form').addEventListener('click', toForm);
  $('media-retry').addEventListener('click', () => health.retry());
  $('speaker-test').addEventListener('click', testSpeakers);
  window.addEventListener('pagehide', () => app.signaling?.leaveNow());
  setPhase('join');
  renderControls();
  (savedName ? $('room').value ? $('join') : $('room') : $('name')).focus();
  startPreview();
}

window.diemcau = {
  get state() { return app.phase; },
  get participantId() { return app.participantId; },
  get room() { return app.room; },
  get connection() { return app.signaling?.state ?? 'idle'; },
  get participants() { return [...app.participants.values()]; },
  get slots() { return app.subscriber ? [...app.subscriber.slots.values()] : []; },
  get media() {
    return {
      publish: app.publisher?.pc?.connectionState ?? 'new',
      subscribe: app.subscriber?.pc?.connectionState ?? 'new',
    };
  },
  get muted() { return { ...app.muted }; },
  get mediaHealth() {
    return {
      state: health.state, publish: health.stateOf('publish'), subscribe: health.stateOf('subscribe'),
      attempt: health.attempt, flow: Object.fromEntries(flow.states),
    };
  },
  stats: () => collectStats(app.publisher, app.subscriber),
};

init();

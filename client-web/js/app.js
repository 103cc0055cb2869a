// app.js — page flow: join form with preview → meeting → "you left" screen (camera off)
// or, when the connection is lost for good, back to the form.
// Wires the join token, signaling, publisher, subscriber, the stage, the control bar and
// the side panel together and exposes window.diemcau for tests.

import { setIceServers } from './ice.js';
import { t, errorText, getLang, setLang, onLangChange, applyTranslations } from './i18n.js';
import { Signaling, SignalingError } from './signaling.js';
import { Publisher } from './publisher.js';
import { Subscriber } from './subscriber.js';
import { MeetingView, galleryFor } from './ui.js';
import { QualityRequests, setSimulcast } from './quality.js';
import { renderControls as drawControls } from './controls.js';
import { ScreenShare } from './screen-share.js';
import { MeetingPanels } from './panels.js';
import { JoinCredentials } from './token.js';
import { setUpJoinForm, renderTokenNotice, formRole } from './join-form.js';
import { Notices } from './notices.js';
import { icons } from './icons.js';
import { collectStats } from './stats.js';
import { MediaHealth } from './health.js';
import { FlowWatch } from './flow.js';
import { LinkQuality } from './link-quality.js';
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
const LAYOUT_KEY = 'diemcau.layout';
// In a large meeting (a province's sites) comings and goings are for the list, not toasts.
const QUIET_ABOVE = 12;

const app = {
  phase: 'join', // join | joining | meeting | reconnecting | leaving | left
  participantId: null,
  room: null,
  name: null,
  role: 'official',
  grants: new Set(),
  roomState: null,
  layout: loadLayout(),
  gallery: 0, // gallery slots asked of the server
  panelOpen: false,
  panels: null,
  credentials: new JoinCredentials(),
  participants: new Map(),
  slotQuality: new Map(), // mid → the server's last slot_quality (bandwidth allocation)
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

function loadLayout() {
  try { return localStorage.getItem(LAYOUT_KEY) === 'grid' ? 'grid' : 'speaker'; } catch { return 'speaker'; }
}

const view = new MeetingView({
  stage: $('stage'),
  program: $('program'),
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
const links = new LinkQuality();
const meter = new MicMeter($('mic-meter'));
const screen = new ScreenShare();
screen.addEventListener('change', () => renderMeeting());
health.addEventListener('change', () => renderMeeting());
flow.addEventListener('change', () => renderMeeting());
links.addEventListener('change', () => renderMeeting());

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
  view.render({
    slots: app.subscriber ? app.subscriber.slotViews() : [],
    participants: app.participants,
    mediaOf: tileMedia,
    linkOf: (id) => links.levelOf(id),
    qualityOf: (mid) => app.slotQuality.get(mid) || null,
    layout: app.layout,
    roomState: app.roomState,
  });
  renderMediaStatus();
  qualities.update(app.subscriber, app.signaling, view.tiles, view.program);
  // The self view shows what the others get: nothing of a camera the chair closed.
  const byChair = app.mutedByChair || {};
  const shownMuted = { audio: app.muted.audio || !!byChair.audio, video: app.muted.video || !!byChair.video };
  view.renderSelf(app.stream, app.name, shownMuted, app.participantId);
  $('self-view').dataset.selfId = app.participantId || '';
  $('self-view').hidden = !app.grants.has('publish'); // an observer sends nothing to show
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
  // Our own link, while connected: the strip says what the user will notice and why.
  const own = state === 'connected' ? links.own : 'good';
  const notice = $('link-notice');
  notice.hidden = own === 'good';
  notice.dataset.level = own;
  notice.textContent = own === 'good' ? '' : t(own === 'bad' ? 'link.ownBad' : 'link.ownWeak');
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
  drawControls({
    grants: app.grants, selfId: app.participantId, muted: app.muted, mutedByChair: app.mutedByChair,
    roomState: app.roomState, sharing: screen.sharing, shareBusy: screen.busy,
    shareSupported: ScreenShare.supported(), layout: app.layout, panelOpen: app.panelOpen,
  });
  $('side-panel').hidden = !app.panelOpen;
}

function staticIcons() {
  $('open-settings').querySelector('.ctl-icon').innerHTML = icons.settings;
  $('leave').querySelector('.ctl-icon').innerHTML = icons.leave;
  $('participant-count').querySelector('.count-icon').innerHTML = icons.people;
  $('toggle-layout').querySelector('.ctl-icon').innerHTML = icons.grid;
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
  if (formRole() === 'observer') { // an observer only watches: no camera or microphone prompt
    app.stream = new MediaStream();
    $('preview').srcObject = null;
    meter.detach();
    $('preview-off').hidden = false;
    $('preview-off').textContent = t('join.observerNoCamera');
    $('media-error').textContent = '';
    $('media-error').dataset.key = '';
    return;
  }
  $('preview-off').textContent = t('join.previewOff');
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
  // Not before the page knows where its token comes from (an Enter pressed early).
  if (app.phase !== 'join' || document.body.dataset.ready !== 'true') return;
  const name = $('name').value.trim();
  const room = normalRoom($('room').value);
  const role = formRole();
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
    if (!$('name').readOnly) localStorage.setItem(NAME_KEY, name);
    if (!$('room').readOnly) localStorage.setItem(ROOM_KEY, room);
  } catch { /* ignore */ }
  app.name = name;
  app.room = room;
  app.role = role;
  setPhase('joining');
  await app.previewDone; // publish the previewed devices, not an empty stream

  const sig = new Signaling();
  app.signaling = sig;
  wireSignaling(sig);
  try {
    const token = await app.credentials.token({ room, name, role });
    await sig.connect();
    const res = await sig.join({ room, token, name, gallery: wantedGallery() });
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
  url.searchParams.set('room', app.room);
  history.replaceState(null, '', url);
  setPhase('meeting');
  meter.detach();
  renderMeeting();
  if (app.grants.has('publish')) {
    $('toggle-audio').focus();
    await startPublishing();
  } else {
    // Receives only: nothing to capture.
    app.previewToken++;
    stopStream(app.stream);
    app.stream = new MediaStream();
    $('toggle-layout').focus();
    renderMeeting();
  }
}

/** A join or resume result: who we are, what we may do, who is here, the room's state. */
function onJoined(res) {
  app.participantId = res.participant_id;
  setIceServers(res.ice_servers); // TURN, for networks that block UDP
  setSimulcast(res.simulcast);
  if (res.room) app.room = res.room;
  if (res.name) app.name = res.name;
  if (res.role) app.role = res.role;
  if (Array.isArray(res.grants)) app.grants = new Set(res.grants);
  app.roomState = res.room_state || null;
  tickFloorClock();
  app.gallery = app.gallery || wantedGallery();
  app.participants = new Map();
  app.slotQuality = new Map();
  for (const p of res.participants || []) app.participants.set(p.id, p);
  if (!app.subscriber) {
    app.subscriber = new Subscriber(app.signaling);
    app.subscriber.addEventListener('change', () => renderMeeting());
    app.subscriber.addEventListener('state', (e) => setMediaState('subscribe', e.detail));
    app.subscriber.addEventListener('error', (e) => reportError(e.detail));
    app.subscriber.addEventListener('pc', (e) => health.watch('subscribe', e.detail));
    flow.start(app.subscriber);
    links.start(() => app.subscriber, () => app.publisher);
  }
  app.subscriber.signaling = app.signaling;
  if (!app.panels) {
    app.panels = new MeetingPanels({
      root: $('side-panel'),
      request: (type, fields) => (app.signaling ? app.signaling.request(type, fields) : Promise.reject(new SignalingError('closed'))),
      self: res,
      notify: (text) => notices.toast(text),
    });
  }
  app.panels.setParticipants([...app.participants.values(), selfEntry(res)]);
  if (app.roomState) app.panels.setRoomState(app.roomState);
}

/** Ourselves as a participants-list entry. */
function selfEntry(res = {}) {
  return {
    id: app.participantId, name: app.name, site: res.site || '', role: app.role, hand: false,
    muted_by_chair: { audio: false, video: false }, tracks: [], self: true,
  };
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
    app.panels?.participantJoined(participant);
    if (app.participants.size <= QUIET_ABOVE) notices.toast(t('notice.joined', { name: participant.name }));
    renderMeeting();
  });
  on('participant_left', ({ participant_id: id, reason }) => {
    const p = app.participants.get(id);
    if (!p) return;
    app.participants.delete(id);
    app.panels?.participantLeft(id);
    const key = { timeout: 'notice.leftTimeout', removed: 'notice.kicked', ended: 'notice.leftEnded' }[reason] || 'notice.left';
    if (app.participants.size < QUIET_ABOVE) notices.toast(t(key, { name: p.name }));
    renderMeeting();
  });
  on('participant_updated', ({ participant }) => {
    if (!participant?.id) return;
    app.panels?.participantUpdated(participant);
    if (participant.id === app.participantId) {
      noticeChairMutes(participant.muted_by_chair);
      renderMeeting();
      return;
    }
    const prev = app.participants.get(participant.id) || {};
    app.participants.set(participant.id, { ...prev, ...participant });
    renderMeeting();
  });
  on('subscribe_offer', (msg) => {
    if (!app.subscriber) onJoined({ participant_id: app.participantId, participants: [...app.participants.values()], room_state: app.roomState });
    app.subscriber.handleOffer(msg);
  });
  on('slot_update', ({ slots }) => app.subscriber?.applySlots(slots));
  on('layers', (msg) => app.publisher?.setLayers(msg));
  // What the server's bandwidth allocator lets each slot carry, and why (PROTOCOL.md).
  on('slot_quality', (msg) => {
    app.slotQuality.set(msg.mid, msg);
    renderMeeting();
  });
  on('room_state', ({ room_state: state }) => {
    if (!state) return;
    const hadFloor = app.roomState?.floor_holder === app.participantId;
    app.roomState = state;
    tickFloorClock();
    app.panels?.setRoomState(state);
    const hasFloor = state.floor_holder === app.participantId;
    if (hasFloor !== hadFloor) notices.toast(t(hasFloor ? 'notice.floorGranted' : 'notice.floorEnded'));
    // A share made by the floor ends with it at the server (PROTOCOL.md `publish`): stop
    // capturing too, since the share button, hidden now, is no longer there to do it.
    if (hadFloor && !hasFloor && screen.sharing && !app.grants.has('share_screen')) screen.stop();
    renderMeeting();
  });
  on('dominant_speaker', ({ participant_id: id }) => {
    app.roomState = { ...(app.roomState || {}), dominant_speaker: id ?? null };
    app.panels?.onDominantSpeaker(id ?? null);
    renderMeeting();
  });
  on('delegates_muted', () => {
    for (const [id, p] of app.participants) {
      if (p.role === 'delegate') app.participants.set(id, { ...p, muted_by_chair: { ...(p.muted_by_chair || {}), audio: true } });
    }
    app.panels?.onDelegatesMuted();
    if (app.role === 'delegate') notices.toast(t('notice.delegatesMuted'));
    renderMeeting();
  });
  on('chat', (ev) => app.panels?.onChat(ev));
  on('removed', () => endedByServer('removed'));
  on('meeting_ended', () => endedByServer('ended'));
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

/** While the floor is time-limited, redraw each second so its time left counts down. */
let floorClock = null;
function tickFloorClock() {
  const limited = !!app.roomState?.floor_until && !!app.signaling;
  if (limited && !floorClock) floorClock = setInterval(() => renderMeeting(), 1000);
  if (!limited && floorClock) { clearInterval(floorClock); floorClock = null; }
}

/** The chair closed (or reopened) our microphone or camera at the server: say so once. */
function noticeChairMutes(now = {}) {
  const before = app.mutedByChair || {};
  for (const kind of ['audio', 'video']) {
    if (!!now[kind] !== !!before[kind]) notices.toast(t(`notice.chair.${kind}.${now[kind] ? 'muted' : 'unmuted'}`));
  }
  app.mutedByChair = { audio: !!now.audio, video: !!now.video };
}

/** The grace period passed: join anew on the open socket (with a fresh development token
 * if the last one ran out), publish again. */
async function rejoin() {
  const sig = app.signaling;
  app.subscriber?.close();
  app.subscriber = null;
  screen.forget();
  app.publisher?.close();
  app.participants = new Map();
  app.slotQuality = new Map();
  health.reset();
  flow.stop();
  try {
    const token = await app.credentials.token({ room: app.room, name: app.name, role: app.role });
    const res = await sig.join({ room: app.room, token, name: app.name, gallery: app.gallery || wantedGallery() });
    if (app.signaling !== sig) return;
    onJoined(res);
    if (app.publisher) app.publisher.signaling = sig;
    setPhase('meeting');
    notices.setBanner('rejoined');
    renderMeeting();
    if (app.grants.has('publish')) await startPublishing();
  } catch (e) {
    if (app.signaling !== sig) return;
    teardown();
    backToForm(errorText(e.code, e.message));
  }
}

/** The chair removed us or ended the meeting: the "left" view with its own message; the
 * server closes the socket and nothing rejoins by itself. */
function endedByServer(why) {
  if (app.phase !== 'meeting' && app.phase !== 'reconnecting') return;
  teardown();
  closeDevices();
  setPhase('left');
  renderLeft(why);
  $('left-heading').focus();
}

// ---------- layout, hand, screen, panel ----------

const qualities = new QualityRequests();

function wantedGallery() {
  return Math.min(25, galleryFor(app.layout));
}

/** Tell the server how many gallery tiles the layout shows, when that changed. */
async function syncGallery() {
  const want = wantedGallery();
  if (!app.signaling || app.phase !== 'meeting' || want === app.gallery) return;
  app.gallery = want;
  try {
    await app.signaling.request('set_gallery', { gallery: want });
  } catch (e) {
    reportError(e);
  }
}

function toggleLayout() {
  app.layout = app.layout === 'speaker' ? 'grid' : 'speaker';
  try { localStorage.setItem(LAYOUT_KEY, app.layout); } catch { /* ignore */ }
  renderMeeting();
  syncGallery();
}

async function toggleHand() {
  const sig = app.signaling;
  if (!sig) return;
  const raised = (app.roomState?.hands || []).includes(app.participantId);
  try {
    const res = await sig.request(raised ? 'lower_hand' : 'raise_hand');
    if (!raised && res.position) notices.toast(t('notice.handRaised', { n: res.position }));
  } catch (e) {
    reportError(e);
  }
}

async function toggleShare() {
  if (screen.sharing) {
    await screen.stop();
    return;
  }
  if (!app.publisher) return;
  try {
    await screen.start(app.publisher);
  } catch (e) {
    if (e?.code) reportError(e); // the server refused (share_busy, forbidden)
    else if (e?.name !== 'NotAllowedError' && e?.name !== 'AbortError') notices.toast(t('error.share'), 'error');
  }
}

function togglePanel() {
  app.panelOpen = !app.panelOpen;
  renderControls();
  if (app.panelOpen) $('side-panel').focus();
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

/** Nothing keeps the camera and microphone open outside a meeting: they open again only
 * when the user chooses to join again. */
function closeDevices() {
  app.previewToken++; // a preview still opening stops itself
  stopStream(app.stream);
  app.stream = new MediaStream();
  $('preview').srcObject = null;
  meter.detach();
  app.muted = { audio: false, video: false };
}

async function leave() {
  if (app.phase !== 'meeting' && app.phase !== 'reconnecting') return;
  const sig = app.signaling;
  setPhase('leaving');
  await screen.stop();
  await sig?.leave();
  teardown();
  closeDevices();
  setPhase('left');
  renderLeft('left');
  $('left-heading').focus();
}

/** why: 'left' (the user's choice), 'removed' (by the chair), 'ended' (the meeting). */
function renderLeft(why = app.leftWhy || 'left') {
  app.leftWhy = why;
  document.body.dataset.leftReason = why;
  const key = { left: 'left', removed: 'removed', ended: 'ended' }[why] || 'left';
  $('left-heading').textContent = t(`left.heading.${key}`);
  $('left-text').textContent = t(`left.text.${key}`, { room: app.room || '' });
  // Removed, or the meeting ended: the server would refuse the same room now.
  $('rejoin').hidden = key !== 'left';
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
  ($('room').readOnly ? $('join') : $('room')).focus();
}

function teardown() {
  const sig = app.signaling;
  app.signaling = null;
  sig?.close();
  screen.forget();
  app.publisher?.close();
  app.publisher = null;
  app.subscriber?.close();
  app.subscriber = null;
  app.panels?.destroy();
  app.panels = null;
  app.panelOpen = false;
  app.participants = new Map();
  app.slotQuality = new Map();
  app.participantId = null;
  app.roomState = null;
  tickFloorClock();
  app.mutedByChair = null;
  app.grants = new Set();
  app.gallery = 0;
  app.mediaState = { publish: 'new', subscribe: 'new' };
  health.reset();
  flow.stop();
  links.stop();
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
  renderTokenNotice();
  if (app.phase === 'left') renderLeft();
  else if (app.phase !== 'join' && app.phase !== 'joining') renderMeeting();
  notices.relabel();
  const key = $('media-error').dataset.key;
  if (key) $('media-error').textContent = mediaErrorText(key);
  if (formRole() === 'observer') $('preview-off').textContent = t('join.observerNoCamera');
  fillSelects($('audio-device'), $('video-device'), app.choice, app.stream);
}


// ---------- start ----------

async function init() {
  staticIcons();
  applyTranslations();
  const params = new URLSearchParams(location.search);
  $('lang-switch').addEventListener('click', () => setLang(getLang() === 'vi' ? 'en' : 'vi'));
  onLangChange(relabelAll);
  $('join-form').addEventListener('submit', onJoinSubmit);
  $('audio-device').addEventListener('change', onPreviewDeviceChange);
  $('video-device').addEventListener('change', onPreviewDeviceChange);
  $('role').addEventListener('change', () => startPreview());
  $('toggle-audio').addEventListener('click', () => toggle('audio'));
  $('toggle-video').addEventListener('click', () => toggle('video'));
  $('toggle-hand').addEventListener('click', toggleHand);
  $('toggle-share').addEventListener('click', toggleShare);
  $('toggle-layout').addEventListener('click', toggleLayout);
  $('toggle-panel').addEventListener('click', togglePanel);
  $('open-settings').addEventListener('click', openSettings);
  $('settings-audio').addEventListener('change', (e) => onSettingsChange('audio', e.target.value));
  $('settings-video').addEventListener('change', (e) => onSettingsChange('video', e.target.value));
  $('leave').addEventListener('click', leave);
  $('rejoin').addEventListener('click', joinAgain);
  $('to-form').addEventListener('click', toForm);
  $('media-retry').addEventListener('click', () => health.retry());
  $('speaker-test').addEventListener('click', testSpeakers);
  let resizeTimer = null;
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { syncGallery(); renderMeeting(); }, 400); });
  window.addEventListener('pagehide', () => app.signaling?.leaveNow());
  setPhase('join');
  $('join').disabled = true; // until we know where the token comes from
  let savedName = '';
  try { savedName = localStorage.getItem(NAME_KEY) || ''; } catch { /* ignore */ }
  app.credentials = await setUpJoinForm({ savedName, room: params.get('room') || '' });
  setPhase('join');
  renderControls();
  const first = [$('name'), $('room')].find((el) => !el.readOnly && !el.value) || $('join');
  first.focus();
  document.body.dataset.ready = 'true';
  startPreview();
}

window.diemcau = {
  get state() { return app.phase; },
  get participantId() { return app.participantId; },
  get room() { return app.room; },
  get name() { return app.name; },
  get role() { return app.role; },
  get grants() { return [...app.grants]; },
  get roomState() { return app.roomState; },
  get layout() { return app.layout; },
  get gallery() { return app.gallery; },
  get connection() { return app.signaling?.state ?? 'idle'; },
  get participants() { return [...app.participants.values()]; },
  get slots() { return app.subscriber ? [...app.subscriber.slots.values()] : []; },
  get sharing() { return screen.sharing; },
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
  /** link-quality.js's levels: {own, remote: {participant id → level}}. */
  get linkQuality() {
    const remote = [...links.remote].map(([id, j]) => [id, { level: j.level, loss: j.loss, frozen: j.frozen, packets: j.packets }]);
    return { own: links.own, remote: Object.fromEntries(remote) };
  },
  /** A signaling request as the page would send it (tests drive the chair's moderation with it). */
  request: (type, fields = {}) => {
    if (!app.signaling) return Promise.reject(new Error('not connected'));
    return app.signaling.request(type, fields).catch((e) => { throw new Error(e.code || e.message); });
  },
  /** Drop the signaling socket as a network failure would (tests of resume and rejoin). */
  dropConnection: () => app.signaling?.drop(),
  stats: () => collectStats(app.publisher, app.subscriber),
  /** The camera's send encodings (simulcast layers) and its width, for tests. */
  publishEncodings: () => {
    const tr = app.publisher?.transceivers.video;
    if (!tr) return null;
    const encodings = tr.sender.getParameters().encodings || [];
    return { width: tr.sender.track?.getSettings().width || 0, layers: encodings.map((e) => ({ rid: e.rid, scale: e.scaleResolutionDownBy, maxBitrate: e.maxBitrate })) };
  },
};

init();

// controls.js — the control bar's look from the meeting's state: which buttons the
// participant's grants allow, and what each says (a delegate's microphone waits for the
// floor; a raised hand shows its place in the queue). Actions stay in app.js.

import { t } from './i18n.js';
import { icons } from './icons.js';
import { clock } from './tile.js';

const $ = (id) => document.getElementById(id);

function setButton(id, { hidden = false, state, icon, text, disabled = false, pressed }) {
  const b = $(id);
  b.hidden = hidden;
  if (hidden) return;
  if (state != null) b.dataset.state = state;
  b.disabled = disabled;
  if (pressed != null) b.setAttribute('aria-pressed', String(pressed));
  if (icon) b.querySelector('.ctl-icon').innerHTML = icon;
  b.querySelector('.ctl-text').textContent = text;
}

/**
 * s: {grants:Set, selfId, muted:{audio,video}, mutedByChair:{audio,video}, roomState, sharing,
 *     shareBusy, shareSupported, layout, panelOpen}
 */
export function renderControls(s) {
  const publish = s.grants.has('publish');
  const rs = s.roomState || {};
  const hasFloor = !!s.selfId && rs.floor_holder === s.selfId;
  // Without `speak` the server forwards this microphone only while it holds the floor.
  const floorNeeded = publish && !s.grants.has('speak') && !hasFloor;

  // Closed by the chair at the server: only the chair reopens it, so the button says so and
  // does nothing (the user would otherwise think it is on, or keep pressing it).
  const byChair = s.mutedByChair || {};
  const micText = byChair.audio ? t('control.micByChair') : s.muted.audio ? t('control.micOn')
    : floorNeeded ? t('control.micFloorNeeded') : t('control.micOff');
  setButton('toggle-audio', {
    hidden: !publish,
    state: byChair.audio ? 'chair' : s.muted.audio ? 'off' : floorNeeded ? 'floor' : 'on',
    icon: byChair.audio || s.muted.audio || floorNeeded ? icons.micOff : icons.mic,
    text: micText,
    disabled: !!byChair.audio,
  });
  $('toggle-audio').dataset.floor = floorNeeded ? 'needed' : hasFloor ? 'held' : 'free';
  setButton('toggle-video', {
    hidden: !publish,
    state: byChair.video ? 'chair' : s.muted.video ? 'off' : 'on',
    icon: byChair.video || s.muted.video ? icons.camOff : icons.cam,
    text: t(byChair.video ? 'control.camByChair' : s.muted.video ? 'control.camOn' : 'control.camOff'),
    disabled: !!byChair.video,
  });

  const hands = rs.hands || [];
  const position = hands.indexOf(s.selfId) + 1;
  setButton('toggle-hand', {
    hidden: !publish || s.grants.has('moderate'),
    state: hasFloor ? 'floor' : position ? 'raised' : 'down',
    icon: icons.hand,
    text: hasFloor
      ? (rs.floor_until ? t('control.hasFloorLeft', { left: clock(rs.floor_until - Date.now()) }) : t('control.hasFloor'))
      : position ? t('control.handLower', { n: position }) : t('control.handRaise'),
    disabled: hasFloor,
    pressed: position > 0,
  });
  $('toggle-hand').dataset.position = String(position);

  const mayShare = s.grants.has('share_screen') || (hasFloor && rs.floor_may_share);
  setButton('toggle-share', {
    hidden: !publish || !mayShare || !s.shareSupported,
    state: s.sharing ? 'sharing' : 'idle',
    icon: icons.screen,
    text: t(s.sharing ? 'control.shareStop' : 'control.share'),
    disabled: s.shareBusy,
    pressed: s.sharing,
  });

  setButton('toggle-layout', {
    icon: s.layout === 'speaker' ? icons.grid : icons.speaker,
    text: t(s.layout === 'speaker' ? 'control.layoutGrid' : 'control.layoutSpeaker'),
  });
  $('toggle-layout').dataset.layout = s.layout;
  setButton('toggle-panel', { icon: icons.people, text: t(s.panelOpen ? 'control.panelClose' : 'control.panelOpen'), pressed: s.panelOpen });
  $('toggle-panel').setAttribute('aria-expanded', String(s.panelOpen));
}

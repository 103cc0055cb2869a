// devices.js — camera/microphone choice: getUserMedia with chosen devices,
// enumerateDevices into <select> boxes, remembered in localStorage.

import { t } from './i18n.js';

const KEY = 'diemcau.devices';

export function loadChoice() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || '{}');
    return { audio: v.audio ?? '', video: v.video ?? '' };
  } catch {
    return { audio: '', video: '' };
  }
}

export function saveChoice(choice) {
  try { localStorage.setItem(KEY, JSON.stringify(choice)); } catch { /* ignore */ }
}

// A choice value: '' = default device, 'none' = do not use, else a deviceId.
function constraint(value, extra) {
  if (value === 'none') return false;
  if (!value) return extra;
  return { ...extra, deviceId: { exact: value } };
}

const VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } };
const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/**
 * Open the chosen devices. Returns {stream, error}: stream may hold fewer
 * tracks than asked (e.g. no camera); error is an i18n key or null.
 */
export async function openMedia(choice) {
  const audio = constraint(choice.audio, AUDIO);
  const video = constraint(choice.video, VIDEO);
  // Over plain http:// from another machine the browser hides mediaDevices altogether:
  // say why and what the administrator must do, not just "no camera".
  if (!window.isSecureContext) return { stream: new MediaStream(), error: 'error.insecure' };
  if (!navigator.mediaDevices?.getUserMedia) return { stream: new MediaStream(), error: 'error.noMediaDevices' };
  if (!audio && !video) return { stream: new MediaStream(), error: null };
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio, video }), error: null };
  } catch (e) {
    if (e.name === 'NotAllowedError' || e.name === 'SecurityError') {
      return { stream: new MediaStream(), error: 'error.mediaDenied' };
    }
    // Try each kind on its own so that one broken device does not take both.
    const stream = new MediaStream();
    for (const [kind, c] of [['audio', audio], ['video', video]]) {
      if (!c) continue;
      try {
        const s = await navigator.mediaDevices.getUserMedia({ [kind]: c });
        s.getTracks().forEach((tr) => stream.addTrack(tr));
      } catch { /* leave it out */ }
    }
    return { stream, error: 'error.media' };
  }
}

/** Open one kind only (for switching a device during the meeting). */
export async function openTrack(kind, value) {
  const c = constraint(value, kind === 'audio' ? AUDIO : VIDEO);
  if (!c) return null;
  const s = await navigator.mediaDevices.getUserMedia({ [kind]: c });
  return s.getTracks()[0] || null;
}

export function stopStream(stream) {
  stream?.getTracks().forEach((tr) => tr.stop());
}

/** Fill the two <select>s from enumerateDevices, keeping the current choice. */
export async function fillSelects(audioSelect, videoSelect, choice, stream) {
  let devices = [];
  try { devices = await navigator.mediaDevices.enumerateDevices(); } catch { /* none */ }
  // The device actually in use, when the choice was "default".
  const inUse = {};
  stream?.getTracks().forEach((tr) => { inUse[tr.kind] = tr.getSettings?.().deviceId; });
  fill(audioSelect, devices.filter((d) => d.kind === 'audioinput'), choice.audio || inUse.audio, 'devices.unnamedMic');
  fill(videoSelect, devices.filter((d) => d.kind === 'videoinput'), choice.video || inUse.video, 'devices.unnamedCamera');
}

function fill(select, list, selected, unnamedKey) {
  select.textContent = '';
  list.forEach((d, i) => {
    const o = document.createElement('option');
    o.value = d.deviceId || '';
    o.textContent = d.label || t(unnamedKey, { n: i + 1 });
    select.append(o);
  });
  if (!list.length) {
    const o = document.createElement('option');
    o.value = '';
    o.textContent = t(unnamedKey, { n: 1 });
    select.append(o);
  }
  const none = document.createElement('option');
  none.value = 'none';
  none.textContent = t('devices.none');
  select.append(none);
  const values = [...select.options].map((o) => o.value);
  select.value = values.includes(selected) ? selected : values[0];
}

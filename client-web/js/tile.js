// tile.js — one video tile per subscribe video slot (PROTOCOL.md "Media model"). The tile
// and its <video> stay with the slot for the whole session; `slot_update` only changes whom
// it shows, so update() relabels it (name, role, floor, hand) and hides it while the slot
// shows nobody. A camera tile carries data-participant-id; the screen tile carries
// data-sharer-id instead, so a sharer's camera and screen never pass for each other.

import { t } from './i18n.js';
import { icons } from './icons.js';

export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  const first = [...words[0]][0];
  const last = words.length > 1 ? [...words[words.length - 1]][0] : '';
  return (first + last).toLocaleUpperCase('vi');
}

const COLORS = ['#1d4f91', '#7a2e8c', '#0b6e4f', '#9c4a00', '#a4133c', '#35597a', '#5b4a00', '#2f5d2f'];
export function colorFor(id) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length];
}

/** m:ss of a time left (a time-limited floor), rounded up so 0:00 is never shown while it runs. */
export function clock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// What the server's allocation did to a tile (PROTOCOL.md `slot_quality`): paused it,
// sent it at a lower frame rate (a screen share's base temporal layers), or lowered it.
function limitKind(q) {
  if (q.layer === 'off') return 'paused';
  return q.frame_rate === 'reduced' ? 'slower' : 'lowered';
}

function trackMuted(participant, kind) {
  const tr = participant?.tracks?.find((x) => x.kind === kind && !x.screen);
  return !tr || !!tr.muted || !!participant?.muted_by_chair?.[kind];
}

export class SlotTile {
  constructor(mid, use) {
    this.mid = mid;
    this.use = use;
    this.track = null;
    this.el = document.createElement('figure');
    this.el.className = use === 'screen' ? 'tile tile-screen' : 'tile';
    this.el.dataset.mid = mid;
    this.el.dataset.use = use;
    this.el.hidden = true;
    this.el.innerHTML = `
      <video autoplay playsinline muted></video>
      <div class="avatar" aria-hidden="true"><span></span><p class="tile-note" hidden></p></div>
      <p class="tile-state" role="status" hidden></p>
      <p class="tile-limit" role="status" hidden></p>
      <figcaption class="tile-label">
        <span class="mic-off" hidden>${icons.micOff}</span>
        <span class="name"></span>
        <span class="role-chip"></span>
        <span class="hand-chip" hidden></span>
        <span class="link-chip" hidden>${icons.signal}<span class="link-text"></span></span>
      </figcaption>`;
    this.video = this.el.querySelector('video');
    this.video.addEventListener('loadeddata', () => this.el.classList.add('has-frames'));
    this.onTrackMute = () => this.refresh?.();
  }

  setTrack(track) {
    if (this.track === track) return;
    if (this.track) {
      this.track.removeEventListener('mute', this.onTrackMute);
      this.track.removeEventListener('unmute', this.onTrackMute);
    }
    this.track = track;
    this.el.classList.remove('has-frames');
    this.video.srcObject = track ? new MediaStream([track]) : null;
    if (track) {
      track.addEventListener('mute', this.onTrackMute);
      track.addEventListener('unmute', this.onTrackMute);
      this.video.play().catch(() => {});
    }
  }

  /**
   * slot: {participantId, track}; p: the participant it shows (or undefined);
   * media: 'live' | 'connecting' | 'retrying' | 'stalled' | 'waiting' | 'failed';
   * extra: {speaking, handPosition, floorLeftMs (a time-limited floor's time left),
   * link ('good' | 'weak' | 'bad': how their media reaches us, link-quality.js),
   * quality (the server's last `slot_quality` for this slot: {layer, requested, reason})}.
   */
  update(slot, p, media, extra = {}) {
    const el = this.el;
    const id = slot.participantId;
    this.refresh = () => this.update(slot, p, media, extra);
    el.hidden = !id;
    const idAttr = this.use === 'screen' ? 'sharerId' : 'participantId';
    if (id) el.dataset[idAttr] = id;
    else delete el.dataset[idAttr];
    this.setTrack(id ? slot.track : null);
    if (!id) return;
    el.style.setProperty('--avatar', colorFor(id));
    const name = p?.name || '';
    const isScreen = this.use === 'screen';
    const videoMuted = !isScreen && trackMuted(p, 'video');
    const audioMuted = !isScreen && trackMuted(p, 'audio');
    const track = this.track;
    const showVideo = !!track && !videoMuted && !track.muted && media === 'live';
    el.dataset.media = media;
    el.dataset.videoMuted = String(videoMuted);
    el.dataset.audioMuted = String(audioMuted);
    el.dataset.hasVideo = String(!!track);
    el.classList.toggle('show-video', showVideo);
    el.classList.toggle('speaking', !!extra.speaking && !isScreen);
    const stateLine = el.querySelector('.tile-state');
    stateLine.hidden = media === 'live';
    stateLine.textContent = media === 'live' ? '' : t(`tile.${media}`, { name });
    // No picture because the chair closed the camera, not a fault: say who did, quietly.
    const note = el.querySelector('.tile-note');
    const byChair = !isScreen && media === 'live' && !!p?.muted_by_chair?.video;
    note.hidden = !byChair;
    note.textContent = byChair ? t('tile.camByChair') : '';
    el.querySelector('.avatar span').textContent = initials(name);
    el.querySelector('.name').textContent = isScreen ? t('tile.screenOf', { name }) : name;
    const floor = extra.floorLeftMs > 0 ? t('tile.hasFloorLeft', { left: clock(extra.floorLeftMs) }) : t('tile.hasFloor');
    const role = isScreen ? '' : this.use === 'floor_video' ? floor : p?.role ? t(`role.${p.role}`) : '';
    const roleChip = el.querySelector('.role-chip');
    roleChip.textContent = role;
    roleChip.hidden = !role;
    el.dataset.role = p?.role || '';
    const hand = el.querySelector('.hand-chip');
    hand.hidden = !extra.handPosition;
    hand.textContent = extra.handPosition ? t('tile.hand', { n: extra.handPosition }) : '';
    // The server lowered or paused this tile to fit the bandwidth: say so, and why (the
    // paused tile keeps its last picture, so without this it would look frozen).
    const q = extra.quality;
    const limit = media === 'live' && q?.reason ? limitKind(q) : '';
    // Shown only when it is not good: a quiet tile means all is well. Not beside the
    // server's own reason: its layer switches and pauses read as freezes here.
    const link = media === 'live' && extra.link && !limit ? extra.link : 'good';
    el.dataset.link = link;
    const linkChip = el.querySelector('.link-chip');
    linkChip.hidden = link === 'good';
    linkChip.dataset.level = link;
    linkChip.querySelector('.link-text').textContent = link === 'good' ? '' : t(`tile.link.${link}`);
    el.dataset.limit = limit;
    el.dataset.limitReason = limit ? q.reason : '';
    const limitLine = el.querySelector('.tile-limit');
    limitLine.hidden = !limit;
    limitLine.textContent = limit ? t(`tile.${limit}.${q.reason}`) : '';
    const micOff = el.querySelector('.mic-off');
    micOff.hidden = !audioMuted;
    micOff.title = t('meeting.micMuted');
    const states = [el.querySelector('.name').textContent];
    if (role) states.push(role);
    if (media !== 'live') states.push(stateLine.textContent);
    if (audioMuted) states.push(t('meeting.micMuted'));
    if (videoMuted) states.push(t('meeting.camMuted'));
    if (extra.handPosition) states.push(hand.textContent);
    if (link !== 'good') states.push(t(`tile.link.${link}`));
    if (limit) states.push(limitLine.textContent);
    el.setAttribute('aria-label', states.join(', '));
  }

  remove() {
    this.setTrack(null);
    this.el.remove();
  }
}

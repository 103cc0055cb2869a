// ui.js — the meeting grid: one tile per remote participant (video or an
// avatar with initials, name label, muted indicators, and a plain-language line
// when their media is not arriving), one <audio> per remote audio slot, the self
// view and the participant count.

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
function colorFor(id) {
  let h = 0;
  for (const c of String(id)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length];
}

function trackMuted(participant, kind) {
  const tr = participant?.tracks?.find((x) => x.kind === kind);
  return !tr || !!tr.muted;
}

export class MeetingView {
  constructor({ grid, audioSinks, count, selfVideo, selfTile, selfName, empty }) {
    this.grid = grid;
    this.audioSinks = audioSinks;
    this.count = count;
    this.selfVideo = selfVideo;
    this.selfTile = selfTile;
    this.selfName = selfName;
    this.empty = empty;
    this.tiles = new Map(); // participantId → tile element
    this.audios = new Map(); // mid → <audio>
    this.participants = new Map();
    this.tracks = [];
  }

  /**
   * participants: Map id → {id, name, tracks}; tracks: subscriber.activeTracks();
   * mediaOf(id) → 'live' | 'connecting' | 'retrying' | 'stalled' | 'waiting' | 'failed'.
   */
  render(participants, tracks, mediaOf = () => 'live') {
    this.participants = participants;
    this.tracks = tracks;
    this.mediaOf = mediaOf;
    for (const [id, tile] of this.tiles) {
      if (!participants.has(id)) {
        tile.remove();
        this.tiles.delete(id);
      }
    }
    for (const p of participants.values()) {
      let tile = this.tiles.get(p.id);
      if (!tile) {
        tile = this.createTile(p);
        this.tiles.set(p.id, tile);
      }
      this.grid.append(tile); // keeps join order
      const video = tracks.find((x) => x.kind === 'video' && x.participantId === p.id);
      this.updateTile(tile, p, video?.track || null);
    }
    this.grid.append(this.selfTile); // last cell
    this.renderAudio(tracks);
    const n = participants.size;
    const cells = n + 1; // with the self view
    this.grid.dataset.count = String(n);
    this.grid.style.setProperty('--cols', String(cells <= 1 ? 1 : cells <= 4 ? 2 : cells <= 9 ? 3 : 4));
    this.grid.classList.toggle('many', cells > 12);
    this.empty.hidden = n > 0;
    this.updateCount();
  }

  createTile(p) {
    const tile = document.createElement('figure');
    tile.className = 'tile';
    tile.dataset.participantId = p.id;
    tile.style.setProperty('--avatar', colorFor(p.id));
    tile.innerHTML = `
      <video autoplay playsinline muted></video>
      <div class="avatar" aria-hidden="true"><span></span></div>
      <p class="tile-state" role="status" hidden></p>
      <figcaption class="tile-label">
        <span class="mic-off" hidden>${icons.micOff}</span>
        <span class="name"></span>
      </figcaption>`;
    const video = tile.querySelector('video');
    video.addEventListener('loadeddata', () => tile.classList.add('has-frames'));
    return tile;
  }

  updateTile(tile, p, track) {
    const video = tile.querySelector('video');
    if (tile._track !== track) {
      if (tile._track) {
        tile._track.removeEventListener('mute', tile._onMute);
        tile._track.removeEventListener('unmute', tile._onMute);
      }
      tile._track = track;
      tile.classList.remove('has-frames');
      video.srcObject = track ? new MediaStream([track]) : null;
      if (track) {
        tile._onMute = () => this.updateTile(tile, this.participants.get(p.id) || p, track);
        track.addEventListener('mute', tile._onMute);
        track.addEventListener('unmute', tile._onMute);
        video.play().catch(() => {});
      }
    }
    const videoMuted = trackMuted(p, 'video');
    const audioMuted = trackMuted(p, 'audio');
    // A participant who publishes nothing has no media to wait for.
    const media = p.tracks?.length ? this.mediaOf(p.id) : 'live';
    const showVideo = !!track && !videoMuted && !track.muted && media === 'live';
    tile.dataset.media = media;
    const stateLine = tile.querySelector('.tile-state');
    stateLine.hidden = media === 'live';
    stateLine.textContent = media === 'live' ? '' : t(`tile.${media}`, { name: p.name });
    tile.dataset.videoMuted = String(videoMuted);
    tile.dataset.audioMuted = String(audioMuted);
    tile.dataset.hasVideo = String(!!track);
    tile.classList.toggle('show-video', showVideo);
    tile.querySelector('.avatar span').textContent = initials(p.name);
    tile.querySelector('.name').textContent = p.name;
    const micOff = tile.querySelector('.mic-off');
    micOff.hidden = !audioMuted;
    micOff.title = t('meeting.micMuted');
    const states = [p.name];
    if (media !== 'live') states.push(stateLine.textContent);
    if (audioMuted) states.push(t('meeting.micMuted'));
    if (videoMuted) states.push(t('meeting.camMuted'));
    tile.setAttribute('aria-label', states.join(', '));
  }

  renderAudio(tracks) {
    const audioTracks = tracks.filter((x) => x.kind === 'audio');
    const live = new Set(audioTracks.map((x) => x.mid));
    for (const [mid, el] of this.audios) {
      if (!live.has(mid)) {
        el.srcObject = null;
        el.remove();
        this.audios.delete(mid);
      }
    }
    for (const x of audioTracks) {
      let el = this.audios.get(x.mid);
      if (!el) {
        el = document.createElement('audio');
        el.autoplay = true;
        el.dataset.mid = x.mid;
        this.audioSinks.append(el);
        this.audios.set(x.mid, el);
      }
      el.dataset.participantId = x.participantId;
      if (el._track !== x.track) {
        el._track = x.track;
        el.srcObject = new MediaStream([x.track]);
        el.play().catch(() => {});
      }
    }
  }

  updateCount() {
    const total = this.participants.size + 1; // including you
    this.count.dataset.count = String(total);
    this.count.dataset.remoteCount = String(this.participants.size);
    this.count.querySelector('.count-text').textContent = t('meeting.count', { n: total });
  }

  /** Self view: local stream, own name, own mute state. */
  renderSelf(stream, name, muted) {
    if (this.selfVideo.srcObject !== stream) this.selfVideo.srcObject = stream;
    const hasVideo = !!stream?.getVideoTracks().length;
    this.selfTile.classList.toggle('show-video', hasVideo && !muted.video);
    this.selfTile.querySelector('.avatar span').textContent = initials(name);
    this.selfName.textContent = t('meeting.you');
    this.selfTile.setAttribute('aria-label', t('meeting.selfLabel', { name }));
    this.selfTile.querySelector('.mic-off').hidden = !muted.audio;
    this.selfTile.dataset.audioMuted = String(!!muted.audio);
    this.selfTile.dataset.videoMuted = String(!!muted.video);
  }

  /** Re-render texts after a language switch. */
  relabel() {
    this.render(this.participants, this.tracks, this.mediaOf);
  }

  clear() {
    for (const tile of this.tiles.values()) tile.remove();
    this.tiles.clear();
    for (const el of this.audios.values()) { el.srcObject = null; el.remove(); }
    this.audios.clear();
    this.participants = new Map();
    this.tracks = [];
    this.selfVideo.srcObject = null;
  }
}

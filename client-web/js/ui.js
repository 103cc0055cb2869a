// ui.js — the meeting stage: the video slot tiles placed by layout, one <audio> per audio
// slot, the self view and the participant count.
//
// Layouts: `speaker` puts one tile large in the program area — the screen share when there
// is one, else whoever holds the floor, else the chair — with the other tiles in a strip
// beside it; `grid` shows every tile alike. Speaker layout with nothing for the program
// shows the grid. The tiles belong to slots (tile.js); this module only decides where
// each goes.

import { t } from './i18n.js';
import { SlotTile, initials } from './tile.js';

export { initials };

const PROGRAM_ORDER = ['screen', 'floor_video', 'chair_video'];
const VIDEO_ORDER = { screen: 0, chair_video: 1, floor_video: 2, gallery: 3 };

/** How many gallery slots a layout shows (PROTOCOL.md `set_gallery`, 0–25). */
export function galleryFor(layout, width = window.innerWidth) {
  if (layout === 'speaker') return width < 700 ? 3 : 6;
  if (width < 700) return 4;
  return width >= 1600 ? 16 : 9;
}

export class MeetingView {
  constructor({ stage, program, grid, audioSinks, count, selfVideo, selfTile, selfName, empty }) {
    this.stage = stage;
    this.program = program;
    this.grid = grid;
    this.audioSinks = audioSinks;
    this.count = count;
    this.selfVideo = selfVideo;
    this.selfTile = selfTile;
    this.selfName = selfName;
    this.empty = empty;
    this.tiles = new Map(); // mid → SlotTile
    this.audios = new Map(); // mid → <audio>
    this.last = null;
  }

  /**
   * slots: subscriber.slotViews(); participants: Map id → participant; mediaOf(id) → tile
   * media state; linkOf(id) → 'good' | 'weak' | 'bad'; qualityOf(mid) → the server's last
   * slot_quality for it (or null); layout: 'speaker' | 'grid';
   * roomState: the server's room_state (or null).
   */
  render({ slots, participants, mediaOf = () => 'live', linkOf = () => 'good', qualityOf = () => null, layout = 'speaker', roomState = null }) {
    this.last = { slots, participants, mediaOf, linkOf, qualityOf, layout, roomState };
    const hands = roomState?.hands || [];
    const dominant = roomState?.dominant_speaker ?? null;
    const floorLeftMs = roomState?.floor_until ? roomState.floor_until - Date.now() : 0;
    const video = slots.filter((s) => s.kind === 'video');
    for (const s of video) {
      let tile = this.tiles.get(s.mid);
      if (!tile) {
        tile = new SlotTile(s.mid, s.use);
        this.tiles.set(s.mid, tile);
      }
      const p = participants.get(s.participantId);
      // Someone who publishes nothing (yet) has no media to wait for.
      let media = s.participantId && (s.use === 'screen' || p?.tracks?.length) ? mediaOf(s.participantId) : 'live';
      // paused by the server to fit the bandwidth: nothing arrives on purpose, not lost
      const quality = qualityOf(s.mid);
      if (quality?.layer === 'off' && (media === 'stalled' || media === 'waiting')) media = 'live';
      const hand = hands.indexOf(s.participantId);
      tile.update(s, p, media, {
        speaking: s.participantId === dominant, handPosition: hand >= 0 ? hand + 1 : 0, floorLeftMs,
        link: s.participantId ? linkOf(s.participantId) : 'good',
        quality,
      });
    }
    const shown = video.filter((s) => s.participantId);
    shown.sort((a, b) => (VIDEO_ORDER[a.use] ?? 9) - (VIDEO_ORDER[b.use] ?? 9) || Number(a.mid) - Number(b.mid));
    const program = layout === 'speaker'
      ? PROGRAM_ORDER.map((use) => shown.find((s) => s.use === use)).find(Boolean) || null
      : null;
    const effective = program ? 'speaker' : 'grid';
    this.stage.dataset.layout = effective;
    this.program.hidden = !program;
    if (program) this.program.append(this.tiles.get(program.mid).el);
    for (const s of shown) if (s !== program) this.grid.append(this.tiles.get(s.mid).el);
    for (const s of video) if (!s.participantId) this.grid.append(this.tiles.get(s.mid).el); // hidden, kept
    this.grid.append(this.selfTile); // last cell
    this.selfTile.classList.toggle('speaking', !!dominant && dominant === this.selfId);
    this.renderAudio(slots.filter((s) => s.kind === 'audio'));
    const cells = shown.length - (program ? 1 : 0) + 1; // with the self view
    this.grid.dataset.count = String(cells - 1);
    this.grid.style.setProperty('--cols', String(cells <= 1 ? 1 : cells <= 4 ? 2 : cells <= 9 ? 3 : cells <= 16 ? 4 : 5));
    this.grid.classList.toggle('many', cells > 12);
    // Nobody else, or others whose pictures no slot shows (observers, no camera): say which.
    this.empty.hidden = shown.length > 0;
    this.empty.textContent = t(participants.size ? 'meeting.noVideo' : 'meeting.empty', { n: participants.size });
    this.updateCount(participants.size);
  }

  /** One <audio> per audio slot mid, playing whatever the slot carries now. */
  renderAudio(slots) {
    for (const s of slots) {
      let el = this.audios.get(s.mid);
      if (!el) {
        el = document.createElement('audio');
        el.autoplay = true;
        el.dataset.mid = s.mid;
        this.audioSinks.append(el);
        this.audios.set(s.mid, el);
      }
      el.dataset.use = s.use;
      if (s.participantId) el.dataset.participantId = s.participantId;
      else delete el.dataset.participantId;
      const track = s.participantId ? s.track : null;
      if (el._track !== track) {
        el._track = track;
        el.srcObject = track ? new MediaStream([track]) : null;
        if (track) el.play().catch(() => {});
      }
    }
  }

  updateCount(remote) {
    const total = remote + 1; // including you
    this.count.dataset.count = String(total);
    this.count.dataset.remoteCount = String(remote);
    this.count.querySelector('.count-text').textContent = t('meeting.count', { n: total });
  }

  /** Self view: local stream, own name, own mute state; id for the speaking highlight. */
  renderSelf(stream, name, muted, id) {
    this.selfId = id;
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
    if (this.last) this.render(this.last);
  }

  clear() {
    for (const tile of this.tiles.values()) tile.remove();
    this.tiles.clear();
    for (const el of this.audios.values()) { el.srcObject = null; el.remove(); }
    this.audios.clear();
    this.last = null;
    this.program.hidden = true;
    this.selfVideo.srcObject = null;
  }
}

// roster.js — the participant list: one row per person, kept in order (chair, floor holder,
// raised hands in queue order, then by name). Rows are created once and updated in place;
// an event moves only the rows whose place changed, so a room of 250 stays cheap.

import { t } from './i18n.js';
import { el, setText, setShown } from './panel-dom.js';

const collator = new Intl.Collator('vi', { sensitivity: 'base', numeric: true });

// Sort groups, in the order the list shows them.
const RANK_CHAIR = 0;
const RANK_FLOOR = 1;
const RANK_HAND = 2;
const RANK_OTHER = 3;

/** A track of kind `kind` the participant sends and has not muted itself. */
function selfMuted(p, kind) {
  const tr = (p.tracks || []).find((x) => x.kind === kind && !x.screen);
  return !tr || tr.muted;
}

export class Roster {
  /**
   * list: the <ul> to fill. selfId: own participant id. moderator: show the chair's row
   * buttons. onAction(action, id): a row button was pressed (mute-audio, mute-video,
   * grant, remove).
   */
  constructor({ list, selfId, moderator, onAction }) {
    this.list = list;
    this.selfId = selfId;
    this.moderator = moderator;
    this.rows = new Map(); // id → {p, li, parts, key}
    this.state = { chair: null, floor_holder: null, hands: [] };
    this.handIndex = new Map(); // id → 0-based place in the queue
    this.speaker = null;
    list.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action]');
      const li = b?.closest('li[data-participant-id]');
      if (!b || !li) return;
      if (b.dataset.action === 'menu') this.toggleMenu(li.dataset.participantId);
      else onAction(b.dataset.action, li.dataset.participantId);
    });
  }

  get size() { return this.rows.size; }

  participant(id) { return this.rows.get(id)?.p; }

  /** Replaces the whole list (join, resume). */
  setAll(list) {
    const keep = new Set(list.map((p) => p.id));
    for (const id of [...this.rows.keys()]) if (!keep.has(id)) this.remove(id, false);
    for (const p of list) this.upsert(p, false);
    this.reorder();
  }

  /** A joined or updated participant; fields not sent keep their old values. */
  upsert(p, reorder = true) {
    let row = this.rows.get(p.id);
    if (!row) {
      row = this.createRow(p);
      this.rows.set(p.id, row);
    } else {
      row.p = { ...row.p, ...p };
    }
    this.paint(row);
    if (reorder) this.reorder();
  }

  remove(id, reorder = true) {
    const row = this.rows.get(id);
    if (!row) return;
    row.li.remove();
    this.rows.delete(id);
    if (reorder) this.reorder();
  }

  setRoomState(state) {
    const before = this.state;
    this.state = state;
    this.handIndex = new Map((state.hands || []).map((id, i) => [id, i]));
    // Only rows whose chair/floor/hand standing changed need painting.
    const touched = new Set([before.chair, state.chair, before.floor_holder, state.floor_holder,
      ...(before.hands || []), ...(state.hands || [])]);
    for (const id of touched) {
      const row = id && this.rows.get(id);
      if (row) this.paint(row);
    }
    this.reorder();
  }

  setSpeaker(id) {
    const old = this.rows.get(this.speaker);
    this.speaker = id;
    if (old) this.paint(old);
    const now = this.rows.get(id);
    if (now) this.paint(now);
  }

  /** The chair muted every delegate's microphone. */
  delegatesMuted() {
    for (const row of this.rows.values()) {
      if (row.p.role !== 'delegate') continue;
      row.p = { ...row.p, muted_by_chair: { ...(row.p.muted_by_chair || {}), audio: true } };
      this.paint(row);
    }
  }

  /** The language changed: every row's words. */
  relabel() {
    for (const row of this.rows.values()) {
      row.painted = null;
      this.paint(row);
    }
  }

  createRow(p) {
    const li = el('li', 'person');
    li.dataset.participantId = p.id;
    const main = el('div', 'person-main');
    const name = el('span', 'person-name');
    const you = el('span', 'person-you');
    const site = el('span', 'person-site');
    main.append(name, you, site);
    const badges = el('div', 'person-badges');
    const role = el('span', 'badge badge-role');
    const floor = el('span', 'badge badge-floor');
    const hand = el('span', 'badge badge-hand');
    const mic = el('span', 'badge badge-mic');
    const cam = el('span', 'badge badge-cam');
    badges.append(role, floor, hand, mic, cam);
    li.append(main, badges);
    const parts = { name, you, site, role, floor, hand, mic, cam };
    if (this.moderator && p.id !== this.selfId) {
      // The chair's buttons fold behind one per row, so 250 rows stay short. Their words
      // depend on the row's state: paint() writes them.
      const rowButton = (className, action) => {
        const b = el('button', className);
        b.type = 'button';
        b.dataset.action = action;
        return b;
      };
      parts.menu = rowButton('btn-small person-menu', 'menu');
      parts.menu.setAttribute('aria-expanded', 'false');
      main.append(parts.menu);
      const actions = el('div', 'person-actions');
      actions.hidden = true;
      parts.actions = actions;
      parts.grant = rowButton('btn-small', 'grant');
      parts.muteAudio = rowButton('btn-small', 'mute-audio');
      parts.muteVideo = rowButton('btn-small', 'mute-video');
      parts.remove = rowButton('btn-small btn-danger', 'remove');
      actions.append(parts.grant, parts.muteAudio, parts.muteVideo, parts.remove);
      li.append(actions);
    }
    return { p, li, parts, key: null, painted: null };
  }

  /** What a row shows, derived from the participant and the room state. */
  view(p) {
    const hand = this.handIndex.get(p.id);
    const byChair = p.muted_by_chair || {};
    return {
      name: p.name || p.id,
      you: p.id === this.selfId,
      site: p.site || '',
      role: p.role || '',
      floor: this.state.floor_holder === p.id,
      hand: hand == null ? 0 : hand + 1,
      micByChair: !!byChair.audio,
      camByChair: !!byChair.video,
      micOff: selfMuted(p, 'audio'),
      camOff: selfMuted(p, 'video'),
      speaking: this.speaker === p.id,
      canSpeak: (p.role !== 'observer'),
    };
  }

  paint(row) {
    const v = this.view(row.p);
    const sig = JSON.stringify(v);
    if (row.painted === sig) return;
    row.painted = sig;
    const { parts, li } = row;
    setText(parts.name, v.name);
    setShown(parts.you, v.you);
    setText(parts.you, t('panel.youTag'));
    setShown(parts.site, !!v.site);
    setText(parts.site, v.site);
    setText(parts.role, v.role ? t(`panel.role.${v.role}`) : '');
    parts.role.dataset.role = v.role;
    setShown(parts.floor, v.floor);
    setText(parts.floor, t('panel.floorBadge'));
    setShown(parts.hand, v.hand > 0);
    setText(parts.hand, t('panel.handBadge', { n: v.hand }));
    // The chair's mute says more than the participant's own, so it wins the badge.
    setShown(parts.mic, v.micByChair || (v.micOff && v.canSpeak));
    setText(parts.mic, t(v.micByChair ? 'panel.micByChair' : 'panel.micOff'));
    parts.mic.classList.toggle('by-chair', v.micByChair);
    setShown(parts.cam, v.camByChair || (v.camOff && v.canSpeak));
    setText(parts.cam, t(v.camByChair ? 'panel.camByChair' : 'panel.camOff'));
    parts.cam.classList.toggle('by-chair', v.camByChair);
    li.classList.toggle('speaking', v.speaking);
    li.classList.toggle('has-floor', v.floor);
    li.classList.toggle('has-hand', v.hand > 0);
    li.dataset.role = v.role;
    if (parts.grant) {
      setText(parts.menu, t('panel.actions'));
      parts.menu.setAttribute('aria-label', t('panel.actionsFor', { name: v.name }));
      setShown(parts.grant, v.canSpeak && !v.floor);
      setText(parts.grant, t('panel.grant'));
      parts.grant.setAttribute('aria-label', t('panel.grantTo', { name: v.name }));
      setText(parts.muteAudio, t(v.micByChair ? 'panel.unmuteAudio' : 'panel.muteAudio'));
      parts.muteAudio.setAttribute('aria-pressed', String(v.micByChair));
      parts.muteAudio.setAttribute('aria-label', t(v.micByChair ? 'panel.unmuteAudioOf' : 'panel.muteAudioOf', { name: v.name }));
      setShown(parts.muteAudio, v.canSpeak);
      setText(parts.muteVideo, t(v.camByChair ? 'panel.unmuteVideo' : 'panel.muteVideo'));
      parts.muteVideo.setAttribute('aria-pressed', String(v.camByChair));
      parts.muteVideo.setAttribute('aria-label', t(v.camByChair ? 'panel.unmuteVideoOf' : 'panel.muteVideoOf', { name: v.name }));
      setShown(parts.muteVideo, v.canSpeak);
      setText(parts.remove, t('panel.remove'));
      parts.remove.setAttribute('aria-label', t('panel.removeWho', { name: v.name }));
    }
  }

  /** Shows or hides the chair's buttons of one row (one row open at a time). */
  toggleMenu(id) {
    const row = this.rows.get(id);
    if (!row?.parts.actions) return;
    const open = row.parts.actions.hidden;
    const prev = this.rows.get(this.openMenu);
    if (prev && prev !== row) this.setMenu(prev, false);
    this.setMenu(row, open);
    this.openMenu = open ? id : null;
  }

  setMenu(row, open) {
    row.parts.actions.hidden = !open;
    row.parts.menu.setAttribute('aria-expanded', String(open));
    row.li.classList.toggle('menu-open', open);
  }

  sortKey(p) {
    if (p.id === this.state.chair || (!this.state.chair && p.role === 'chair')) return [RANK_CHAIR, 0];
    if (p.role === 'chair') return [RANK_CHAIR, 1];
    if (p.id === this.state.floor_holder) return [RANK_FLOOR, 0];
    const h = this.handIndex.get(p.id);
    if (h != null) return [RANK_HAND, h];
    return [RANK_OTHER, 0];
  }

  /**
   * Puts rows in order. Rows whose key did not change keep their relative order, so only
   * the changed ones leave the list and are put back, each before its successor.
   */
  reorder() {
    const entries = [...this.rows.values()];
    const moved = new Set();
    for (const row of entries) {
      const [rank, sub] = this.sortKey(row.p);
      const key = `${rank}|${sub}|${row.p.name || ''}|${row.p.id}`;
      if (row.key !== key || !row.li.isConnected) moved.add(row);
      row.key = key;
      row.rank = rank;
      row.sub = sub;
    }
    if (moved.size === 0) return;
    entries.sort((a, b) => a.rank - b.rank || a.sub - b.sub
      || collator.compare(a.p.name || '', b.p.name || '') || (a.p.id < b.p.id ? -1 : a.p.id > b.p.id ? 1 : 0));
    for (const row of moved) row.li.remove();
    for (let i = entries.length - 1; i >= 0; i--) {
      if (!moved.has(entries[i])) continue;
      const next = entries[i + 1]?.li ?? null;
      this.list.insertBefore(entries[i].li, next);
    }
  }
}

// chair.js — the chair's tools (only for the `moderate` grant): the hand queue with a
// grant per entry, next / revoke and the floor's time limit, mute all delegates, lock,
// "the floor may share its screen", end the meeting. Every action is a request; the
// result comes back as room_state / participant_updated, so nothing here guesses state.

import { t } from './i18n.js';
import { el, actionButton } from './panel-dom.js';

// Floor time limits offered, in seconds (0: no limit).
const FLOOR_LIMITS = [0, 120, 300, 600];

/** m:ss (or h:mm:ss) left until `until` (ms since the epoch). */
export function remaining(until, now = Date.now()) {
  const s = Math.max(0, Math.ceil((until - now) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class ChairTools {
  /**
   * container: where the tools go. act(type, fields) → Promise: sends a request and turns
   * its error into a toast (resolves to null then). nameOf(id): a participant's name.
   * confirm(text, okLabel) → Promise<boolean>.
   */
  constructor({ container, act, nameOf, confirm }) {
    this.act = act;
    this.nameOf = nameOf;
    this.confirm = confirm;
    this.state = { hands: [], floor_holder: null, floor_until: null, locked: false, floor_may_share: false };
    this.timer = null;
    this.entries = new Map(); // participant id → its entry in the hand queue

    const root = el('section', 'chair-tools');
    root.setAttribute('aria-labelledby', 'chair-tools-heading');
    const heading = el('h3', 'panel-heading visually-hidden', t('panel.chairTools'));
    heading.id = 'chair-tools-heading';
    heading.dataset.i18n = 'panel.chairTools';

    // The floor: who holds it, for how long, and the buttons that move it.
    const floor = el('div', 'floor-box');
    this.floorText = el('p', 'floor-status');
    this.floorText.setAttribute('aria-live', 'polite');
    // Next to "next speaker" the options read as how long ("for 2 minutes"); the label is
    // for screen readers and the tooltip.
    const limitText = el('label', 'visually-hidden', t('panel.floorLimit'));
    limitText.dataset.i18n = 'panel.floorLimit';
    limitText.htmlFor = 'floor-limit';
    this.limit = el('select', 'floor-limit-select');
    this.limit.id = 'floor-limit';
    this.limit.title = t('panel.floorLimit');
    for (const s of FLOOR_LIMITS) {
      const o = el('option');
      o.value = String(s);
      o.dataset.i18n = s ? `panel.limit${s / 60}` : 'panel.limitNone';
      o.textContent = t(o.dataset.i18n);
      this.limit.append(o);
    }
    const floorButtons = el('div', 'button-row');
    this.nextBtn = actionButton('btn-small btn-primary', 'panel.next', 'next');
    this.revokeBtn = actionButton('btn-small btn-danger', 'panel.revoke', 'revoke');
    floorButtons.append(limitText, this.limit, this.nextBtn);
    const status = el('div', 'floor-line');
    status.append(this.floorText, this.revokeBtn);
    floor.append(status, floorButtons);

    // The hand queue, oldest first; it scrolls on its own when long.
    const queueBox = el('div', 'queue-box');
    // The count tells the chair how many wait even when the list has scrolled.
    const queueHeading = el('h4', 'panel-subheading');
    const queueTitle = el('span', null, t('panel.queue'));
    queueTitle.dataset.i18n = 'panel.queue';
    this.queueCount = el('span', 'queue-count');
    queueHeading.append(queueTitle, this.queueCount);
    this.queue = el('ol', 'hand-queue');
    this.queueEmpty = el('p', 'panel-empty', t('panel.queueEmpty'));
    this.queueEmpty.dataset.i18n = 'panel.queueEmpty';

    // The room: used rarely, so folded away until wanted, and placed by the panel at the
    // foot of the list (roomBox), leaving the queue the height.
    const room = el('details', 'room-box');
    this.roomBox = room;
    const summary = el('summary', null, t('panel.roomControls'));
    summary.dataset.i18n = 'panel.roomControls';
    this.lockBtn = actionButton('btn-small', 'panel.lock', 'lock');
    this.muteAllBtn = actionButton('btn-small', 'panel.muteDelegates', 'mute-delegates');
    const shareLabel = el('label', 'switch');
    this.share = el('input');
    this.share.type = 'checkbox';
    this.share.id = 'floor-may-share';
    const shareText = el('span', null, t('panel.floorMayShare'));
    shareText.dataset.i18n = 'panel.floorMayShare';
    shareLabel.append(this.share, shareText);
    this.endBtn = actionButton('btn-small btn-danger', 'panel.endMeeting', 'end');
    const roomButtons = el('div', 'button-row');
    roomButtons.append(this.muteAllBtn, this.lockBtn);
    room.append(summary, roomButtons, shareLabel, this.endBtn);

    queueBox.append(queueHeading, this.queueEmpty, this.queue);
    root.append(heading, floor, queueBox);
    container.append(root);
    this.root = root;

    const onClick = (ev) => {
      const b = ev.target.closest('button[data-action]');
      if (b) this.onButton(b.dataset.action, b.closest('li[data-participant-id]')?.dataset.participantId);
    };
    root.addEventListener('click', onClick);
    room.addEventListener('click', onClick);
    this.share.addEventListener('change', () => {
      const want = this.share.checked;
      this.share.checked = !!this.state.floor_may_share; // the room_state that follows sets it
      this.act('set_room_options', { floor_may_share: want });
    });
    this.render();
  }

  get seconds() { return Number(this.limit.value); }

  async onButton(action, id) {
    switch (action) {
      case 'next': return this.act('next_floor', { seconds: this.seconds });
      case 'revoke': return this.act('revoke_floor');
      case 'grant': return this.grant(id);
      case 'lower': return this.act('lower_hand', { participant_id: id });
      case 'lock': return this.act('lock_room', { locked: !this.state.locked });
      case 'mute-delegates': return this.act('mute_delegates');
      case 'end':
        if (await this.confirm(t('panel.endConfirm'), t('panel.endMeeting'))) return this.act('end_meeting');
        return null;
      default: return null;
    }
  }

  grant(id) { return this.act('grant_floor', { participant_id: id, seconds: this.seconds }); }

  /** Called from a roster row's buttons too. */
  async remove(id) {
    const name = this.nameOf(id);
    if (await this.confirm(t('panel.removeConfirm', { name }), t('panel.remove'))) {
      return this.act('remove_participant', { participant_id: id });
    }
    return null;
  }

  createEntry(id) {
    const li = el('li', 'hand-entry');
    li.dataset.participantId = id;
    const entry = { li, name: el('span', 'hand-name'), who: null,
      grant: actionButton('btn-small btn-primary', 'panel.grant', 'grant'),
      lower: actionButton('btn-small', 'panel.lowerHand', 'lower') };
    li.append(entry.name, entry.grant, entry.lower);
    this.entries.set(id, entry);
    return entry;
  }

  setRoomState(state) {
    this.state = state;
    this.render();
  }

  /** A participant's name changed or someone left: the queue shows names. */
  refreshNames() { this.render(); }

  render() {
    const s = this.state;
    const hands = s.hands || [];
    // In a room of 250 the queue can be long: entries are kept and only renumbered.
    const keep = new Set(hands);
    for (const [id, entry] of this.entries) {
      if (!keep.has(id)) { entry.li.remove(); this.entries.delete(id); }
    }
    hands.forEach((id, i) => {
      const entry = this.entries.get(id) || this.createEntry(id);
      const name = this.nameOf(id);
      const text = `${i + 1}. ${name}`;
      if (entry.name.textContent !== text) entry.name.textContent = text;
      if (entry.who !== name) {
        entry.who = name;
        entry.grant.setAttribute('aria-label', t('panel.grantTo', { name }));
        entry.lower.setAttribute('aria-label', t('panel.lowerHandOf', { name }));
      }
      const at = this.queue.children[i] || null;
      if (at !== entry.li) this.queue.insertBefore(entry.li, at);
    });
    this.queueEmpty.hidden = hands.length > 0;
    this.queueCount.textContent = hands.length ? ` (${hands.length})` : '';
    this.nextBtn.disabled = hands.length === 0;
    this.revokeBtn.hidden = !s.floor_holder;
    this.lockBtn.dataset.i18n = s.locked ? 'panel.unlock' : 'panel.lock';
    this.lockBtn.textContent = t(this.lockBtn.dataset.i18n);
    this.lockBtn.setAttribute('aria-pressed', String(!!s.locked));
    this.share.checked = !!s.floor_may_share;
    this.renderFloor();
    clearInterval(this.timer);
    this.timer = s.floor_holder && s.floor_until ? setInterval(() => this.renderFloor(), 1000) : null;
  }

  renderFloor() {
    const s = this.state;
    let text;
    if (!s.floor_holder) text = t('panel.floorNobody');
    else if (s.floor_until) text = t('panel.floorHolderUntil', { name: this.nameOf(s.floor_holder), left: remaining(s.floor_until) });
    else text = t('panel.floorHolder', { name: this.nameOf(s.floor_holder) });
    if (this.floorText.textContent !== text) this.floorText.textContent = text;
  }

  relabel() {
    this.limit.title = t('panel.floorLimit');
    for (const entry of this.entries.values()) entry.who = null; // aria-labels in the new language
    this.render();
  }

  destroy() { clearInterval(this.timer); }
}

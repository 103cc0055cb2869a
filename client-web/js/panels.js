// panels.js — the meeting page's side panel: two tabs, "Người tham dự" (the participant
// list, and the chair's tools for a moderator) and "Trò chuyện" (chat, with an unread count
// on its tab while it is not in view). app.js owns the connection and hands every event in;
// this module only shows them and turns the user's clicks into requests.

import { t, errorText, onLangChange } from './i18n.js';
import { Roster } from './roster.js';
import { ChairTools } from './chair.js';
import { Chat } from './chat.js';
import { el } from './panel-dom.js';

/** An action's error in words: the panel's own sentence when it has one, else the page's. */
function actionErrorText(err) {
  const key = `panel.error.${err?.code}`;
  const s = t(key);
  return s !== key ? s : errorText(err?.code, err?.message);
}

export class MeetingPanels {
  /**
   * root: the <aside id="side-panel">. request(type, fields) → Promise of the reply,
   * rejecting with an Error whose .code is the protocol's. self: the join reply.
   * notify(text): a toast.
   */
  constructor({ root, request, self, notify }) {
    this.root = root;
    this.request = request;
    this.self = self;
    this.notify = notify || (() => {});
    this.selfId = self.participant_id;
    this.moderator = (self.grants || []).includes('moderate');
    this.unread = 0;
    this.destroyed = false;
    this.build();
    onLangChange(() => { if (!this.destroyed) this.relabel(); });
    if (self.room_state) this.setRoomState(self.room_state);
  }

  build() {
    const root = this.root;
    root.textContent = '';
    root.classList.add('panels');

    const tabs = el('div', 'panel-tabs');
    tabs.setAttribute('role', 'tablist');
    this.tabs = {};
    this.pages = {};
    for (const [name, key] of [['people', 'panel.tabPeople'], ['chat', 'panel.tabChat']]) {
      const tab = el('button', 'panel-tab');
      tab.type = 'button';
      tab.id = `panel-tab-${name}`;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-controls', `panel-page-${name}`);
      const label = el('span', 'panel-tab-label', t(key));
      label.dataset.i18n = key;
      const count = el('span', `panel-tab-count tab-count-${name}`);
      tab.append(label, count);
      tab.addEventListener('click', () => this.show(name));
      tabs.append(tab);
      const page = el('section', `panel-page panel-page-${name}`);
      page.id = `panel-page-${name}`;
      page.setAttribute('role', 'tabpanel');
      page.setAttribute('aria-labelledby', tab.id);
      this.tabs[name] = { tab, count };
      this.pages[name] = page;
    }
    // Arrow keys move between the two tabs (the WAI-ARIA tabs pattern).
    tabs.addEventListener('keydown', (ev) => {
      if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
      const next = this.current === 'people' ? 'chat' : 'people';
      this.show(next);
      this.tabs[next].tab.focus();
    });
    root.append(tabs, this.pages.people, this.pages.chat);

    if (this.moderator) {
      this.chair = new ChairTools({
        container: this.pages.people,
        act: (type, fields) => this.act(type, fields),
        nameOf: (id) => this.nameOf(id),
        confirm: (text, ok) => this.confirm(text, ok),
      });
    }
    const listHeading = el('h3', 'panel-heading visually-hidden', t('panel.tabPeople'));
    listHeading.dataset.i18n = 'panel.tabPeople';
    const list = el('ul', 'roster');
    list.setAttribute('aria-label', t('panel.tabPeople'));
    list.dataset.i18nLabel = 'panel.tabPeople';
    this.pages.people.append(listHeading, list);
    if (this.chair) this.pages.people.append(this.chair.roomBox);
    this.roster = new Roster({
      list, selfId: this.selfId, moderator: this.moderator,
      onAction: (action, id) => this.rowAction(action, id),
    });

    this.chat = new Chat({
      container: this.pages.chat,
      send: (fields) => this.request('chat', fields),
      selfId: this.selfId,
      moderator: this.moderator,
      notify: this.notify,
      onMessage: () => this.messageArrived(),
    });

    this.dialog = this.buildDialog();
    root.append(this.dialog);

    // Opening the panel on the chat tab reads the messages.
    this.visibility = new MutationObserver(() => this.markReadIfSeen());
    this.visibility.observe(root, { attributes: true, attributeFilter: ['hidden', 'class', 'style'] });
    this.show('people');
    this.updateCounts();
  }

  buildDialog() {
    const d = el('dialog', 'panel-confirm');
    const form = el('form');
    form.method = 'dialog';
    this.dialogText = el('p', 'panel-confirm-text');
    const row = el('div', 'button-row');
    const cancel = el('button', 'btn-small', t('panel.cancel'));
    cancel.value = 'cancel';
    cancel.dataset.i18n = 'panel.cancel';
    this.dialogOk = el('button', 'btn-small btn-danger panel-confirm-ok');
    this.dialogOk.value = 'ok';
    row.append(cancel, this.dialogOk);
    form.append(this.dialogText, row);
    d.append(form);
    return d;
  }

  /** Asks before something that cannot be undone; resolves true for "ok". */
  confirm(text, okLabel) {
    const d = this.dialog;
    this.dialogText.textContent = text;
    this.dialogOk.textContent = okLabel;
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
      d.returnValue = '';
      d.showModal();
    });
  }

  /** Sends a chair's request; an error becomes a toast (and null). */
  async act(type, fields = {}) {
    try {
      return await this.request(type, fields);
    } catch (e) {
      this.notify(actionErrorText(e));
      return null;
    }
  }

  rowAction(action, id) {
    const p = this.roster.participant(id);
    if (!p) return;
    const by = p.muted_by_chair || {};
    switch (action) {
      case 'mute-audio': this.act('mute_participant', { participant_id: id, kind: 'audio', muted: !by.audio }); break;
      case 'mute-video': this.act('mute_participant', { participant_id: id, kind: 'video', muted: !by.video }); break;
      case 'grant': this.chair?.grant(id); break;
      case 'remove': this.chair?.remove(id); break;
      default: break;
    }
  }

  nameOf(id) {
    if (!id) return '';
    const p = this.roster.participant(id);
    return p ? p.name : id;
  }

  show(name) {
    this.current = name;
    for (const [n, { tab }] of Object.entries(this.tabs)) {
      const on = n === name;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      tab.classList.toggle('active', on);
      this.pages[n].hidden = !on;
    }
    this.markReadIfSeen();
  }

  /** The chat is in front of the user: the panel is shown and its chat tab selected. */
  chatInView() {
    return this.current === 'chat' && !this.root.hidden && this.root.getClientRects().length > 0;
  }

  messageArrived() {
    if (this.chatInView()) return;
    this.unread++;
    this.updateCounts();
  }

  markReadIfSeen() {
    if (this.unread && this.chatInView()) {
      this.unread = 0;
      this.updateCounts();
    }
  }

  updateCounts() {
    const people = this.tabs.people.count;
    const n = String(this.roster.size);
    if (people.textContent !== n) people.textContent = n;
    const chat = this.tabs.chat.count;
    chat.textContent = this.unread ? String(this.unread) : '';
    chat.hidden = !this.unread;
    chat.setAttribute('aria-label', this.unread ? t('panel.unread', { n: this.unread }) : '');
    // app.js may show the count on its panel button too.
    this.root.dispatchEvent(new CustomEvent('panels-unread', { detail: { count: this.unread } }));
  }

  // ---- the interface app.js calls ----

  setParticipants(list) {
    this.roster.setAll(list);
    this.chair?.refreshNames();
    this.updateCounts();
  }

  participantJoined(p) {
    this.roster.upsert(p);
    this.updateCounts();
  }

  participantUpdated(p) {
    this.roster.upsert(p);
    if (this.chair && (this.state?.hands?.includes(p.id) || this.state?.floor_holder === p.id)) this.chair.refreshNames();
  }

  participantLeft(id) {
    this.roster.remove(id);
    this.updateCounts();
  }

  setRoomState(state) {
    this.state = state;
    this.roster.setRoomState(state);
    if ('dominant_speaker' in state) this.roster.setSpeaker(state.dominant_speaker);
    this.chair?.setRoomState(state);
  }

  onChat(ev) { this.chat.add(ev); }

  onDominantSpeaker(id) { this.roster.setSpeaker(id); }

  onDelegatesMuted() { this.roster.delegatesMuted(); }

  relabel() {
    this.roster.relabel();
    this.chair?.relabel();
    this.updateCounts();
  }

  destroy() {
    this.destroyed = true;
    this.visibility.disconnect();
    this.chair?.destroy();
    if (this.dialog.open) this.dialog.close();
    this.root.textContent = '';
    this.root.classList.remove('panels');
  }
}

// panels.js — placeholder side panel: the list of people in the room. The panels helper's
// version (participants, hands, chat, moderation) replaces this file; the interface is the
// one app.js calls.

import { t } from './i18n.js';

export class MeetingPanels {
  constructor({ root, self }) {
    this.root = root;
    this.self = self;
    this.people = new Map();
    this.root.innerHTML = '<h2 class="panel-title"></h2><ul class="panel-people"></ul>';
    this.render();
  }

  setParticipants(list) {
    this.people = new Map(list.map((p) => [p.id, p]));
    this.render();
  }

  participantJoined(p) { this.people.set(p.id, p); this.render(); }
  participantUpdated(p) { this.people.set(p.id, { ...this.people.get(p.id), ...p }); this.render(); }
  participantLeft(id) { this.people.delete(id); this.render(); }
  setRoomState() {}
  onChat() {}
  onDominantSpeaker() {}
  onDelegatesMuted() {}

  render() {
    this.root.querySelector('.panel-title').textContent = t('meeting.count', { n: this.people.size });
    const ul = this.root.querySelector('.panel-people');
    ul.textContent = '';
    for (const p of this.people.values()) {
      const li = document.createElement('li');
      li.textContent = p.role ? `${p.name} — ${t(`role.${p.role}`)}` : p.name;
      ul.append(li);
    }
  }

  destroy() { this.root.textContent = ''; }
}

// chat.js — the meeting chat: messages to everyone, or privately to the chair (who sees
// them marked). Messages appear when the server's `chat` event comes back, the sender's
// own included, so what the log shows is what the room got.

import { t, errorText } from './i18n.js';
import { el } from './panel-dom.js';

export const CHAT_MAX_CHARS = 1000;
const KEEP_MESSAGES = 500; // older ones leave the page (the meeting record keeps them)

/**
 * The text as the server will count it: CRLF and tabs made plain (the server refuses
 * control characters other than newlines), trimmed; its length in code points.
 */
export function chatText(raw) {
  const text = raw.replace(/\r\n?/g, '\n').replace(/\t/g, ' ').trim();
  return { text, chars: [...text].length };
}

export class Chat {
  /**
   * container: where the chat goes. send(fields) → Promise (rejects with .code).
   * selfId, moderator: who this is. nameOf(id): a participant's current name.
   * onMessage(): a message arrived (for the unread count). notify(text): a toast.
   */
  constructor({ container, send, selfId, moderator, notify, onMessage }) {
    this.send = send;
    this.selfId = selfId;
    this.moderator = moderator;
    this.notify = notify;
    this.onMessage = onMessage;

    this.log = el('ol', 'chat-log');
    this.log.setAttribute('aria-live', 'polite');
    this.log.dataset.i18nLabel = 'panel.chatLog';
    this.log.setAttribute('aria-label', t('panel.chatLog'));
    this.empty = el('p', 'panel-empty chat-empty', t('panel.chatEmpty'));
    this.empty.dataset.i18n = 'panel.chatEmpty';

    const form = el('form', 'chat-form');
    form.noValidate = true;
    const row = el('div', 'chat-to-row');
    if (!moderator) {
      // Non-chairs choose: the whole room, or only the chair.
      const label = el('label', 'chat-to-label', t('panel.chatTo'));
      label.dataset.i18n = 'panel.chatTo';
      label.htmlFor = 'chat-to';
      this.to = el('select', 'chat-to');
      this.to.id = 'chat-to';
      for (const [value, key] of [['all', 'panel.toAll'], ['chair', 'panel.toChair']]) {
        const o = el('option', null, t(key));
        o.value = value;
        o.dataset.i18n = key;
        this.to.append(o);
      }
      row.append(label, this.to);
    }
    this.counter = el('span', 'chat-counter');
    row.append(this.counter);
    this.input = el('textarea', 'chat-input');
    this.input.id = 'chat-input';
    this.input.rows = 2;
    this.input.dataset.i18nPlaceholder = 'panel.chatPlaceholder';
    this.input.placeholder = t('panel.chatPlaceholder');
    this.input.dataset.i18nLabel = 'panel.chatInput';
    this.input.setAttribute('aria-label', t('panel.chatInput'));
    this.sendBtn = el('button', 'btn-small btn-primary chat-send', t('panel.chatSend'));
    this.sendBtn.type = 'submit';
    this.sendBtn.dataset.i18n = 'panel.chatSend';
    form.append(row, this.input, this.sendBtn);

    container.append(this.log, this.empty, form);

    form.addEventListener('submit', (ev) => { ev.preventDefault(); this.submit(); });
    this.input.addEventListener('keydown', (ev) => {
      // Enter sends, Shift+Enter starts a new line (as in the usual chat programs).
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener('input', () => this.updateCounter());
    this.updateCounter();
  }

  updateCounter() {
    const { chars } = chatText(this.input.value);
    this.counter.textContent = chars > CHAT_MAX_CHARS * 0.8 ? `${chars}/${CHAT_MAX_CHARS}` : '';
    this.counter.classList.toggle('over', chars > CHAT_MAX_CHARS);
    this.sendBtn.disabled = chars < 1 || chars > CHAT_MAX_CHARS || this.sending;
  }

  async submit() {
    const { text, chars } = chatText(this.input.value);
    if (chars < 1 || chars > CHAT_MAX_CHARS || this.sending) return;
    const to = this.to ? this.to.value : 'all';
    this.sending = true;
    this.updateCounter();
    try {
      await this.send({ text, to });
      this.input.value = '';
    } catch (e) {
      // Too fast is part of the conversation: it shows in the log where the user looks.
      if (e.code === 'rate_limited') this.system(t('panel.chatRateLimited'));
      else this.notify(errorText(e.code, e.message));
    } finally {
      this.sending = false;
      this.updateCounter();
    }
  }

  /** A `chat` event. */
  add(ev) {
    const mine = ev.from === this.selfId;
    const li = el('li', 'chat-msg');
    li.classList.toggle('mine', mine);
    li.classList.toggle('private', ev.to === 'chair');
    li.dataset.from = ev.from;
    li.dataset.to = ev.to;
    const head = el('div', 'chat-head');
    const who = el('span', 'chat-from', mine ? t('panel.you') : ev.from_name);
    const when = el('time', 'chat-time', new Date(ev.ts).toLocaleTimeString(document.documentElement.lang || 'vi', { hour: '2-digit', minute: '2-digit' }));
    when.dateTime = new Date(ev.ts).toISOString();
    head.append(who, when);
    if (ev.to === 'chair') {
      const mark = el('span', 'chat-private', t('panel.privateToChair'));
      head.append(mark);
    }
    const body = el('p', 'chat-text', ev.text);
    li.append(head, body);
    this.append(li);
    this.onMessage?.(ev);
  }

  /** A line from the page itself (not a message), e.g. "too fast". */
  system(text) {
    const li = el('li', 'chat-msg chat-system', text);
    li.setAttribute('role', 'status');
    this.append(li);
  }

  append(li) {
    const stick = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    this.log.append(li);
    while (this.log.childElementCount > KEEP_MESSAGES) this.log.firstElementChild.remove();
    this.empty.hidden = true;
    if (stick) this.log.scrollTop = this.log.scrollHeight;
  }

  focus() { this.input.focus(); }
}

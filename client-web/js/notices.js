// notices.js — the connection banner and short announcements (aria-live).

import { t } from './i18n.js';

export class Notices {
  constructor({ banner, toasts }) {
    this.banner = banner;
    this.toasts = toasts;
    this.bannerKey = null;
    this.bannerTimer = null;
  }

  /** kind: 'lost' (stays) | 'back' / 'rejoined' (fades) | null (hide). */
  setBanner(kind) {
    clearTimeout(this.bannerTimer);
    this.bannerKey = kind;
    if (!kind) {
      this.banner.hidden = true;
      this.banner.dataset.state = '';
      return;
    }
    this.banner.hidden = false;
    this.banner.dataset.state = kind;
    this.banner.textContent = t(`banner.${kind}`);
    if (kind !== 'lost') this.bannerTimer = setTimeout(() => this.setBanner(null), 4000);
  }

  /** A short message; level 'info' or 'error'. */
  toast(text, level = 'info') {
    const el = document.createElement('div');
    el.className = `toast toast-${level}`;
    el.setAttribute('role', level === 'error' ? 'alert' : 'status');
    el.textContent = text;
    this.toasts.append(el);
    setTimeout(() => el.remove(), level === 'error' ? 8000 : 4000);
    while (this.toasts.children.length > 4) this.toasts.firstChild.remove();
  }

  relabel() {
    if (this.bannerKey) this.banner.textContent = t(`banner.${this.bannerKey}`);
  }

  clear() {
    this.setBanner(null);
    this.toasts.textContent = '';
  }
}

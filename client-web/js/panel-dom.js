// panel-dom.js — the few DOM helpers the side panel's modules (panels, roster, chair, chat)
// share: make an element, and change text or visibility only when it differs.

import { t } from './i18n.js';

export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text != null) e.textContent = text;
  return e;
}

/** A button labelled by an i18n key (relabelled by applyTranslations) with a data-action. */
export function actionButton(className, i18nKey, action) {
  const b = el('button', className, t(i18nKey));
  b.type = 'button';
  b.dataset.i18n = i18nKey;
  if (action) b.dataset.action = action;
  return b;
}

/** Sets text only when it changed (no layout work for an unchanged row). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export function setShown(node, shown) {
  if (node.hidden === shown) node.hidden = !shown;
}

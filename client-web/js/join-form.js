// join-form.js — the join form's identity fields from where the token comes from: an
// invitation link fills name, room and role from its claims, read-only (a `room_prefix`
// invitation leaves the room to type); development mode offers the roles (official first);
// without either the form says an invitation is needed. Returns the page's JoinCredentials.

import { t } from './i18n.js';
import { JoinCredentials, tokenFromUrl, claimsOf, fetchDevMode, ROLES } from './token.js';

const $ = (id) => document.getElementById(id);

/** The role chosen in the form (development mode) or carried by the invitation. */
export function formRole() {
  const v = $('role').value;
  return ROLES.includes(v) ? v : 'official';
}

function lock(el, value) {
  el.value = value;
  el.readOnly = true;
  el.setAttribute('aria-readonly', 'true');
}

function showNotice(kind) {
  const n = $('token-notice');
  n.dataset.kind = kind;
  n.hidden = false;
  document.body.dataset.tokenSource = kind;
  renderTokenNotice();
}

/** Fill the form (savedName/room: what the user typed last time, or ?room=) and say where the token comes from. */
export async function setUpJoinForm({ savedName = '', room = '' } = {}) {
  $('name').value = savedName;
  $('room').value = room;
  const urlToken = tokenFromUrl();
  if (urlToken) {
    const c = claimsOf(urlToken) || {};
    if (typeof c.name === 'string' && c.name) lock($('name'), c.name);
    if (typeof c.room === 'string' && c.room) {
      lock($('room'), c.room);
      $('room-hint').hidden = true; // nothing to type
    } else if (typeof c.room_prefix === 'string' && !$('room').value.startsWith(c.room_prefix)) {
      $('room').value = c.room_prefix;
    }
    $('role').value = ROLES.includes(c.role) ? c.role : 'official';
    $('role').disabled = true;
    showNotice('invitation');
    return new JoinCredentials({ urlToken });
  }
  $('role').value = 'official';
  const devMode = await fetchDevMode();
  $('role-field').hidden = !devMode;
  showNotice(devMode ? 'dev' : 'none');
  return new JoinCredentials({ devMode });
}

export function renderTokenNotice() {
  const n = $('token-notice');
  n.textContent = n.dataset.kind ? t(`join.token.${n.dataset.kind}`) : '';
}

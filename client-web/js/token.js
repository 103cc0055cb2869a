// token.js — where the page's join token comes from (PROTOCOL.md "Join tokens and roles"):
// an invitation link (`?token=…`), or in development mode `POST /api/dev-token` for the
// name and role typed in the form. The page reads the token's claims only to fill the form
// (name, room, role); the server alone checks the signature.

export const ROLES = ['chair', 'official', 'delegate', 'observer'];

/** The token of an invitation link, or null. */
export function tokenFromUrl(loc = location) {
  const t = new URLSearchParams(loc.search).get('token');
  return t && t.trim() ? t.trim() : null;
}

/** The claims of a JWT ({name, room, room_prefix, role, site, exp …}), or null if it is not one. */
export function claimsOf(token) {
  const part = String(token || '').split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/** Whether the server runs in development mode (GET /api/info); false when it cannot tell. */
export async function fetchDevMode() {
  try {
    const res = await fetch('/api/info', { cache: 'no-store' });
    if (!res.ok) return false;
    return (await res.json()).dev_mode === true;
  } catch {
    return false;
  }
}

/** A development token for {room, name, role}; rejects with {code} (the server's error code). */
export async function fetchDevToken({ room, name, role }) {
  let res;
  try {
    res = await fetch('/api/dev-token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ room, name, role }),
    });
  } catch {
    throw Object.assign(new Error('dev-token unreachable'), { code: 'connect' });
  }
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok || typeof body.token !== 'string') {
    // A bad name or room is the user's to fix; anything else (development mode off, an
    // address not allowed) means this page cannot mint tokens: an invitation is needed.
    const code = body.error === 'bad_request' ? 'bad_request' : 'dev_token';
    throw Object.assign(new Error(body.message || `HTTP ${res.status}`), { code });
  }
  return body.token;
}

/**
 * The credentials of one person on this page: a fixed invitation token, or development
 * tokens minted on demand (again when the last one is about to expire, e.g. to rejoin
 * after a long outage).
 */
export class JoinCredentials {
  constructor({ urlToken = null, devMode = false } = {}) {
    this.urlToken = urlToken;
    this.devMode = devMode;
    this.devTokenValue = null;
    this.devFor = '';
  }

  get source() { return this.urlToken ? 'invitation' : this.devMode ? 'dev' : 'none'; }

  /** A token for joining {room, name, role}; null when the page has none (the server then says unauthorized). */
  async token({ room, name, role }) {
    if (this.urlToken) return this.urlToken;
    if (!this.devMode) return null;
    const key = JSON.stringify([room, name, role]);
    const exp = claimsOf(this.devTokenValue)?.exp ?? 0;
    if (this.devTokenValue && this.devFor === key && exp * 1000 > Date.now() + 60000) return this.devTokenValue;
    this.devTokenValue = await fetchDevToken({ room, name, role });
    this.devFor = key;
    return this.devTokenValue;
  }
}

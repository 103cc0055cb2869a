// Join tokens for the browser tests: a secret file the server is started with
// (--token-secret-file), HS256 JWTs minted here with node's crypto (independently of the
// server's C code) as an organiser's invitation would carry, and development tokens from a
// running server's POST /api/dev-token.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOGS } from './server.mjs';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Writes a fresh 48-byte secret for one server; returns {file, secret}. */
export function secretFile(name) {
  mkdirSync(LOGS, { recursive: true });
  const secret = randomBytes(48);
  const file = join(LOGS, `token-${name}.secret`);
  writeFileSync(file, secret.toString('base64'), { mode: 0o600 });
  // The server uses the file's text (trimmed) as the key: sign with the same bytes.
  return { file, secret: Buffer.from(secret.toString('base64')) };
}

/** A compact HS256 JWT of claims signed with secret; exp defaults to an hour from now. */
export function mintToken(secret, claims) {
  const now = Math.floor(Date.now() / 1000);
  const body = { sub: `e2e-${randomBytes(4).toString('hex')}`, exp: now + 3600, ...claims };
  const signing = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(body))}`;
  return `${signing}.${b64url(createHmac('sha256', secret).update(signing).digest())}`;
}

/** A development token from the server (it must run in development mode, the default). */
export async function devToken(server, { room, name, role = 'official', site }) {
  const res = await fetch(new URL('/api/dev-token', server.url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(site ? { room, name, role, site } : { room, name, role }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`dev-token ${res.status}: ${JSON.stringify(body)}`);
  return body.token;
}

// The technicians' side of a test server (signaling/PROTOCOL.md "Administration"): a config
// file that gives it an admin token, a site's downstream budget (PUT/DELETE
// /admin/sites/<site>/budget) and a room's figures (GET /admin/rooms/<room>/transports.json).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes a server config with admin_token = token; returns its path (for --config). */
export function adminConfig(name, token) {
  const config = join(mkdtempSync(join(tmpdir(), `diemcau-${name}-`)), 'server.json');
  writeFileSync(config, JSON.stringify({ admin_token: token }));
  return config;
}

/** Admin requests to a started server with that token. */
export function admin(server, token) {
  const url = (path) => `http://127.0.0.1:${server.httpPort}${path}`;
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  return {
    /** PUT {kbps} (a number) or DELETE (null) the site's budget: the fetch Response. */
    siteBudget: (site, kbps) => fetch(url(`/admin/sites/${encodeURIComponent(site)}/budget`), {
      method: kbps == null ? 'DELETE' : 'PUT', headers, body: kbps == null ? undefined : JSON.stringify({ kbps }),
    }),
    /** transports.json's participant at the site (throws unless 200). */
    async participantAt(room, site) {
      const r = await fetch(url(`/admin/rooms/${room}/transports.json`), { headers });
      if (r.status !== 200) throw new Error(`transports.json: ${r.status}`);
      return (await r.json()).participants.find((x) => x.site === site);
    },
  };
}

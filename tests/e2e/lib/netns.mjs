// A participant's own network: a named network namespace joined to the test's namespace
// by a veth pair, where its link can be made lossy, slow or UDP-less (see
// ../shared/NETWORK-TESTS.md for what works on this kernel: nftables random drops,
// `tc tbf` rates; no netem). Only inside tests/run-in-netns.sh: the host's own network is
// never touched, and every namespace made here is deleted by remove() or at exit.
//
//   const link = makeSiteLink('commune');   // 10.222.N.1 (server side) ↔ 10.222.N.2
//   link.dropIncoming(0.05);                      // 5 % of the UDP reaching the site lost
//   const server = await startServer('loss', link.serverArgs());
//   const p = await launchChromium('sub', link.chromiumArgs(server.httpPort),
//                                  { executablePath: link.chromiumPath });
//   await p.join(link.pageUrl(server.httpPort), 'Xã Tân Phú', ROOM);
//   await link.remove();
import { execFileSync } from 'node:child_process';
import { writeFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set(); // namespaces not yet removed: deleted at exit whatever happens
let counter = 0;

function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** True in the private namespace of tests/run-in-netns.sh: nothing but lo (and our veths). */
export function privateNamespace() {
  try {
    const links = sh('ip', ['-o', 'link', 'show']).trim().split('\n');
    return links.every((l) => / lo: /.test(l) || / vdc\d+h[@:]/.test(l));
  } catch {
    return false;
  }
}

function deleteNamespace(ns) {
  try {
    for (const pid of sh('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean)) {
      try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone already */ }
    }
  } catch { /* no such namespace */ }
  try { sh('ip', ['netns', 'del', ns]); } catch { /* already deleted */ }
  made.delete(ns);
}

process.on('exit', () => { for (const ns of [...made]) deleteNamespace(ns); });

/**
 * Makes a namespace for one site. The server (in the test's namespace) is reached at
 * `hostIp`; the site's address is `siteIp`. Returns the controls of the site's link.
 */
export function makeSiteLink(label) {
  const n = (counter++ % 250) + 1; // a /24 per link of this run
  const ns = `dc${process.pid}s${n}`;
  const hostIf = `vdc${n}h`;
  const siteIf = `vdc${n}s`;
  const hostIp = `10.222.${n}.1`;
  const siteIp = `10.222.${n}.2`;
  made.add(ns);
  try {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', siteIf]);
    sh('ip', ['link', 'set', siteIf, 'netns', ns]);
    const link = new SiteLink(label, ns, hostIf, siteIf, hostIp, siteIp);
    // No IPv6 on the link: its addresses would appear a second or two after the link
    // comes up (duplicate address detection), and Chromium answers any address change
    // with ERR_NETWORK_CHANGED on every request in flight — a page load in a browser
    // started just then fails.
    sh('sysctl', ['-q', '-w', `net.ipv6.conf.${hostIf}.disable_ipv6=1`]);
    link.exec('sysctl', '-q', '-w', `net.ipv6.conf.${siteIf}.disable_ipv6=1`);
    sh('ip', ['addr', 'add', `${hostIp}/24`, 'dev', hostIf]);
    sh('ip', ['link', 'set', hostIf, 'up']);
    link.exec('ip', 'link', 'set', 'lo', 'up');
    link.exec('ip', 'addr', 'add', `${siteIp}/24`, 'dev', siteIf);
    link.exec('ip', 'link', 'set', siteIf, 'up');
    link.exec('ip', 'route', 'add', 'default', 'via', hostIp);
    link.waitUntilUp();
    return link;
  } catch (e) {
    deleteNamespace(ns);
    throw e;
  }
}

class SiteLink {
  constructor(label, ns, hostIf, siteIf, hostIp, siteIp) {
    Object.assign(this, { label, ns, hostIf, siteIf, hostIp, siteIp });
    // Chromium started through this script lives in the site's namespace; Playwright
    // still drives it over its pipe.
    this.dir = mkdtempSync(join(tmpdir(), `diemcau-netns-${label}-`));
    this.chromiumPath = join(this.dir, 'chromium-in-netns');
    writeFileSync(this.chromiumPath, `#!/bin/sh\nexec ip netns exec ${ns} /usr/bin/chromium "$@"\n`);
    chmodSync(this.chromiumPath, 0o755);
  }

  /** Returns once both ends report carrier (state UP): browsers started later see a
   * settled network, not one that changes under their first requests. */
  waitUntilUp() {
    const up = (out) => /state UP/.test(out);
    for (let i = 0; i < 100; i++) {
      if (up(sh('ip', ['-o', 'link', 'show', 'dev', this.hostIf])) && up(this.exec('ip', '-o', 'link', 'show', 'dev', this.siteIf))) return;
      sh('sleep', ['0.05']);
    }
    throw new Error(`veth ${this.hostIf} ↔ ${this.siteIf} did not come up within 5 s`);
  }

  /** Runs a command inside the site's namespace. */
  exec(cmd, ...args) {
    return sh('ip', ['netns', 'exec', this.ns, cmd, ...args]);
  }

  /** Server options for a test whose sites live in namespaces: media announced at the
   * veth address every namespace reaches, and development tokens for the sites' range
   * (they are not loopback clients). */
  serverArgs() {
    const config = join(this.dir, 'server.json');
    writeFileSync(config, JSON.stringify({ dev_token_clients: ['127.0.0.1/32', '::1/128', '10.222.0.0/16'] }));
    return ['--config', config, '--announce-ip', this.hostIp];
  }

  /** The page's address as a site sees it. */
  pageUrl(httpPort) {
    return `http://${this.hostIp}:${httpPort}/`;
  }

  /** Chromium switches for a page served by the test's server at http://hostIp:port: a
   * plain-http origin that is not loopback only gets a camera when declared secure. */
  chromiumArgs(httpPort) {
    return [`--unsafely-treat-insecure-origin-as-secure=http://${this.hostIp}:${httpPort}`];
  }

  /** Drops a random share (0..1) of the UDP datagrams arriving at the site. */
  dropIncoming(probability) {
    this.#udpRule('input', probability);
  }

  /** Drops a random share (0..1) of the UDP datagrams the site sends, where a network
   * would: as they arrive at the server's end of the link. (A drop in the site's own output
   * hook fails the sender's sendmsg with EPERM, and Chromium sends again: measured, 5 %
   * there lost 1–4 video packets in 10 s where 5 % of them is 50 or more.) */
  dropOutgoing(probability) {
    const perMille = Math.round(probability * 1000);
    const table = this.#hostTable();
    sh('nft', ['add', 'table', 'netdev', table]);
    sh('nft', ['add', 'chain', 'netdev', table, 'in', `{ type filter hook ingress device ${this.hostIf} priority 0; }`]);
    sh('nft', ['add', 'rule', 'netdev', table, 'in', 'ip', 'protocol', 'udp', 'numgen', 'random', 'mod', '1000', '<',
      String(perMille), 'drop']);
  }

  #hostTable() { return `site_${this.hostIf}`; }

  /** No UDP leaves or reaches the site (a network that blocks UDP). */
  blockUdp() {
    this.#udpRule('input', 1);
    this.#udpRule('output', 1);
  }

  // nftables inside the site's namespace: a table of its own, one chain per direction,
  // `numgen random` for a share (per mille) of the datagrams.
  #udpRule(hook, probability) {
    const perMille = Math.round(probability * 1000);
    const nft = (...a) => this.exec('nft', ...a);
    nft('add', 'table', 'inet', 'site');
    nft('add', 'chain', 'inet', 'site', hook, `{ type filter hook ${hook} priority 0; }`);
    const share = perMille >= 1000 ? [] : ['numgen', 'random', 'mod', '1000', '<', String(perMille)];
    nft('add', 'rule', 'inet', 'site', hook, 'meta', 'l4proto', 'udp', ...share, 'drop');
  }

  /** Limits what reaches the site to `kbit` kbit/s (token bucket on the server's side of
   * the veth, i.e. the site's downlink). */
  limitDownlink(kbit) {
    sh('tc', ['qdisc', 'replace', 'dev', this.hostIf, 'root', 'tbf', 'rate', `${kbit}kbit`,
      'burst', '10kb', 'latency', '50ms']);
  }

  /** Limits what the site sends to `kbit` kbit/s (token bucket on the site's side of the
   * veth, i.e. the site's uplink: a commune publishing through a thin line). The queue holds
   * 200 ms, as a modem's does: 50 ms at a few hundred kbit/s is one or two packets, and a
   * sender's paced burst would lose packets however well it fits its rate. */
  limitUplink(kbit) {
    this.exec('tc', 'qdisc', 'replace', 'dev', this.siteIf, 'root', 'tbf', 'rate', `${kbit}kbit`,
      'burst', '10kb', 'latency', '200ms');
  }

  /** Lifts every loss, block and rate limit. */
  clear() {
    try { this.exec('nft', 'delete', 'table', 'inet', 'site'); } catch { /* none set */ }
    try { sh('nft', ['delete', 'table', 'netdev', this.#hostTable()]); } catch { /* none set */ }
    try { sh('tc', ['qdisc', 'del', 'dev', this.hostIf, 'root']); } catch { /* none set */ }
    try { this.exec('tc', 'qdisc', 'del', 'dev', this.siteIf, 'root'); } catch { /* none set */ }
  }

  async remove() {
    deleteNamespace(this.ns); // deleting the namespace deletes the veth pair with it
    try { sh('ip', ['link', 'del', this.hostIf]); } catch { /* went with the namespace */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

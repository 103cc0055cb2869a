// A TURN server of the test's own (Debian's coturn), as a child process in the test's
// namespace: TCP and TLS listeners on free ports of one address, the TURN REST API shared
// secret (use-auth-secret) the Điểm Cầu server is given too, a throwaway self-signed
// certificate (openssl) for TLS, and its own database and log in a temporary folder.
//
//   const turn = await startTurn('relay', link.hostIp);
//   server args: ['--turn-urls', turn.urls.tls, '--turn-secret-file', turn.secretFile]
//   await turn.stop();
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync, createWriteStream, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LOGS } from './server.mjs';

export const TURNSERVER = process.env.TURNSERVER || '/usr/bin/turnserver';

/** A TCP port free on `ip` now (the kernel's choice, released at once). */
function freePort(ip) {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, ip, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Resolves once something accepts TCP connections on ip:port (coturn is up). */
async function waitListening(ip, port, timeoutMs, exited) {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error('turnserver exited at start');
    const ok = await new Promise((res) => {
      const c = connect({ host: ip, port }, () => { c.destroy(); res(true); });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`turnserver not listening on ${ip}:${port} within ${timeoutMs} ms`);
}

export async function startTurn(name, ip) {
  if (!existsSync(TURNSERVER)) throw new Error(`${TURNSERVER} not found: bash scripts/install-deps.sh --test installs coturn`);
  const dir = mkdtempSync(join(tmpdir(), `diemcau-turn-${name}-`));
  const secret = randomBytes(24).toString('hex');
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, secret);
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=turn.diemcau.test'], { stdio: 'ignore' });
  const port = await freePort(ip);
  let tlsPort = await freePort(ip);
  while (tlsPort === port) tlsPort = await freePort(ip);
  const relayMin = 20000 + (process.pid % 400) * 100; // a range of its own per run
  mkdirSync(LOGS, { recursive: true });
  const log = createWriteStream(join(LOGS, `turn-${name}.log`));
  const args = [
    '-n', '-v', '--no-cli', '--no-dtls', '--fingerprint', '--simple-log', '--log-file', 'stdout',
    '--listening-ip', ip, '--relay-ip', ip, '--listening-port', String(port), '--tls-listening-port', String(tlsPort),
    '--min-port', String(relayMin), '--max-port', String(relayMin + 99),
    '--use-auth-secret', '--static-auth-secret', secret, '--realm', 'diemcau.test',
    '--cert', cert, '--pkey', key, '--db', join(dir, 'turndb'), '--pidfile', join(dir, 'turn.pid'),
    '--allowed-peer-ip', ip, '--no-multicast-peers',
  ];
  log.write(`# ${TURNSERVER} ${args.join(' ').replace(secret, '<secret>')}\n`);
  const child = spawn(TURNSERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = null;
  const exit = new Promise((res) => child.on('exit', (code, signal) => { exited = { code, signal }; res(exited); }));
  child.stdout.on('data', (d) => log.write(d));
  child.stderr.on('data', (d) => log.write(d));
  try {
    await waitListening(ip, tlsPort, 10000, () => exited);
  } catch (e) {
    child.kill('SIGKILL');
    await exit;
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    secret,
    secretFile,
    urls: { tcp: `turn:${ip}:${port}?transport=tcp`, tls: `turns:${ip}:${tlsPort}?transport=tcp` },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const done = await Promise.race([exit, new Promise((r) => setTimeout(() => r(null), 5000))]);
      if (!done) { child.kill('SIGKILL'); await exit; }
      await new Promise((r) => log.end(r));
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => readFileSync(join(LOGS, `turn-${name}.log`), 'utf8'),
  };
}

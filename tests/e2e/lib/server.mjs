// Starts build/diemcau (or $DIEMCAU_BIN) on free ports, announcing 127.0.0.1, and stops it.
// stop() fails when the server crashed, did not exit on SIGTERM, or printed a sanitizer report.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// tests/artifacts/<tag>/: screenshots; tests/artifacts/logs/<tag>/: server and browser logs.
// scripts/test.sh sets the tag per pass (e2e, e2e-asan) so the passes keep their own files.
const TAG = (process.env.DIEMCAU_E2E_TAG || 'e2e').replace(/[^A-Za-z0-9_.-]/g, '_');
export const ARTIFACTS = join(ROOT, 'tests', 'artifacts', TAG);
export const LOGS = join(ROOT, 'tests', 'artifacts', 'logs', TAG);

const SANITIZER_RE = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)/;

export function serverBinary() {
  const bin = process.env.DIEMCAU_BIN ? resolve(process.env.DIEMCAU_BIN) : join(ROOT, 'build', 'diemcau');
  if (!existsSync(bin)) throw new Error(`server binary ${bin} not found (build it, or set DIEMCAU_BIN)`);
  return bin;
}

/**
 * @param {string} name   used for the log file tests/artifacts/logs/server-<name>.log
 * @param {string[]} args extra options
 * @returns {Promise<{url:string, httpPort:number, mediaPort:number, output:()=>string, stop:()=>Promise<void>}>}
 */
export async function startServer(name, args = [], { startTimeoutMs = 20000 } = {}) {
  mkdirSync(LOGS, { recursive: true });
  const bin = serverBinary();
  const logPath = join(LOGS, `server-${name}.log`);
  const log = createWriteStream(logPath);
  const argv = ['--http-port', '0', '--media-port', '0', '--announce-ip', '127.0.0.1', ...args];
  log.write(`# ${bin} ${argv.join(' ')}\n`);
  const child = spawn(bin, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let out = '';
  let stdoutBuf = '';
  let exited = null; // {code, signal}
  const exitPromise = new Promise((res) => child.on('exit', (code, signal) => { exited = { code, signal }; res(exited); }));
  const spawnError = new Promise((_, rej) => child.on('error', rej));
  spawnError.catch(() => {});

  const listening = new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not print LISTENING within ${startTimeoutMs} ms; output:\n${out}`)), startTimeoutMs);
    child.stdout.on('data', (d) => {
      const s = d.toString();
      out += s; stdoutBuf += s; log.write(s);
      const m = /LISTENING http=(\d+) media=(\d+)/.exec(stdoutBuf); // first worker's port
      if (m) { clearTimeout(timer); res({ httpPort: Number(m[1]), mediaPort: Number(m[2]) }); }
    });
    exitPromise.then((e) => { clearTimeout(timer); rej(new Error(`server exited early (${JSON.stringify(e)}); output:\n${out}`)); });
  });
  child.stderr.on('data', (d) => { const s = d.toString(); out += s; log.write(s); });

  let ports;
  try {
    ports = await Promise.race([listening, spawnError]);
  } catch (e) {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
    log.end();
    throw e;
  }

  let stopped = false;
  return {
    ...ports,
    url: `http://127.0.0.1:${ports.httpPort}/`,
    output: () => out,
    alive: () => exited === null,
    async stop() {
      if (stopped) return;
      stopped = true;
      const wasRunning = exited === null;
      if (wasRunning) child.kill('SIGTERM');
      const graceful = await Promise.race([exitPromise, new Promise((r) => setTimeout(() => r(null), 10000))]);
      if (!graceful) child.kill('SIGKILL');
      const e = await exitPromise;
      await new Promise((r) => log.end(r));
      const problems = [];
      if (!wasRunning) problems.push(`server died during the test (${JSON.stringify(e)})`);
      else if (!graceful) problems.push('server did not exit within 10 s of SIGTERM');
      else if (!(e.code === 0 || e.signal === 'SIGTERM')) problems.push(`server exited with ${JSON.stringify(e)} after SIGTERM`);
      const san = SANITIZER_RE.exec(out);
      if (san) problems.push(`sanitizer report in server output ("${san[0]}")`);
      if (problems.length) {
        throw new Error(`${problems.join('; ')} — see ${logPath}; last output:\n${out.slice(-4000)}`);
      }
    },
  };
}

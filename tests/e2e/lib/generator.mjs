// The C load generator (bench/diemcau-bench, bench/README.md) as the crowd of a browser
// test: real WebRTC sites (ICE, DTLS, SRTP) that join with development tokens of their
// roles, publish synthetic audio and video, follow their own slots, speak on a schedule
// and pass the floor. The test learns when its measurement window begins (the zero of
// --speak and --floor) from the line it prints on stderr.
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LOGS, serverBinary } from './server.mjs';

/** $DIEMCAU_BENCH_BIN, else the generator built beside the server binary under test. */
export function generatorBinary() {
  const bin = process.env.DIEMCAU_BENCH_BIN
    ? resolve(process.env.DIEMCAU_BENCH_BIN)
    : join(dirname(serverBinary()), 'bench', 'diemcau-bench');
  if (!existsSync(bin)) throw new Error(`load generator ${bin} not found (ninja -C <build>, or set DIEMCAU_BENCH_BIN)`);
  return bin;
}

/** Is this binary built with AddressSanitizer (it links libasan)? Such a build runs several times slower. */
export function isSanitized(bin) {
  try {
    return /libasan|libubsan/.test(execFileSync('ldd', [bin], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/**
 * Starts the generator against a server from startServer(); args are diemcau-bench options
 * (--publishers, --roles, --speak …). Returns {windowBegins, done, output, stop}:
 * windowBegins resolves with Date.now() when the window begins (every site has joined and
 * has media) and rejects if the generator ends first; done resolves with {code, signal}.
 */
export function startGenerator(name, server, args) {
  mkdirSync(LOGS, { recursive: true });
  const bin = generatorBinary();
  const logPath = join(LOGS, `generator-${name}.log`);
  const log = createWriteStream(logPath);
  const argv = ['--url', `ws://127.0.0.1:${server.httpPort}/ws`, '--media-port', String(server.mediaPort), ...args];
  log.write(`# ${bin} ${argv.join(' ')}\n`);
  const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let out = '';
  let exited = null;
  const done = new Promise((res) => child.on('exit', (code, signal) => { exited = { code, signal }; res(exited); }));
  child.on('error', (e) => { out += `spawn error: ${e.message}\n`; });
  let begins;
  const windowBegins = new Promise((res, rej) => {
    begins = res;
    done.then((e) => rej(new Error(`generator ended before its window began (${JSON.stringify(e)}); see ${logPath}:\n${out.slice(-3000)}`)));
  });
  windowBegins.catch(() => {});
  let lineBuf = '';
  child.stderr.on('data', (d) => {
    const s = d.toString();
    out += s;
    log.write(s);
    lineBuf += s;
    let nl;
    while ((nl = lineBuf.indexOf('\n')) >= 0) {
      const line = lineBuf.slice(0, nl);
      lineBuf = lineBuf.slice(nl + 1);
      if (line.startsWith('bench: window begins')) begins(Date.now());
    }
  });
  child.stdout.on('data', (d) => { out += d; log.write(d); });
  return {
    windowBegins,
    done,
    logPath,
    output: () => out,
    /** Ends it if still running (SIGTERM, then SIGKILL after 10 s) and closes the log. */
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 10000);
        await done;
        clearTimeout(t);
      }
      await new Promise((r) => log.end(r));
    },
  };
}

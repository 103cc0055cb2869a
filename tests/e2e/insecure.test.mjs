// Opened over plain http:// at an address that is not loopback, the browser gives the page
// no camera (not a secure context). The page must say why and what the administrator has to
// do (docs/TLS.md), and still let the user join to watch and listen. The test gives its own
// network namespace's loopback a second, non-loopback address and opens the page there.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitUntil, endAll } from './lib/participants.mjs';

const ADDR = '10.213.0.1';

// Only inside tests/run-in-netns.sh (a namespace with nothing but lo): never touch a host.
function privateNamespace() {
  try {
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).trim().split('\n');
    return links.length === 1 && / lo: /.test(links[0]);
  } catch {
    return false;
  }
}

describe('a page opened over http:// from another address', { timeout: 120000, skip: !privateNamespace() && 'needs tests/run-in-netns.sh' }, () => {
  let server, p;

  before(async () => {
    execFileSync('ip', ['addr', 'add', `${ADDR}/32`, 'dev', 'lo']);
    server = await startServer('insecure');
    p = await launchChromium('insecure');
  }, { timeout: 60000 });

  after(async () => {
    try {
      await endAll(server, [p]);
    } finally {
      execFileSync('ip', ['addr', 'del', `${ADDR}/32`, 'dev', 'lo']);
    }
  });

  it('says the camera is blocked by plain http and what the administrator must do', { timeout: 60000 }, async () => {
    await p.page.goto(`http://${ADDR}:${server.httpPort}/`);
    const r = await waitUntil('the page to explain the missing camera', async () => {
      const s = await p.page.evaluate(() => ({
        secure: window.isSecureContext,
        text: document.querySelector('#media-error')?.textContent || '',
        joinEnabled: !document.querySelector('#join').disabled,
      }));
      return { ok: s.text.length > 0, detail: JSON.stringify(s), s };
    });
    console.log(`page says: ${r.s.text}`);
    assert.equal(r.s.secure, false, 'the browser really treats this page as not secure');
    assert.match(r.s.text, /http:\/\//);
    assert.match(r.s.text, /docs\/TLS\.md/);
    assert.match(r.s.text, new RegExp(`https://${ADDR.replaceAll('.', '\\.')}/`));
    assert.ok(r.s.joinEnabled, 'joining to watch and listen stays possible');
    console.log(`screenshot: ${await p.screenshot('insecure-join-form.png')}`);
  });
});

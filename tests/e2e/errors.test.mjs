// Every error code of signaling/PROTOCOL.md has its own Vietnamese and English text in the
// page, and a code the page does not know yields a sentence in the page's language naming
// the code, never the server's English message inside a Vietnamese sentence.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, ROOT } from './lib/server.mjs';
import { launchChromium, endAll } from './lib/participants.mjs';

function protocolErrorCodes() {
  const doc = readFileSync(join(ROOT, 'signaling', 'PROTOCOL.md'), 'utf8');
  const table = doc.split('## Error codes')[1].split('\n## ')[0];
  return [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
}

describe('error texts for every protocol error code', { timeout: 90000 }, () => {
  let server, p;

  before(async () => {
    server = await startServer('errors');
    p = await launchChromium('errors');
    await p.page.goto(server.url);
  }, { timeout: 60000 });

  after(() => endAll(server, [p]));

  it('each code has a Vietnamese and an English text of its own', async () => {
    const codes = protocolErrorCodes();
    assert.ok(codes.length >= 13, `codes read from PROTOCOL.md: ${codes}`);
    const texts = await p.page.evaluate(async (list) => {
      const i18n = await import('/js/i18n.js');
      const out = {};
      for (const lang of ['vi', 'en']) {
        i18n.setLang(lang);
        out[lang] = Object.fromEntries(list.map((c) => [c, i18n.errorText(c, 'some English detail')]));
        out[lang].__unknown = i18n.errorText('engine_failed', 'stream limit reached');
      }
      i18n.setLang('vi');
      return out;
    }, codes);
    for (const code of codes) {
      for (const lang of ['vi', 'en']) {
        const s = texts[lang][code];
        assert.ok(!s.includes(code) && !s.includes('some English detail'), `${lang} text of ${code} is its own: ${s}`);
      }
      assert.notEqual(texts.vi[code], texts.en[code], `${code} is translated`);
    }
    for (const lang of ['vi', 'en']) {
      const s = texts[lang].__unknown;
      assert.ok(s.includes('engine_failed') && !s.includes('stream limit'), `${lang} fallback names the code only: ${s}`);
    }
    assert.match(texts.vi.__unknown, /Máy chủ báo lỗi/);
  });
});

// The join form's microphone check: the level meter follows the microphone (Chromium's
// fake microphone beeps, so the meter must rise and fall), and the speaker test plays.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitUntil, sleep, endAll } from './lib/participants.mjs';

describe('preview: microphone level meter and speaker test', { timeout: 120000 }, () => {
  let server, p;

  before(async () => {
    server = await startServer('preview');
    p = await launchChromium('preview');
  }, { timeout: 60000 });

  after(() => endAll(server, [p], 'preview'));

  it('the meter moves with the (beeping) fake microphone', { timeout: 60000 }, async () => {
    await p.page.goto(server.url);
    await waitUntil('the meter to measure a microphone', async () => {
      const active = await p.page.evaluate(() => document.querySelector('#mic-meter')?.dataset.active);
      return { ok: active === 'true', detail: `data-active=${active}` };
    });
    const levels = [];
    for (let i = 0; i < 40; i++) {
      levels.push(await p.page.evaluate(() => Number(document.querySelector('#mic-meter').getAttribute('aria-valuenow'))));
      await sleep(100);
    }
    const max = Math.max(...levels), min = Math.min(...levels);
    console.log(`meter levels over 4 s: ${levels.join(' ')}`);
    assert.ok(max >= 10, `the meter rises (max ${max})`);
    assert.ok(max - min >= 10, `the meter moves (min ${min}, max ${max})`);
    const bar = await p.page.evaluate(() => document.querySelector('.mic-meter-bar').getBoundingClientRect().width);
    assert.ok(bar >= 0, 'the bar is drawn');
    console.log(`screenshot: ${await p.screenshot('preview-meter.png')}`);
  });

  it('"Phát âm thanh thử" plays a sound', { timeout: 30000 }, async () => {
    // Listen to what reaches the speakers: every node connected to an AudioContext's
    // destination is also connected to an analyser (the real connect still runs).
    await p.page.evaluate(() => {
      const connect = AudioNode.prototype.connect;
      window.__speakerPeak = 0;
      AudioNode.prototype.connect = function (target, ...rest) {
        if (target instanceof AudioDestinationNode) {
          const an = this.context.createAnalyser();
          connect.call(this, an);
          const buf = new Float32Array(an.fftSize);
          const timer = setInterval(() => {
            an.getFloatTimeDomainData(buf);
            for (const v of buf) window.__speakerPeak = Math.max(window.__speakerPeak, Math.abs(v));
          }, 20);
          setTimeout(() => clearInterval(timer), 3000);
        }
        return connect.call(this, target, ...rest);
      };
    });
    await p.page.click('#speaker-test');
    await waitUntil('the test sound to start', async () => {
      const s = await p.page.evaluate(() => document.querySelector('#speaker-test').dataset.playing);
      return { ok: s === 'true', detail: s };
    }, { timeoutMs: 3000, intervalMs: 50 });
    await waitUntil('the test sound to end', async () => {
      const s = await p.page.evaluate(() => document.querySelector('#speaker-test').dataset.playing);
      return { ok: s === 'false', detail: s };
    }, { timeoutMs: 5000, intervalMs: 100 });
    const peak = await p.page.evaluate(() => window.__speakerPeak);
    console.log(`test sound peak at the speakers: ${peak}`);
    assert.ok(peak > 0.05, `the speakers got a sound (peak ${peak})`);
  });
});

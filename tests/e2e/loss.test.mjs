// A viewer behind a lossy link (issue 12): one Chromium publisher in the test's namespace,
// one Chromium viewer in a site namespace whose incoming UDP loses a random share
// (lib/lossy.mjs measures what the viewer's page shows).
//
// The same link at 5 % loss is measured against a server with repair off (--nack false)
// and one with it on; the test fails unless repair clearly helps (fewer freezes, more
// frames) and the repaired picture meets the target. Then 10 % loss with repair: the
// sound keeps playing and the picture stays at ≥ 10 frames/s.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeSiteLink } from './lib/netns.mjs';
import { measureRepair, SECONDS } from './lib/lossy.mjs';

describe('loss: a viewer behind a lossy link', { timeout: 300000 }, () => {
  let link;
  const m = {}; // condition → measurement

  before(() => { link = makeSiteLink('loss'); });
  after(async () => { await link?.remove(); });

  it('at 5 % loss without repair the picture freezes', { timeout: 120000 }, async () => {
    Object.assign(m, await measureRepair(link, { nack: false, lossy: 'viewer', losses: [0.05], label: 'loss' }));
  });

  it('with repair: 5 % loss keeps the picture smooth, 10 % keeps sound and ≥ 10 fps', { timeout: 150000 }, async () => {
    Object.assign(m, await measureRepair(link, { nack: true, lossy: 'viewer', losses: [0, 0.05, 0.1], label: 'loss' }));
    const clean = m['on@0%'];
    const off = m['off@5%'];
    const on = m['on@5%'];
    const ten = m['on@10%'];
    // repair asked for and got retransmissions
    assert.ok(on.nacks > 0 && on.retransmitted > 0, `NACKs answered at 5 %: ${JSON.stringify(on)}`);
    // the target: ≥ 15 frames/s (or, where this machine's fake camera gives less even on a
    // clean link, 80 % of that), no second without a frame, no long freeze
    const target = Math.min(15, 0.8 * clean.fps);
    assert.ok(on.fps >= target, `5 % with repair: ${on.fps} fps < ${target} (clean ${clean.fps})`);
    assert.ok(Math.min(...on.frames) > 0, `5 % with repair: a second without a frame: ${on.frames}`);
    assert.ok(on.freezeSeconds <= Math.max(1, on.freezes), `5 % with repair: freezes ${on.freezes}, ${on.freezeSeconds} s`);
    // and it is repair that made the difference
    assert.ok(off.freezeSeconds > 2 * on.freezeSeconds + 0.5 && off.fps < on.fps,
      `repair does not help: off ${JSON.stringify(off)}, on ${JSON.stringify(on)}`);
    // 10 %: the sound keeps playing — under a fifth of it concealed (NetEq's stand-ins for
    // lost audio), and loud in nearly every second (the fake microphone's beeps are short
    // and periodic: a one-second window now and then holds none, on a clean link too —
    // measured once at 0.012) — and video ≥ 10 fps
    assert.ok(ten.concealed !== null && ten.concealed < 0.2, `10 %: concealed audio ${ten.concealed}`);
    assert.ok(ten.peaks.filter((p) => p > 0.01).length >= SECONDS - 2, `10 %: seconds without sound: ${ten.peaks}`);
    // ≥ 10 frames/s, or 60 % of the clean link's where this machine gives less
    assert.ok(ten.fps >= Math.min(10, 0.6 * clean.fps), `10 % with repair: ${ten.fps} fps (clean ${clean.fps})`);
  });
});

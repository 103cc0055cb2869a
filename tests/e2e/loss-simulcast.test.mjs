// Loss repair of a simulcast camera (issue 12): the Chromium publisher sends its (fake
// 1280×720) camera in three layers, each its own SSRC with its own RTX stream; the server
// keeps a retransmission cache per layer, answers the viewer's NACKs with the packet of
// whichever layer it sent under that number, and NACKs each layer's gaps to the publisher.
//
// Measured as in loss.test.mjs and loss-upstream.test.mjs (lib/lossy.mjs: frames the
// viewer's tile presents each second, getStats freezes and NACKs), with --simulcast true:
// 5 % loss toward the viewer, and 5 % loss on the publisher's uplink, each with repair off
// and on. The test fails unless the publisher really sends layers, repair clearly helps,
// and the repaired picture keeps ≥ 12 frames/s without a long freeze.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeSiteLink } from './lib/netns.mjs';
import { measureRepair } from './lib/lossy.mjs';

const STEP = { timeout: 150000 };

describe('loss: a simulcast camera behind lossy links', { timeout: 600000 }, () => {
  let link;
  const m = {}; // "down on@5%" → measurement

  before(() => { link = makeSiteLink('losssc'); });
  after(async () => { await link?.remove(); });

  const run = async (lossy, nack, losses) => {
    const got = await measureRepair(link, { nack, lossy, losses, label: `losssc-${lossy}`, simulcast: true });
    for (const [k, v] of Object.entries(got)) m[`${lossy} ${k}`] = v;
  };

  /** The picture with repair: frames every second, ≥ 12 a second (or 80 % of the clean
   * link's where this machine's fake camera gives less), no freeze over a second. */
  const assertSmooth = (what, on, clean) => {
    const target = Math.min(12, 0.8 * (clean?.fps ?? 15));
    assert.ok(on.layers.length >= 2, `${what}: the publisher sends no layers: ${JSON.stringify(on)}`);
    assert.ok(on.fps >= target, `${what}: ${on.fps} fps < ${target} (clean ${clean?.fps}): ${JSON.stringify(on)}`);
    assert.ok(Math.min(...on.frames) > 0, `${what}: a second without a frame: ${on.frames}`);
    assert.ok(on.freezes === 0 || on.freezeSeconds / on.freezes < 1,
      `${what}: a freeze over 1 s: ${on.freezes} freezes, ${on.freezeSeconds} s`);
  };

  it('5 % loss toward the viewer, repair off: the picture freezes', STEP, async () => {
    await run('viewer', false, [0.05]);
  });

  it('5 % loss toward the viewer, repair on: the viewer\'s NACKs are answered from the layer it gets', STEP, async () => {
    await run('viewer', true, [0, 0.05]);
    const clean = m['viewer on@0%'];
    const off = m['viewer off@5%'];
    const on = m['viewer on@5%'];
    assert.ok(on.nacks > 0 && on.retransmitted > 0, `NACKs answered: ${JSON.stringify(on)}`);
    assertSmooth('5 % toward the viewer', on, clean);
    assert.ok(off.freezeSeconds > 2 * on.freezeSeconds + 0.5 && off.fps < on.fps,
      `repair does not help: off ${JSON.stringify(off)}, on ${JSON.stringify(on)}`);
  });

  it('5 % loss on the publisher\'s uplink, repair off: the viewer gets the gaps', STEP, async () => {
    await run('publisher', false, [0.05]);
  });

  it('5 % loss on the publisher\'s uplink, repair on: each layer\'s gaps are filled upstream', STEP, async () => {
    await run('publisher', true, [0.05]);
    const clean = m['viewer on@0%'];
    const off = m['publisher off@5%'];
    const on = m['publisher on@5%'];
    // the server's receiver reports count what the layers lost; the viewer, on a clean
    // link, NACKs the gaps the server forwarded
    assert.ok(off.pubReportedLost >= 10, `receiver reports per layer: ${JSON.stringify(off)}`);
    assert.ok(off.nacks >= 10, `without repair the viewer should see the publisher's losses: ${JSON.stringify(off)}`);
    // with repair the publisher resent its layers' packets (RTX per layer, learnt from the
    // repaired-rid extension) and the viewer was left (almost) nothing to ask for
    assert.ok(on.pubResent >= 10, `the publisher resent nothing: ${JSON.stringify(on)}`);
    assert.ok(on.lost <= 2, `the server left gaps for the viewer: ${JSON.stringify(on)}`);
    assertSmooth('5 % on the uplink', on, clean);
    assert.ok(on.fps > off.fps && on.freezeSeconds < off.freezeSeconds,
      `repair does not help: off ${JSON.stringify(off)}, on ${JSON.stringify(on)}`);
  });
});

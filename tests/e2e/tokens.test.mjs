// Join tokens as people meet them: the plain page says it is in development mode and
// offers the roles; an invitation link fills the form read-only (name, room, role) and
// joins with that role; an expired link and a link for another room are refused with their
// own Vietnamese sentence; a participant the chair removes, and everyone when the chair
// ends the meeting, lands on the "left" view with its own message and does not rejoin.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './lib/server.mjs';
import { launchChromium, waitUntil, endAll, sleep } from './lib/participants.mjs';
import { secretFile, mintToken } from './lib/tokens.mjs';

const ROOM = 'Họp trực tuyến xã Tân Lập';
const STEP = { timeout: 60000 };

const form = (p) => p.page.evaluate(() => {
  const $ = (s) => document.querySelector(s);
  return {
    name: $('#name').value, nameReadOnly: $('#name').readOnly,
    room: $('#room').value, roomReadOnly: $('#room').readOnly,
    role: $('#role').value, roleDisabled: $('#role').disabled, roleShown: !$('#role-field').hidden,
    notice: $('#token-notice').hidden ? null : { kind: $('#token-notice').dataset.kind, text: $('#token-notice').textContent },
    error: $('#join-error').hidden ? null : $('#join-error').textContent,
    phase: document.body.dataset.phase,
  };
});

const leftView = (p) => p.page.evaluate(() => ({
  phase: document.body.dataset.phase,
  reason: document.body.dataset.leftReason,
  heading: document.querySelector('#left-heading').textContent,
  text: document.querySelector('#left-text').textContent,
  connection: window.diemcau.connection,
}));

describe('join tokens: development mode, invitation links, refusals, removal and the end', { timeout: 240000 }, () => {
  let server, secret, chair, guest;

  before(async () => {
    const s = secretFile('tokens');
    secret = s.secret;
    server = await startServer('tokens', ['--token-secret-file', s.file]);
    [chair, guest] = await Promise.all([launchChromium('tokens-chair'), launchChromium('tokens-guest')]);
  }, STEP);

  after(() => endAll(server, [chair, guest], 'tokens'));

  it('the plain page says it is in development mode and offers the roles, official first', STEP, async () => {
    await chair.openForm(server.url);
    const f = await form(chair);
    assert.equal(f.notice?.kind, 'dev', JSON.stringify(f));
    assert.match(f.notice.text, /Chế độ phát triển/);
    assert.ok(f.roleShown && !f.roleDisabled && f.role === 'official', JSON.stringify(f));
    console.log(`screenshot: ${await chair.screenshot('tokens-dev-form.png')}`);
  });

  it('an expired invitation link is refused with "ask the organiser for a new invitation"', STEP, async () => {
    const expired = mintToken(secret, { name: 'Trạm y tế xã', room: ROOM, role: 'delegate', exp: Math.floor(Date.now() / 1000) - 120 });
    await guest.joinWithToken(server.url, expired, 'Trạm y tế xã');
    const r = await waitUntil('the expired-link message', async () => {
      const f = await form(guest);
      return { ok: f.phase === 'join' && !!f.error, detail: JSON.stringify(f), f };
    }, { timeoutMs: 10000, intervalMs: 100 });
    assert.match(r.f.error, /Đường dẫn mời đã hết hạn/);
    assert.match(r.f.error, /giấy mời mới/);
    console.log(`screenshot: ${await guest.screenshot('tokens-expired.png')}`);
  });

  it('a link for other rooms is refused as such', STEP, async () => {
    const token = mintToken(secret, { name: 'Công an xã', room_prefix: 'Huyện Đông Anh', role: 'delegate' });
    await guest.openForm(`${server.url}?token=${encodeURIComponent(token)}`);
    await guest.page.fill('#room', ROOM);
    await guest.page.click('#join');
    const r = await waitUntil('the wrong-room message', async () => {
      const f = await form(guest);
      return { ok: f.phase === 'join' && !!f.error, detail: JSON.stringify(f), f };
    }, { timeoutMs: 10000, intervalMs: 100 });
    assert.match(r.f.error, /phòng họp khác/);
  });

  it('an invitation link fills the form read-only and joins with its role; the chair removes it and it stays out', STEP, async () => {
    await chair.join(server.url, 'Chủ tịch xã', ROOM, { role: 'chair' });
    const token = mintToken(secret, { name: 'Thôn Đông', site: 'Thôn Đông', room: ROOM, role: 'delegate' });
    await guest.openForm(`${server.url}?token=${encodeURIComponent(token)}`);
    const f = await form(guest);
    assert.deepEqual(
      [f.name, f.nameReadOnly, f.room, f.roomReadOnly, f.role, f.roleDisabled, f.notice?.kind],
      ['Thôn Đông', true, ROOM, true, 'delegate', true, 'invitation'], JSON.stringify(f));
    console.log(`screenshot: ${await guest.screenshot('tokens-invitation-form.png')}`);
    await guest.page.click('#join');
    const joined = await waitUntil('the guest to join as a delegate', async () => {
      const s = await guest.page.evaluate(() => ({ state: window.diemcau.state, role: window.diemcau.role, id: window.diemcau.participantId, grants: window.diemcau.grants }));
      return { ok: s.state === 'meeting', detail: JSON.stringify(s), s };
    });
    assert.equal(joined.s.role, 'delegate');
    assert.ok(!joined.s.grants.includes('speak'), 'a delegate speaks only with the floor');

    await chair.request('remove_participant', { participant_id: joined.s.id });
    const r = await waitUntil('the guest to see that it was removed', async () => {
      const v = await leftView(guest);
      return { ok: v.phase === 'left' && v.reason === 'removed', detail: JSON.stringify(v), v };
    }, { timeoutMs: 10000, intervalMs: 100 });
    assert.match(r.v.heading, /mời ra khỏi cuộc họp/);
    await sleep(3000); // long enough for a reconnect/resume to have happened, if it would
    const still = await leftView(guest);
    assert.equal(still.phase, 'left', `no automatic rejoin: ${JSON.stringify(still)}`);
    console.log(`screenshot: ${await guest.screenshot('tokens-removed.png')}`);
    assert.equal(await guest.page.evaluate(() => document.querySelector('#rejoin').hidden), true, 'no "join again" button after removal');
    // The same invitation cannot come back into this meeting.
    await guest.openForm(`${server.url}?token=${encodeURIComponent(token)}`);
    await guest.page.click('#join');
    const back = await waitUntil('the rejoin to be refused', async () => {
      const ff = await form(guest);
      return { ok: ff.phase === 'join' && !!ff.error, detail: JSON.stringify(ff), f: ff };
    }, { timeoutMs: 10000, intervalMs: 100 });
    assert.match(back.f.error, /không có quyền|mời ra khỏi/);
  });

  it('when the chair ends the meeting, the others see "the meeting has ended"', STEP, async () => {
    await guest.join(server.url, 'Trường tiểu học', ROOM, { role: 'official' });
    await waitUntil('the guest to be in the meeting', async () => {
      const s = await guest.page.evaluate(() => window.diemcau.state);
      return { ok: s === 'meeting', detail: s };
    });
    // The server may close the chair's socket before its `ok` arrives: that is the end too.
    await chair.request('end_meeting').catch((e) => { if (!/closed/.test(e.message)) throw e; });
    const r = await waitUntil('the guest to see the end of the meeting', async () => {
      const v = await leftView(guest);
      return { ok: v.phase === 'left' && v.reason === 'ended', detail: JSON.stringify(v), v };
    }, { timeoutMs: 10000, intervalMs: 100 });
    assert.match(r.v.heading, /Cuộc họp đã kết thúc/);
    console.log(`screenshot: ${await guest.screenshot('tokens-ended.png')}`);
  });
});

// What the user perceives of a remote participant: is their tile's <video> showing moving
// pictures, and does an <audio> element play their sound? Checked on the elements of the
// page, not in getStats, which counts frames decoded even when nothing reaches the screen.
import { waitUntil } from './participants.mjs';

/**
 * Runs inside the page. For each id: the tile's <video> (size, readyState, frames presented
 * during sampleMs, counted with requestVideoFrameCallback where the browser has it, else
 * getVideoPlaybackQuality) and the <audio> elements for that participant (a live, unmuted
 * track that plays, and its loudness measured with an AnalyserNode during sampleMs).
 */
async function probeInPage([ids, sampleMs]) {
  const out = {};
  const ctx = new AudioContext();
  // resume() never settles where autoplay blocks Web Audio; the loudness then reads 0.
  await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 1000))]);
  try {
    await Promise.all(ids.map(async (id) => {
      const tile = document.querySelector(`.tile[data-participant-id="${CSS.escape(id)}"]`);
      const video = tile?.querySelector('video');
      const audios = [...document.querySelectorAll(`#audio-sinks audio[data-participant-id="${CSS.escape(id)}"]`)];
      const r = { tile: !!tile, video: null, audio: [] };
      out[id] = r;
      const countFrames = () => new Promise((resolve) => {
        if (!video) return resolve(0);
        if (typeof video.requestVideoFrameCallback === 'function') {
          let n = 0;
          let done = false;
          const tick = () => { if (!done) { n++; video.requestVideoFrameCallback(tick); } };
          video.requestVideoFrameCallback(tick);
          setTimeout(() => { done = true; resolve(n); }, sampleMs);
        } else {
          const before = video.getVideoPlaybackQuality().totalVideoFrames;
          setTimeout(() => resolve(video.getVideoPlaybackQuality().totalVideoFrames - before), sampleMs);
        }
      });
      const loudness = (el) => new Promise((resolve) => {
        const stream = el.srcObject;
        if (!(stream instanceof MediaStream) || !stream.getAudioTracks().length) return resolve(0);
        const src = ctx.createMediaStreamSource(stream);
        const an = ctx.createAnalyser();
        an.fftSize = 2048;
        src.connect(an);
        const buf = new Float32Array(an.fftSize);
        let peak = 0;
        const timer = setInterval(() => {
          an.getFloatTimeDomainData(buf);
          for (const v of buf) peak = Math.max(peak, Math.abs(v));
        }, 50);
        setTimeout(() => { clearInterval(timer); src.disconnect(); resolve(peak); }, sampleMs);
      });
      const [frames, peaks] = await Promise.all([countFrames(), Promise.all(audios.map(loudness))]);
      if (video) {
        const track = video.srcObject?.getVideoTracks?.()[0];
        r.video = {
          width: video.videoWidth, height: video.videoHeight, readyState: video.readyState,
          paused: video.paused, frames, track: track ? `${track.readyState}${track.muted ? '/muted' : ''}` : 'none',
        };
      }
      r.audio = audios.map((el, i) => {
        const track = el.srcObject?.getAudioTracks?.()[0];
        return {
          mid: el.dataset.mid, paused: el.paused, peak: Math.round(peaks[i] * 1000) / 1000,
          track: track ? `${track.readyState}${track.muted ? '/muted' : ''}` : 'none',
        };
      });
    }));
  } finally {
    await ctx.close();
  }
  return out;
}

function problems(id, r, { video, audio }) {
  const bad = [];
  if (!r.tile) return [`${id}: no tile`];
  if (video) {
    const v = r.video;
    if (!v) bad.push(`${id}: tile has no <video>`);
    else if (!(v.width > 0 && v.height > 0 && v.readyState >= 2 && v.frames >= 3 && !v.paused)) {
      bad.push(`${id}: video ${JSON.stringify(v)}`);
    }
  }
  if (audio) {
    const live = r.audio.filter((a) => a.track === 'live' && !a.paused && a.peak > 0.01);
    if (live.length !== 1) bad.push(`${id}: audio ${JSON.stringify(r.audio)}`);
  }
  return bad;
}

/**
 * Waits until, on p's page, every id's tile shows moving video (videoWidth/Height > 0,
 * readyState ≥ 2, ≥ 3 frames presented in a second) and exactly one <audio> element plays a
 * live track of theirs with sound in it (fake microphones beep). Returns {seen}.
 */
export async function waitForLiveTiles(p, ids, { timeoutMs = 40000, sampleMs = 1000, video = true, audio = true } = {}) {
  return waitUntil(
    `${p.label} to see and hear ${ids.join(', ')} in their tiles`,
    async () => {
      const seen = await p.page.evaluate(probeInPage, [ids, sampleMs]);
      const bad = ids.flatMap((id) => problems(id, seen[id], { video, audio }));
      return { ok: bad.length === 0, detail: bad.join('; '), seen };
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** One probe without waiting: {id: {tile, video, audio}} as seen on p's page now. */
export async function probeTiles(p, ids, sampleMs = 1000) {
  return p.page.evaluate(probeInPage, [ids, sampleMs]);
}

/**
 * Runs inside the page: the screen-share tile as the user sees it (whose screen, in the
 * program or not, its label, size and frames presented during sampleMs), or null when no
 * screen is shown. Frames are counted as in probeInPage.
 */
function screenInPage(sampleMs) {
  return new Promise((resolve) => {
    const tile = [...document.querySelectorAll('.tile-screen')].find((t) => !t.hidden);
    if (!tile) return resolve(null);
    const video = tile.querySelector('video');
    let frames = 0;
    let done = false;
    const before = video.getVideoPlaybackQuality().totalVideoFrames;
    const rvfc = typeof video.requestVideoFrameCallback === 'function';
    const tick = () => { if (!done) { frames++; video.requestVideoFrameCallback(tick); } };
    if (rvfc) video.requestVideoFrameCallback(tick);
    setTimeout(() => {
      done = true;
      resolve({
        sharer: tile.dataset.sharerId, inProgram: !!tile.closest('#program'), label: tile.querySelector('.name').textContent,
        width: video.videoWidth, height: video.videoHeight, shown: tile.classList.contains('show-video'),
        frames: rvfc ? frames : video.getVideoPlaybackQuality().totalVideoFrames - before,
      });
    }, sampleMs);
  });
}

/** The screen tile on p's page now: {sharer, inProgram, label, width, height, shown, frames} or null. */
export function probeScreen(p, sampleMs = 1000) {
  return p.page.evaluate(screenInPage, sampleMs);
}

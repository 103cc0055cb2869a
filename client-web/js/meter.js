// meter.js — the preview's microphone check: a live level meter of the microphone track,
// and a short test sound for the speakers. Both use one AudioContext, which browsers start
// only after the user has touched the page, so it is resumed on the first click or key.

let ctx = null;
function audioContext() {
  if (!ctx) {
    ctx = new AudioContext();
    const resume = () => ctx.resume().catch(() => {});
    for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, resume, { capture: true });
  }
  if (ctx.state === 'suspended') ctx.resume().catch(() => {});
  return ctx;
}

const FRAME_MS = 100;

export class MicMeter {
  /** el: the meter element (role="meter") with a bar child. */
  constructor(el) {
    this.el = el;
    this.bar = el.querySelector('.mic-meter-bar');
    this.source = null;
    this.analyser = null;
    this.timer = null;
    this.show(0);
  }

  /** Measure the stream's microphone (none: the meter rests at 0 and says so). */
  attach(stream) {
    this.detach();
    const track = stream?.getAudioTracks()[0];
    this.el.dataset.active = String(!!track);
    if (!track) return;
    const ac = audioContext();
    this.source = ac.createMediaStreamSource(new MediaStream([track]));
    this.analyser = ac.createAnalyser();
    this.analyser.fftSize = 1024;
    this.source.connect(this.analyser);
    const buf = new Float32Array(this.analyser.fftSize);
    this.timer = setInterval(() => {
      this.analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      // RMS on a rough loudness scale: speech at a normal distance fills about half.
      const rms = Math.sqrt(sum / buf.length);
      this.show(Math.min(100, Math.round(Math.sqrt(rms) * 140)));
    }, FRAME_MS);
  }

  show(level) {
    this.bar.style.width = `${level}%`;
    this.el.setAttribute('aria-valuenow', String(level));
    this.el.dataset.level = String(level);
  }

  detach() {
    clearInterval(this.timer);
    this.timer = null;
    this.source?.disconnect();
    this.source = null;
    this.analyser = null;
    this.el.dataset.active = 'false';
    this.show(0);
  }
}

/** A short two-note chime on the default speakers; resolves when it has played. */
export function playTestSound() {
  const ac = audioContext();
  const gain = ac.createGain();
  gain.connect(ac.destination);
  const start = ac.currentTime + 0.05;
  [[660, 0], [880, 0.35]].forEach(([freq, at]) => {
    const osc = ac.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(start + at);
    osc.stop(start + at + 0.3);
  });
  gain.gain.setValueAtTime(0.0001, start);
  gain.gain.exponentialRampToValueAtTime(0.3, start + 0.03);
  gain.gain.setValueAtTime(0.3, start + 0.6);
  gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.68);
  return new Promise((resolve) => setTimeout(resolve, 800));
}

// Medians over the rounds of bench/loss/compare.mjs, and its Markdown table.
// Also usable alone on finished runs (their rounds pooled):
//   node bench/loss/summary.mjs bench/out/loss-compare-A/rounds.json [bench/out/loss-compare-B/rounds.json …]

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// the figures the table shows, as median [min–max] over the rounds
const FIGURES = ['fps', 'longestGapMs', 'gapsOver1s', 'freezeCount', 'freezeSeconds', 'nackCount', 'retransmitted',
  'plis', 'keyFrames', 'videoLost', 'concealed', 'sourceFps', 'sourceKbps', 'sourceWidth'];

/** {target: {loss: {figure: {median, min, max, n}}}} over the windows whose publisher
 * encoded at least minSourceFps frames/s (0: every window). */
export function summarize(run, minSourceFps = 0) {
  const out = {};
  for (const round of run.rounds) {
    for (const [target, byLoss] of Object.entries(round.results)) {
      for (const [loss, m] of Object.entries(byLoss)) {
        if (loss === 'warmUp') continue; // not a loss level: how long the publisher took to ramp up
        if (m.sourceFps < minSourceFps) continue;
        const slot = ((out[target] ??= {})[loss] ??= {});
        for (const f of FIGURES) (slot[f] ??= []).push(m[f]);
      }
    }
  }
  for (const byLoss of Object.values(out)) {
    for (const slot of Object.values(byLoss)) {
      for (const f of FIGURES) {
        const xs = slot[f].filter((x) => x !== null && x !== undefined);
        slot[f] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
      }
    }
  }
  return out;
}

const fmt = (v, digits = 1) => (v === null || !Number.isFinite(v) ? '–' : String(Math.round(v * 10 ** digits) / 10 ** digits));
const cell = (s, digits) => (s.n > 1 ? `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]` : fmt(s.median, digits));

const LABEL = { ours: 'ours', janus: 'Janus 1.1.2', 'ours-nonack': 'ours, --nack false' };

/** A busy host starves the publisher's encoder (and the subscriber's decoder): windows
 * whose source stayed under this share of the camera's rate say little about a server. */
export const VALID_SOURCE_SHARE = 0.8;

export function markdownTable(run) {
  const minFps = VALID_SOURCE_SHARE * run.options.fps;
  return [
    `All windows (medians [min–max] over ${run.rounds.length} rounds):`, '', table(summarize(run)), '',
    `Only windows whose publisher encoded ≥ ${minFps} frames/s (${VALID_SOURCE_SHARE * 100} % of the camera's ${run.options.fps}):`,
    '', table(summarize(run, minFps)), '', footnote(run), '',
  ].join('\n');
}

function table(sum) {
  const rows = [
    '| loss | target | windows | frames/s presented | longest freeze ms | gaps > 1 s | getStats freezes | freeze s | NACKs sent | RTX received | PLIs sent | keyframes | video packets lost | audio concealed % | source fps | source kbit/s | source width |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const losses = [...new Set(Object.values(sum).flatMap((b) => Object.keys(b)))].map(Number).sort((a, b) => a - b);
  for (const loss of losses) {
    for (const target of Object.keys(LABEL)) {
      const s = sum[target]?.[loss];
      if (!s) continue;
      const pct = { ...s.concealed, median: s.concealed.median * 100, min: s.concealed.min * 100, max: s.concealed.max * 100 };
      rows.push(`| ${loss} % | ${LABEL[target]} | ${s.fps.n} | ${cell(s.fps)} | ${cell(s.longestGapMs, 0)} | ${cell(s.gapsOver1s, 0)} | `
        + `${cell(s.freezeCount, 0)} | ${cell(s.freezeSeconds, 2)} | ${cell(s.nackCount, 0)} | ${cell(s.retransmitted, 0)} | ${cell(s.plis, 0)} | ${cell(s.keyFrames, 0)} | `
        + `${cell(s.videoLost, 0)} | ${cell(pct, 2)} | ${cell(s.sourceFps)} | ${cell(s.sourceKbps, 0)} | ${cell(s.sourceWidth, 0)} |`);
    }
  }
  return rows.join('\n');
}

function footnote(run) {
  const loads = run.rounds.flatMap((r) => Object.values(r.results).flatMap((b) => Object.values(b).flatMap((m) => m.load ?? [])));
  return `${run.rounds.length} rounds, ${run.options.seconds} s per window; `
    + `1-minute load average during the windows ${fmt(Math.min(...loads), 2)}–${fmt(Math.max(...loads), 2)} `
    + `(${run.host.cpus} CPUs, ${run.host.model}); ${run.chromium}; ${run.janus}; ${run.started} – ${run.finished ?? '?'}.`;
}

// Several runs' rounds.json together: their rounds pooled (the first run's options).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const run = { ...runs[0], rounds: runs.flatMap((r) => r.rounds), finished: runs.at(-1).finished };
  process.stdout.write(markdownTable(run));
}

#!/usr/bin/env bash
# Memory soak of our server (issue 3, point 5): participants join and leave in waves for
# a fixed time while the server's VmRSS is sampled to a CSV.
#
#   bench/soak.sh [--minutes 10] [--every 30] [--wave 20] [--sample 10] [--build DIR]
#
# One server (build/diemcau, pinned to CPU 0 like bench/run.sh; generator on CPU 1).
#  - base: one diemcau-bench run in room soak-base, 1 publisher (1.5 Mbit/s) → WAVE
#    receivers, for the whole soak;
#  - waves: every EVERY s a new diemcau-bench run in its own room soak-w<i> (1 publisher →
#    WAVE receivers) that lives 2×EVERY s, so at each step one wave (1 + WAVE participants)
#    leaves and a new one joins; at most two waves overlap.
# (diemcau-bench needs ≥ 1 publisher per run and numbers its streams per process, so every
# wave gets its own room.)
# Every SAMPLE s: elapsed s, VmRSS KiB, VmHWM KiB, waves running, load average → rss.csv;
# and the server's own heap statistics (DIEMCAU_HEAP_LOG) → heap.csv, so that RSS growth
# can be told apart: live allocations growing = a leak, free-but-kept growing = fragmentation.
# After the last wave and the base have left, RSS is sampled once more (idle after use).
# Output: bench/out/soak-<time>/{rss.csv,summary.md,base.json,w*.json,*.log}; summary on stdout:
# first/last/max RSS and the least-squares slope after warm-up (from t = 2×EVERY+30 s).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
minutes=10 every=30 wave=20 sample=10 build=""
while (($#)); do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --every) every=$2; shift 2 ;;
    --wave) wave=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ -z $build ]]; then
  for d in "$root/build" /tmp/build-bench; do
    [[ -x $d/diemcau && -x $d/bench/diemcau-bench ]] && { build=$d; break; }
  done
fi
server_bin=$build/diemcau bench_bin=$build/bench/diemcau-bench
[[ -x $server_bin && -x $bench_bin ]] || { echo "soak.sh: build first (ninja -C build)" >&2; exit 1; }
total=$((minutes * 60))
out=${BENCH_OUT:-$root/bench/out}/soak-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out/bin"
# snapshot the binaries: others rebuild build/ meanwhile
cp "$server_bin" "$bench_bin" "$out/bin/"; server_bin=$out/bin/diemcau bench_bin=$out/bin/diemcau-bench
echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')" >"$out/build.txt"
. "$here/server.sh"
kids=()
cleanup() {
  for k in "${kids[@]}"; do kill "$k" 2>/dev/null || true; done
  stop_server
  netsplit_down
}
trap cleanup EXIT INT TERM

# the server logs its heap statistics (signaling/heap_log.h) as often as RSS is sampled
DIEMCAU_HEAP_LOG=$sample WORKERS=1 start_server "$out/server"
url=ws://$srv_addr:$http_port/ws

rss() { awk '/^VmRSS/{r=$2} /^VmHWM/{h=$2} END{print r "," h}' "/proc/$srv_pid/status"; }
running() { local c=0 k; for k in "${kids[@]}"; do kill -0 "$k" 2>/dev/null && c=$((c + 1)); done; echo $c; }
bench() { # name room duration
  timeout $(($3 + 120)) "${in_gen[@]}" "${gen_cpu[@]}" "$bench_bin" --url "$url" --server-pid "$srv_pid" --media-port "$media_port" "${gen_rx_args[@]}" \
    --scenario soak --room "$2" --publishers 1 --receivers "$wave" --duration "$3" --warmup 1 \
    --note "soak $1" --out "$out/$1.json" >"$out/$1.row" 2>"$out/$1.log" &
  kids+=($!)
}

echo "t_s,rss_kib,hwm_kib,bench_runs,load1" >"$out/rss.csv"
t0=$(date +%s.%N)
el() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
echo "$(el),$(rss),0,$(cut -d' ' -f1 /proc/loadavg)" >>"$out/rss.csv"   # idle server
echo "soak: server pid $srv_pid, $minutes min, a wave of 1+$wave every $every s; out $out" >&2
bench base soak-base "$total"
next_wave=0 next_sample=$sample i=0
while :; do
  now=$(el); now_s=${now%.*}
  ((now_s >= total)) && break
  if ((now_s >= next_wave)); then
    # a wave lives 2×every s from its join; its last one still ends within the soak
    life=$((2 * every)); ((now_s + life + 10 > total)) && life=$((total - now_s - 10))
    if ((life >= 10)); then i=$((i + 1)); bench "w$(printf %03d $i)" "soak-w$i" "$life"; fi
    next_wave=$((next_wave + every))
  fi
  if ((now_s >= next_sample)); then
    echo "$now,$(rss),$(running),$(cut -d' ' -f1 /proc/loadavg)" >>"$out/rss.csv"
    next_sample=$((next_sample + sample))
  fi
  sleep 0.5
done
# everyone leaves: wait for the runs (their own bounded durations), then the idle sample
for k in "${kids[@]}"; do wait "$k" 2>/dev/null || true; done
sleep 10
echo "$(el),$(rss),0,$(cut -d' ' -f1 /proc/loadavg)" >>"$out/rss.csv"
kill -0 "$srv_pid" 2>/dev/null || echo "soak.sh: the server died during the soak" >&2

/usr/bin/python3 - "$out" "$every" "$wave" "$i" <<'EOF'
import csv, json, glob, os, sys
d, every, wave, waves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [(float(r["t_s"]), int(r["rss_kib"]), int(r["hwm_kib"]), int(r["bench_runs"])) for r in csv.DictReader(open(f"{d}/rss.csv"))]
idle0, idle1, live = rows[0], rows[-1], rows[1:-1]
warm = [r for r in live if r[0] >= 2 * every + 30]   # after the first waves overlap and settle
def slope(pts):
    n = len(pts)
    if n < 3: return None
    mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx * 60 if sxx else None
s = slope(warm)
half = len(warm) // 2
# heap lines from the server's stderr: heap: t_s=… in_use_kib=… free_kib=… mmap_kib=… releasable_kib=…
heap = []
for line in open(f"{d}/server.err", errors="replace"):
    if line.startswith("heap: "):
        heap.append({k: float(v) for k, v in (f.split("=") for f in line.split()[1:])})
with open(f"{d}/heap.csv", "w") as f:
    f.write("t_s,in_use_kib,free_kib,mmap_kib,releasable_kib\n")
    for h in heap:
        f.write(f"{h['t_s']},{h['in_use_kib']:.0f},{h['free_kib']:.0f},{h['mmap_kib']:.0f},{h['releasable_kib']:.0f}\n")
# the server's clock starts at its own start, a little before t0: close enough for a slope
live_end = live[-1][0]
hwarm = [h for h in heap if 2 * every + 30 <= h["t_s"] <= live_end]
def hslope(key):
    return slope([(h["t_s"], h[key]) for h in hwarm])
runs = []
for f in sorted(glob.glob(f"{d}/*.json")):
    try: runs.append((os.path.basename(f)[:-5], json.load(open(f))))
    except Exception: pass
ok = sum(1 for _, j in runs if j.get("config", {}).get("failed") == 0 and j.get("forwarding", {}).get("packets", 0) > 0)
lossmax = max((j.get("loss", {}).get("max", 0) for _, j in runs), default=None)
lines = [
 f"| figure | value |", "|---|---:|",
 f"| bench runs (base + waves) finished with JSON / started | {len(runs)} / {waves + 1} (media flowed, 0 failed joins: {ok}) |",
 f"| participants joined over the soak | {(waves + 1) * (wave + 1)} |",
 f"| worst receiver loss over all runs | {100 * lossmax:.3f} % |" if lossmax is not None else "| worst loss | – |",
 f"| RSS idle, before any join | {idle0[1]} KiB |",
 f"| RSS first sample with participants (t = {live[0][0]:.0f} s) | {live[0][1]} KiB |",
 f"| RSS last sample with participants (t = {live[-1][0]:.0f} s) | {live[-1][1]} KiB |",
 f"| RSS max during the soak | {max(r[1] for r in live)} KiB (VmHWM {idle1[2]} KiB) |",
 f"| RSS after everyone left (t = {idle1[0]:.0f} s) | {idle1[1]} KiB |",
 f"| slope after warm-up (t ≥ {2 * every + 30} s, {len(warm)} samples, least squares) | {s:+.1f} KiB/min |" if s is not None else "| slope | – |",
 f"| mean RSS first half / second half of warm samples | {sum(r[1] for r in warm[:half]) / max(half, 1):.0f} / {sum(r[1] for r in warm[half:]) / max(len(warm) - half, 1):.0f} KiB |",
]
if len(hwarm) >= 3:
    for key, what in (("in_use_kib", "live allocations (in use)"), ("free_kib", "free memory malloc keeps"),
                      ("mmap_kib", "large allocations (own mmap)")):
        lines.append(f"| heap {what}: first / last warm sample, slope | {hwarm[0][key]:.0f} / {hwarm[-1][key]:.0f} KiB, {hslope(key):+.1f} KiB/min |")
    if heap:
        lines.append(f"| heap after everyone left: in use / free | {heap[-1]['in_use_kib']:.0f} / {heap[-1]['free_kib']:.0f} KiB |")
text = "\n".join(lines) + "\n"
open(f"{d}/summary.md", "w").write(text)
print(text)
EOF
echo "results: $out (rss.csv, summary.md)" >&2

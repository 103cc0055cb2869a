#!/usr/bin/env bash
# One scenario against our server AND Janus 1.1.2 (VideoRoom, default event loops and
# event_loops = 2), alternating the servers round by round (ours, janus-default, janus-2,
# ours, …) so machine noise hits all of them alike; then one Markdown table with the
# medians over rounds and the ratio Janus / ours (issue 3, point 3).
#
#   bench/compare.sh fanout N   [options]   1 publisher (1.5 Mbit/s) → N receivers
#   bench/compare.sh province   [options]   1 chair + 9 officials + 180 delegates, all publish
#                                           (500 kbit/s) and receive their slots (bench/run.sh);
#                                           Janus: each subscribes to the chair's feed and the
#                                           first 9 others' video (--janus-select), no floor
#   bench/compare.sh meeting25  [options]   25 officials, all publish (500 kbit/s); ours: each gets
#                                           the 24 others' video and 3 audio slots; Janus: the 24
#                                           others' video and the first one's audio (--janus-select)
# options:
#   --rounds R        rounds (3)
#   --duration S      measurement window per run (fanout 10, others 20)
#   --targets LIST    comma list of ours,janus-default,janus-2 (all three)
#   --crypto gcm|cm   SRTP suite on both sides (gcm): every diemcau-bench run gets
#                     --srtp-profile gcm|cm, so its peers offer only SRTP_AEAD_AES_128_GCM or
#                     only SRTP_AES128_CM_SHA1_80 (= AES_CM_128_HMAC_SHA1_80); the table shows
#                     the profile each target negotiated
#   --net loopback|split
#                     loopback (default): everything on one network namespace's loopback;
#                     split: each server in a namespace of its own, the generator in
#                     another, joined by a veth pair with RPS (bench/netsplit.sh), so the
#                     receivers' kernel work is not charged to the server; the row "+ all
#                     irq/softirq on its CPU" adds the server's receive work done while its
#                     CPU was idle (charged to no process), as an upper bound (from the
#                     tick-sampled /proc/stat: indicative only on a VM, bench/README.md)
#   --janus-connect-timeout S
#                     Janus runs only: a connection not up S s after its SDP fails (10, as
#                     ours); a longer one lets a slow set-up finish (say so with the figures)
#   --build DIR       build directory (build/)
#   --table-only DIR  rebuild the table from an earlier compare run's folder
# Environment: BENCH_ARGS (more diemcau-bench options, given to every run), BENCH_OUT,
# JOIN_SPREAD (province: the joins spread over that many seconds, both targets; 0: at once).
# Output: bench/out/compare-<scenario>-<time>/ (r<round>-<target>.json, runs.tsv with the
# load average at each run's start, table.md), the table on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
usage() { sed -n '2,38p' "$0" >&2; exit 2; }

scenario=${1:-}; shift || true
n=""
[[ $scenario == fanout ]] && { n=${1:-}; [[ $n =~ ^[0-9]+$ ]] || usage; shift; }
rounds=3 duration="" targets="ours,janus-default,janus-2" crypto=gcm net=loopback build="" table_only=""
janus_connect_timeout=10
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --crypto) crypto=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --janus-connect-timeout) janus_connect_timeout=$2; shift 2 ;;
    --table-only) table_only=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "compare.sh: unknown option $1" >&2; usage ;;
  esac
done
case $scenario in fanout|province|meeting25) ;; *) usage ;; esac

table() { # folder → table.md + stdout
/usr/bin/python3 - "$1" <<'EOF'
import json, os, re, statistics, sys
d = sys.argv[1]
runs = {}   # target -> list of json
for f in sorted(os.listdir(d)):
    m = re.match(r'r(\d+)-(ours|janus-default|janus-2)\.json$', f)
    if not m:
        continue
    try:
        runs.setdefault(m.group(2), []).append(json.load(open(os.path.join(d, f))))
    except Exception as e:
        print(f"compare: {f}: {e}", file=sys.stderr)
loads = []
if os.path.exists(os.path.join(d, 'runs.tsv')):
    for line in open(os.path.join(d, 'runs.tsv')):
        p = line.split('\t')
        if len(p) >= 4 and p[0] != 'round':
            loads.append((f"r{p[0]} {p[1]}", float(p[2]), p[3].strip()))
order = [t for t in ('ours', 'janus-default', 'janus-2') if t in runs]
def get(j, *k):
    for x in k:
        if not isinstance(j, dict) or x not in j:
            return None
        j = j[x]
    return j
def med(t, *k):
    v = [get(j, *k) for j in runs[t]]
    v = [x for x in v if isinstance(x, (int, float))]
    return statistics.median(v) if v else None
def rng(t, *k):
    v = [get(j, *k) for j in runs[t]]
    v = [x for x in v if isinstance(x, (int, float))]
    return (min(v), max(v)) if v else None
rows = [  # label, keys, format, ratio?
    ("server µs per forwarded packet", ("server", "us_per_forwarded_packet"), "{:.2f}", True),
    ("… of which in the kernel (stime)", ("server", "sys_us_per_forwarded_packet"), "{:.2f}", True),
    ("server µs + all irq/softirq on its CPU (tick-sampled; indicative)", ("server", "with_irq_us_per_forwarded_packet"), "{:.2f}", True),
    ("packets forwarded / s", ("forwarding", "packets_per_s"), "{:.0f}", False),
    ("server RSS at end, MiB", ("server", "rss_kib"), "mib", True),
    ("KiB per participant", ("server", "kib_per_participant"), "{:.0f}", True),
    ("loss, worst receiver %", ("loss", "max"), "pct", False),
    ("loss, mean %", ("loss", "mean"), "pct", False),
    ("latency p50 µs", ("latency_us", "p50"), "{:.0f}", True),
    ("latency p99 µs", ("latency_us", "p99"), "{:.0f}", True),
    ("join p50 ms", ("join_ms", "p50"), "{:.0f}", True),
    ("join p99 ms", ("join_ms", "p99"), "{:.0f}", True),
    ("join max ms", ("join_ms", "max"), "{:.0f}", True),
    ("join storm: s until every subscriber has media", ("join_storm", "s"), "{:.2f}", True),
    ("join storm: connect limit s (ICE + DTLS)", ("join_storm", "connect_timeout_s"), "{:.0f}", False),
    ("join storm: rounds with all joined", "all_joined", None, False),
    ("generator µs per packet", ("generator", "us_per_packet"), "{:.2f}", False),
    ("other CPUs busy (host.other_cpus)", ("host", "other_cpus"), "{:.2f}", False),
    ("server socket drops", ("server", "socket_drops"), "{:.0f}", False),
    ("gen socket drops", ("generator", "socket_drops"), "{:.0f}", False),
    ("kernel backlog drops (softnet_stat)", ("host", "backlog_drops"), "{:.0f}", False),
    ("connected / failed", None, None, False),
]
def fmt(v, f):
    if v is None:
        return "–"
    if f == "pct":
        return f"{100*v:.3f}"
    if f == "mib":
        return f"{v/1024:.1f}"
    return f.format(v)
out = []
j0 = runs[order[0]][0] if order else {}
cfg = j0.get("config", {})
out.append(f"**{j0.get('scenario','?')}**: {cfg.get('publishers')} publisher(s), {cfg.get('receivers')} receive-only, "
           f"publishers receive: {cfg.get('publishers_receive')}, video {cfg.get('video_kbps')} kbit/s, "
           f"window {cfg.get('duration_s')} s; medians over rounds "
           + ", ".join(f"{t} ×{len(runs[t])}" for t in order) + "; [min–max] for the CPU row.")
def profiles(t):  # negotiated SRTP profiles of a target's runs ("crypto" in JSON before srtp_profile)
    return sorted({str(j.get('srtp_profile', j.get('crypto'))) for j in runs[t]})
offers = sorted({str(get(j, 'config', 'srtp_offer') or 'any') for t in order for j in runs[t]})
crypt = sorted({p for t in order for p in profiles(t)})
out.append(f"SRTP profiles offered by the bench (--srtp-profile): {', '.join(offers)}; negotiated: "
           + (f"{crypt[0]} in every run." if len(crypt) == 1 else f"{', '.join(crypt)}: NOT the same suite everywhere."))
net = open(os.path.join(d, "net.txt")).read().strip() if os.path.exists(os.path.join(d, "net.txt")) else "loopback"
out.append(f"Network: {net}" + (" (server and generator in two namespaces joined by a veth pair with RPS: "
           "bench/netsplit.sh)." if net == "split" else " (one namespace's loopback: the receivers' kernel work "
           "is charged to the sender)."))
out.append("")
hdr = ["figure"] + order + [f"{t} / ours" for t in order if t != "ours" and "ours" in runs]
out.append("| " + " | ".join(hdr) + " |")
out.append("|---|" + "---:|" * (len(hdr) - 1))
out.append("| " + " | ".join(["SRTP profile negotiated"] + [", ".join(profiles(t)) for t in order]
                            + [""] * (len(hdr) - 1 - len(order))) + " |")
for label, keys, f, ratio in rows:
    if keys == "all_joined":
        cells = [f"{sum(1 for j in runs[t] if get(j, 'join_storm', 'all_joined'))}/{len(runs[t])}" for t in order]
        out.append("| " + " | ".join([label] + cells + [""] * (len(hdr) - 1 - len(cells))) + " |")
        continue
    if keys is None:
        cells = [f"{sum(get(j,'config','connected') or 0 for j in runs[t])}/{sum(get(j,'config','failed') or 0 for j in runs[t])}" for t in order]
        out.append("| " + " | ".join([label + " (sum over rounds)"] + cells + [""] * (len(hdr) - 1 - len(cells))) + " |")
        continue
    cells = []
    for t in order:
        c = fmt(med(t, *keys), f)
        if label.startswith("server µs"):
            r = rng(t, *keys)
            if r:
                c += f" [{fmt(r[0], f)}–{fmt(r[1], f)}]"
        cells.append(c)
    for t in order:
        if t == "ours" or "ours" not in runs:
            continue
        a, b = med(t, *keys), med("ours", *keys)
        cells.append(f"{a/b:.1f}×" if ratio and a is not None and b else "")
    out.append("| " + " | ".join([label] + cells) + " |")
if loads:
    out.append("")
    out.append("Load average (1 min) at each run's start: " + ", ".join(f"{t} {l:.2f}" for t, l, _ in loads) + ".")
rcs = [f"{t} rc={rc}" for t, _, rc in loads if rc not in ("0", "")]
if rcs:
    out.append("Non-zero exits: " + ", ".join(rcs) + " (3 = loss above the 0.5 % limit).")
text = "\n".join(out) + "\n"
open(os.path.join(d, "table.md"), "w").write(text)
print(text)
EOF
}

if [[ -n $table_only ]]; then table "$table_only"; exit 0; fi

[[ $crypto == gcm || $crypto == cm ]] || usage
[[ $net == loopback || $net == split ]] || usage
export BENCH_NET=$net
if [[ -z $build ]]; then
  for d in "$root/build" /tmp/build-bench; do
    [[ -x $d/diemcau && -x $d/bench/diemcau-bench ]] && { build=$d; break; }
  done
fi
[[ -x $build/bench/diemcau-bench ]] || { echo "compare.sh: diemcau-bench not built" >&2; exit 1; }

case $scenario in
  fanout)    dur=${duration:-10}; label="fanout-$n"
             args=(--publishers 1 --receivers "$n" --video-kbps 1500 --loss-limit 0.005 --note "1 publisher to $n receivers") ;;
  province)  dur=${duration:-30}; label=province
             args=(--publishers 190 --publishers-receive --receivers 0 --video-kbps 500 --janus-select --gallery 9
                   --join-spread "${JOIN_SPREAD:-0}"
                   --note "190 sites, all publish (500 kbit/s); each receives the first one's feed and 9 others' video") ;;
  meeting25) dur=${duration:-20}; label=meeting25
             args=(--publishers 25 --publishers-receive --receivers 0 --video-kbps 500 --janus-select --gallery 24
                   --note "25 participants, all publish (500 kbit/s); each receives the others' video and the first one's audio") ;;
esac
# joins to Janus are slower than to ours: give every run the same generous settle time
args+=(--scenario "$scenario" --duration "$dur" --settle-timeout 120 --srtp-profile "$crypto")

out=${BENCH_OUT:-$root/bench/out}/compare-$label-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out/bin/bench"
# snapshot the binaries: others rebuild build/ meanwhile, and every round must run the same code
cp "$build/diemcau" "$out/bin/"; cp "$build/bench/diemcau-bench" "$build/bench/diemcau-bench-plot" "$out/bin/bench/"
build=$out/bin
echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')" >"$out/build.txt"
echo "$net" >"$out/net.txt"
printf 'round\ttarget\tload1\trc\n' >"$out/runs.tsv"
IFS=, read -r -a tlist <<<"$targets"
echo "compare: $label, $rounds round(s) of ${tlist[*]}, window $dur s, SRTP $crypto, network $net; machine: $(nproc) CPU," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); out: $out" >&2

# our server: bench/run.sh does the start/pin/stop; one step with exactly these arguments
run_ours() { # round json
  local tmp=$out/r$1-ours.d rc=0
  mkdir -p "$tmp"
  BENCH_OUT=$tmp NS=${n:-0} DURATION=$dur BENCH_ARGS="--settle-timeout 120 --srtp-profile $crypto ${BENCH_ARGS:-}" \
    timeout $((dur + 400)) bash "$here/run.sh" "$scenario" --build "$build" >"$tmp/run.out" 2>"$tmp/run.err" || rc=$?
  local j; j=$(ls "$tmp"/*/*.json 2>/dev/null | head -1 || true)
  [[ -n $j ]] && cp "$j" "$2"
  return $rc
}
run_janus() { # round json loops
  local rc=0
  timeout $((dur + 400)) bash "$here/janus/bench.sh" --build "$build" --event-loops "$3" -- \
    "${args[@]}" --connect-timeout "$janus_connect_timeout" --out "$2" ${BENCH_ARGS:-} >"${2%.json}.row" 2>"${2%.json}.log" || rc=$?
  return $rc
}
for ((r = 1; r <= rounds; r++)); do
  for t in "${tlist[@]}"; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    j=$out/r$r-$t.json rc=0
    case $t in
      ours) run_ours "$r" "$j" || rc=$? ;;
      janus-default) run_janus "$r" "$j" default || rc=$? ;;
      janus-2) run_janus "$r" "$j" 2 || rc=$? ;;
      *) echo "compare.sh: unknown target $t" >&2; exit 2 ;;
    esac
    printf '%s\t%s\t%s\t%s\n' "$r" "$t" "$load" "$rc" >>"$out/runs.tsv"
    if [[ -f $j ]]; then
      echo "compare: round $r $t rc=$rc load=$load: $(jq -r '"\(.srtp_profile), \(.server.us_per_forwarded_packet*100|round/100) µs/pkt, loss max \(.loss.max), p99 \(.latency_us.p99) µs, other_cpus \(.host.other_cpus)"' "$j" 2>/dev/null || echo '?')" >&2
    else
      echo "compare: round $r $t rc=$rc load=$load: no JSON (see $out)" >&2
    fi
  done
done
table "$out"
echo "results: $out" >&2

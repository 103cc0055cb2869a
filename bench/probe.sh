#!/usr/bin/env bash
# Where the server's kernel time goes: counts, not seconds. Runs one bench/run.sh step
# (split network by default) and, during its measurement window, watches the server's
# media worker thread with perf tracepoints: syscalls of each kind, datagrams per
# sendmmsg and recvmmsg, super-datagrams (GSO), wake-ups, inter-processor interrupts sent.
# Counts do not depend on the machine's noise the way microseconds do.
#
#   bench/probe.sh meeting25            [--build DIR] [--perf]
#   bench/probe.sh fanout N             [--build DIR] [--perf]
#   --perf   also sample the worker's CPU (perf record -e cpu-clock -g) into perf.data
# Environment: as bench/run.sh (DURATION, default 12; BENCH_NET, default split; SERVER_ARGS,
# BENCH_ARGS, WORKERS; ROOMS for meeting25, one value). Output: bench/out/probe-<scenario>-<time>/
# probe.json and probe.txt (one line per figure), beside run.sh's own folder.
# The probe's own events cost the worker a little: take times from runs without it
# (compare.sh), and counts from here. PROBE_FIFO: below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
usage() { sed -n '2,15p' "$0" >&2; exit 2; }
scenario=${1:-}; shift || true
n=0
[[ $scenario == fanout ]] && { n=${1:-}; [[ $n =~ ^[0-9]+$ ]] || usage; shift; }
[[ $scenario == fanout || $scenario == meeting25 || $scenario == province ]] || usage
build="" record=0
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --perf) record=1; shift ;;
    *) usage ;;
  esac
done
command -v perf >/dev/null || { echo "probe.sh: needs perf" >&2; exit 2; }
out=${BENCH_OUT:-$root/bench/out}/probe-$scenario$([[ $n == 0 ]] || echo "-$n")-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
dur=${DURATION:-12}
BENCH_OUT=$out/run BENCH_NET=${BENCH_NET:-split} NS=$n DURATION=$dur \
  bash "$here/run.sh" "$scenario" ${build:+--build "$build"} >"$out/run.out" 2>"$out/run.err" &
run_pid=$!
trap 'kill $run_pid 2>/dev/null || true' INT TERM

# the step's bench log says when its window begins; the server pid is on the bench's command line
log="" pid=""
for _ in $(seq 1800); do
  log=$(ls "$out"/run/*/*-bench.log 2>/dev/null | head -1 || true)
  [[ -n $log ]] && grep -q '^bench: window begins' "$log" && break
  kill -0 $run_pid 2>/dev/null || { echo "probe.sh: the run ended early: $out/run.err" >&2; exit 1; }
  sleep 0.1
done
for p in $(pgrep -f -- "--server-pid" || true); do
  pid=$(tr '\0' '\n' </proc/$p/cmdline 2>/dev/null | grep -A1 -- '^--server-pid$' | tail -1)
  [[ $(tr '\0' '\n' </proc/$p/cmdline 2>/dev/null | grep -c -- "$out/run/") -gt 0 ]] && break
  pid=""
done
[[ -n $pid ]] || { echo "probe.sh: no server pid found" >&2; wait $run_pid; exit 1; }
tid=$(grep -l '^sfu-worker-0$' /proc/$pid/task/*/comm | head -1 | cut -d/ -f5)
[[ -n $tid ]] || { echo "probe.sh: no sfu-worker-0 thread in $pid" >&2; exit 1; }
# On a shared host other work on the server's CPU delays each wake-up, and a late worker
# finds large batches waiting: counts of a starved worker describe the load, not the server.
# The worker runs SCHED_FIFO for the window (PROBE_FIFO=0: as started), so it wakes as on a
# quiet host.
[[ ${PROBE_FIFO:-1} == 0 ]] || chrt -f -p 10 "$tid"
span=$((dur > 5 ? dur - 4 : 1)) # inside the window, with a margin at each end (perf is slow to start on a busy host)
sleep 1

snap() { # worker thread: utime stime (ticks) voluntary nonvoluntary switches; server netns: vsrv/lo tx rx packets
  local st; st=$(cut -d')' -f2 /proc/$pid/task/$tid/stat)
  echo "$(awk '{print $12, $13}' <<<"$st") $(awk '/^voluntary_ctxt_switches/{v=$2} /^nonvoluntary_ctxt_switches/{n=$2} END{print v, n}' /proc/$pid/task/$tid/status)" \
       "$(awk -F'[: ]+' 'NR>2 && $2!="lo" {rx+=$4; tx+=$12} END{print tx, rx}' /proc/$pid/net/dev)"
}
events=raw_syscalls:sys_enter,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_poll,syscalls:sys_enter_sendmsg,sched:sched_switch,ipi:ipi_send_cpu,ipi:ipi_send_cpumask
a=$(snap)
perf stat -x, -e "$events" -t "$tid" -o "$out/stat.csv" -- sleep "$span" &
stat_pid=$!
perf record -q -e syscalls:sys_exit_sendmmsg,syscalls:sys_exit_recvmmsg -t "$tid" -o "$out/calls.data" -- sleep "$span" \
  >/dev/null 2>&1 &
rec_pid=$!
prof_pid=""
if ((record)); then
  perf record -q -e cpu-clock -F 4000 -g -t "$tid" -o "$out/perf.data" -- sleep "$span" >/dev/null 2>&1 &
  prof_pid=$!
fi
wait $stat_pid
b=$(snap)
wait $rec_pid || true
[[ -z $prof_pid ]] || wait $prof_pid || true
perf script -i "$out/calls.data" -F event,trace 2>/dev/null | sed -n 's/.*sys_exit_\(sendmmsg\|recvmmsg\).*0x\([0-9a-f]*\).*/\1 \2/p' \
  >"$out/calls.txt" || true
wait $run_pid || echo "probe.sh: bench/run.sh exited non-zero (see $out/run.err)" >&2

/usr/bin/python3 - "$out" "$span" "$(getconf CLK_TCK)" "$a" "$b" <<'EOF'
import collections, json, os, sys
out, span, hz = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
a, b = [list(map(int, s.split())) for s in sys.argv[4:6]]
d = [y - x for x, y in zip(a, b)]
utime, stime, vol, invol, tx, rx = d
stat, oncpu_ns = {}, 0
for line in open(os.path.join(out, "stat.csv")):
    p = line.strip().split(",")
    if len(p) > 3 and p[0].isdigit():
        stat[p[2]] = int(p[0])
        oncpu_ns = max(oncpu_ns, int(p[3]))  # a thread's counters run only while it is on a CPU
calls = collections.defaultdict(list)
for line in open(os.path.join(out, "calls.txt")):
    k, v = line.split()
    v = int(v, 16)
    if v < 1 << 63:
        calls[k].append(v)
def hist(v):
    c = collections.Counter(min(x, 64) if x < 64 else (64 if x == 64 else 65) for x in v)
    return {("%d" % k if k < 65 else ">64"): c[k] for k in sorted(c)}
send, recv = calls["sendmmsg"], calls["recvmmsg"]
msgs = sum(send)
r = {
    "span_s": span,
    "datagrams_out_per_s": tx / span, "datagrams_in_per_s": rx / span,
    "syscalls_per_s": stat.get("raw_syscalls:sys_enter", 0) / span,
    "sendmmsg_per_s": stat.get("syscalls:sys_enter_sendmmsg", 0) / span,
    "recvmmsg_per_s": stat.get("syscalls:sys_enter_recvmmsg", 0) / span,
    "poll_per_s": stat.get("syscalls:sys_enter_poll", 0) / span,
    "wakeups_per_s": vol / span, "preemptions_per_s": invol / span,
    "ipis_sent_per_s": (stat.get("ipi:ipi_send_cpu", 0) + stat.get("ipi:ipi_send_cpumask", 0)) / span,
    "messages_per_sendmmsg": msgs / len(send) if send else 0,
    "datagrams_per_sendmmsg": tx / len(send) if send else 0,
    "datagrams_per_message": tx / msgs if msgs else 0,
    "datagrams_per_recvmmsg": sum(recv) / len(recv) if recv else 0,
    "empty_recvmmsg_share": sum(1 for x in recv if x == 0) / len(recv) if recv else 0,
    "worker_cpu_share": oncpu_ns / 1e9 / span,
    "worker_cpu_us_per_datagram_out": oncpu_ns / 1e3 / tx if tx else 0,
    "worker_cpu_us_per_datagram_out_ticks": (utime + stime) * 1e6 / hz / tx if tx else 0,
    "worker_sys_us_per_datagram_out": stime * 1e6 / hz / tx if tx else 0,
    "recvmmsg_returns": hist(recv), "sendmmsg_returns": hist(send),
}
per = lambda k: r[k] * span / tx if tx else 0
r["per_1000_datagrams_out"] = {k: 1000 * per(k + "_per_s") for k in
                               ("syscalls", "sendmmsg", "recvmmsg", "poll", "wakeups", "ipis_sent")}
json.dump(r, open(os.path.join(out, "probe.json"), "w"), indent=1)
lines = [f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}" for k, v in r.items()]
open(os.path.join(out, "probe.txt"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
echo "probe: $out" >&2

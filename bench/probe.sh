#!/usr/bin/env bash
# Where the server's kernel time goes: counts, not seconds. Runs one round of
# bench/compare.sh (split network by default) for one target and, during the bench's
# measurement window, watches the server process with perf tracepoints: syscalls of each
# kind, datagrams per sendmmsg and recvmmsg, kernel messages per datagram (UDP GSO
# super-datagrams), wake-ups, inter-processor interrupts sent, exact CPU time.
# Counts do not depend on the machine's noise the way microseconds do.
#
#   bench/probe.sh [--target ours|janus-2|janus-default] [--perf] SCENARIO [COMPARE-OPTIONS…]
#   e.g. bench/probe.sh meeting25;  bench/probe.sh --target janus-2 fanout 100 --build /tmp/b
#   SCENARIO and COMPARE-OPTIONS are bench/compare.sh's (one round of the target is run)
#   --perf   also sample the server's CPU (perf record -e cpu-clock -g) into perf.data
# Environment: DURATION (window, s; default 12), BENCH_NET (default split), and what
# compare.sh and run.sh take (BENCH_ARGS, SERVER_ARGS, ROOMS for ours). Output:
# bench/out/probe-<scenario>-<target>-<time>/probe.json and probe.txt, beside the round's folder.
# The probe's own events cost the server a little: take times from runs without it
# (compare.sh), and counts from here. PROBE_FIFO: below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
record=0 target=ours args=()
while (($#)); do
  case $1 in
    --target) target=$2; shift 2 ;;
    --perf) record=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
((${#args[@]})) || { sed -n '2,17p' "$0" >&2; exit 2; }
command -v perf >/dev/null || { echo "probe.sh: needs perf" >&2; exit 2; }
n=""; [[ ${args[1]:-} =~ ^[0-9]+$ ]] && n=-${args[1]}
out=${BENCH_OUT:-$root/bench/out}/probe-${args[0]}$n-$target-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
dur=${DURATION:-12}
BENCH_OUT=$out/run bash "$here/compare.sh" "${args[@]}" --rounds 1 --targets "$target" --duration "$dur" \
  --net "${BENCH_NET:-split}" >"$out/run.out" 2>"$out/run.err" &
run_pid=$!
trap 'kill $run_pid 2>/dev/null || true' INT TERM

# the bench's log says when its window begins; the server pid is on the bench's command line
pid=""
for _ in $(seq 3000); do
  grep -rqs --include='*.log' '^bench: window begins' "$out/run" && break
  kill -0 $run_pid 2>/dev/null || { echo "probe.sh: the run ended early: $out/run.err" >&2; exit 1; }
  sleep 0.1
done
for p in $(pgrep -f -- "--server-pid" || true); do
  args=$(tr '\0' '\n' </proc/$p/cmdline 2>/dev/null || true)
  grep -q -- "$out/run/" <<<"$args" || continue
  pid=$(grep -A1 -- '^--server-pid$' <<<"$args" | tail -1)
  break
done
[[ -n $pid ]] || { echo "probe.sh: no server pid found" >&2; wait $run_pid; exit 1; }
# On a shared host other work on the server's CPU delays each wake-up, and a late server
# finds large batches waiting: counts of a starved server describe the load, not the server.
# Its threads run SCHED_FIFO for the window (PROBE_FIFO=0: as started), as on a quiet host.
if [[ ${PROBE_FIFO:-1} != 0 ]]; then
  for t in /proc/$pid/task/*; do chrt -f -p 10 "${t##*/}" >/dev/null; done
fi
span=$((dur > 5 ? dur - 4 : 1)) # inside the window, with a margin at each end (perf is slow to start on a busy host)
sleep 1

snap() { # server: utime stime (ticks), voluntary and nonvoluntary switches of all its threads; its netns: tx rx packets
  local st; st=$(cut -d')' -f2 /proc/$pid/stat)
  echo "$(awk '{print $12, $13}' <<<"$st") $(cat /proc/$pid/task/*/status 2>/dev/null |
         awk '/^voluntary_ctxt_switches/{v+=$2} /^nonvoluntary_ctxt_switches/{n+=$2} END{print v, n}')" \
       "$(awk -F'[: ]+' 'NR>2 && $2!="lo" {rx+=$4; tx+=$12} END{print tx, rx}' /proc/$pid/net/dev)"
}
events=task-clock,raw_syscalls:sys_enter,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_recvmmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_recvmsg,syscalls:sys_enter_recvfrom,syscalls:sys_enter_poll,syscalls:sys_enter_ppoll,syscalls:sys_enter_epoll_wait,ipi:ipi_send_cpu,ipi:ipi_send_cpumask,net:net_dev_xmit
a=$(snap); t0=$(date +%s.%N)
perf stat -x, -e "$events" -p "$pid" -o "$out/stat.csv" -- sleep "$span" 2>"$out/stat.err" &
stat_pid=$!
perf record -q -e syscalls:sys_exit_sendmmsg,syscalls:sys_exit_recvmmsg -p "$pid" -o "$out/calls.data" -- sleep "$span" \
  >/dev/null 2>&1 &
rec_pid=$!
prof_pid=""
if ((record)); then
  perf record -q -e cpu-clock -F 4000 -g -p "$pid" -o "$out/perf.data" -- sleep "$span" >/dev/null 2>&1 &
  prof_pid=$!
fi
sleep "$span"
b=$(snap) || b="" # the server may have ended already on a slow host: then the snapshot figures are missing
snap_s=$(echo "$(date +%s.%N) - $t0" | bc)
wait $stat_pid
wait $rec_pid || true
[[ -z $prof_pid ]] || wait $prof_pid || true
perf script -i "$out/calls.data" -F event,trace 2>/dev/null | sed -n 's/.*sys_exit_\(sendmmsg\|recvmmsg\).*0x\([0-9a-f]*\).*/\1 \2/p' \
  >"$out/calls.txt" || true
wait $run_pid || echo "probe.sh: the round exited non-zero (see $out/run.err)" >&2

/usr/bin/python3 - "$out" "$span" "$(getconf CLK_TCK)" "$a" "$b" "$snap_s" <<'EOF'
import collections, json, os, sys
out, span, hz, snap_s = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[6])
a, b = [list(map(int, s.split())) for s in sys.argv[4:6]]
# /proc snapshots (their own interval, close to perf's): CPU ticks, switches, packets in
utime, stime, vol, invol, _, rx = [y - x for x, y in zip(a, b)] if len(b) == len(a) else [0] * 6
stat = {}
for line in open(os.path.join(out, "stat.csv")):
    p = line.strip().split(",")
    if len(p) > 3 and p[0] and p[0][0].isdigit():
        stat[p[2].split(":")[-1].replace("sys_enter_", "")] = float(p[0])
calls = collections.defaultdict(list)
for line in open(os.path.join(out, "calls.txt")):
    k, v = line.split()
    v = int(v, 16)
    if v < 1 << 63:  # not an error
        calls[k].append(v)
def hist(v):
    c = collections.Counter(min(x, 65) for x in v)
    return {(str(k) if k < 65 else ">64"): c[k] for k in sorted(c)}
send, recv = calls["sendmmsg"], calls["recvmmsg"]
g = lambda k: stat.get(k, 0)
tx = g("net_dev_xmit")  # every datagram the server's threads hand to a device, GSO segments one by one
# what the kernel sends one by one (a GSO message is one); the recorded sendmmsg returns give the mean
# per call (perf record may lose some on a busy host), the counter the number of calls
messages = (sum(send) / len(send) * g("sendmmsg") if send else 0) + g("sendmsg") + g("sendto")
per_k = lambda v: 1000 * v / tx if tx else 0
r = {
    "span_s": span,
    "datagrams_out_per_s": tx / span, "datagrams_in_per_s": rx / snap_s if snap_s else 0,
    "server_cpu_share": g("task-clock") / 1e3 / span,
    "server_cpu_us_per_datagram_out": g("task-clock") * 1e3 / tx if tx else 0,
    "server_sys_share_ticks": stime / (utime + stime) if utime + stime else 0,
    "datagrams_per_message": tx / messages if messages else 0,
    "messages_per_sendmmsg": sum(send) / len(send) if send else 0,
    "datagrams_per_sendmmsg": tx / g("sendmmsg") if g("sendmmsg") else 0,
    "sendmmsg_returns_recorded_share": len(send) / g("sendmmsg") if g("sendmmsg") else 0,
    "datagrams_per_recvmmsg": sum(recv) / len(recv) if recv else 0,
    "per_1000_datagrams_out": {
        "syscalls": per_k(g("sys_enter")), "kernel_messages": per_k(messages),
        **{k: per_k(g(k)) for k in ("sendmmsg", "sendmsg", "sendto", "recvmmsg", "recvmsg", "recvfrom",
                                    "poll", "ppoll", "epoll_wait") if g(k)},
        "wakeups": per_k(vol * span / snap_s) if snap_s else 0,
        "ipis_sent": per_k(g("ipi_send_cpu") + g("ipi_send_cpumask")),
    },
    "recvmmsg_returns": hist(recv), "sendmmsg_returns": hist(send),
}
json.dump(r, open(os.path.join(out, "probe.json"), "w"), indent=1)
fmt = lambda v: "{" + ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) + "}" if isinstance(v, dict) else \
      (f"{v:.3f}" if isinstance(v, float) else str(v))
text = "\n".join(f"{k}: {fmt(v)}" for k, v in r.items()) + "\n"
open(os.path.join(out, "probe.txt"), "w").write(text)
print(text, end="")
EOF
echo "probe: $out" >&2

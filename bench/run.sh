#!/bin/bash
# Load-benchmark scenarios against our server (issue 3, point 2). Each starts the server
# from a build directory on free loopback ports, runs diemcau-bench, stops the server,
# and writes bench/out/<scenario>-<time>/{*.json,table.md,plot.svg}.
#
#   bench/run.sh fanout    [--short] [--build DIR]   1 publisher (1.5 Mbit/s) to N receivers,
#                                                    N = 50,100,200,400,… until loss > 0.5 %
#   bench/run.sh province  [--short] [--build DIR]   the province meeting: 1 chair + 9 district officials
#                                                    + 180 commune delegates in one room, all join at once
#                                                    (the join storm; JOIN_SPREAD=S: over S s), all publish
#                                                    (video 500 kbit/s, audio the server gates for delegates)
#                                                    and receive their slots (gallery 9); the chair speaks,
#                                                    the officials speak in turns, the chair grants the floor
#                                                    to a delegate who speaks, revokes it, speaks again
#   bench/run.sh meeting25 [--short] [--build DIR]   25 officials, each publishes and receives the others'
#                                                    video (gallery 24) and 3 audio slots;
#                                                    ROOMS="1 2 4" runs 1, 2, then 4 such rooms at once
#
# --short: a few participants for a few seconds (CI: keeps the tool working; the bench's exit
# status says whether packets flowed). Environment: DURATION (s, per step), KBPS (video
# bitrate), NS (fanout steps), WORKERS (server media workers, 1), BENCH_ARGS (more
# diemcau-bench options, e.g. "--decrypt-every 0"), BENCH_NET (loopback, or split: server
# and generator in two network namespaces, bench/netsplit.sh). With two or more CPUs the
# server is pinned to CPU 0 and the generator to CPU 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
scenario=${1:-}
shift || true
short=0
build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1 ;;
    --build) build=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
  shift
done
if [ -z "$build" ]; then
  for d in "$root/build" /tmp/build-bench; do
    [ -x "$d/diemcau" ] && [ -x "$d/bench/diemcau-bench" ] && { build=$d; break; }
  done
fi
server_bin=$build/diemcau
bench_bin=$build/bench/diemcau-bench
plot_bin=$build/bench/diemcau-bench-plot
for b in "$server_bin" "$bench_bin" "$plot_bin"; do
  [ -x "$b" ] || { echo "run.sh: $b not built (meson setup build && ninja -C build)" >&2; exit 1; }
done
case "$scenario" in fanout|province|meeting25) ;; *)
  sed -n '2,28p' "$0" >&2; exit 1 ;;
esac

out=${BENCH_OUT:-$root/bench/out}/$scenario-$(date +%Y%m%d-%H%M%S)$([ $short = 1 ] && echo -short || true)
mkdir -p "$out"
. "$here/server.sh"
trap 'stop_server; netsplit_down' EXIT
trap 'exit 143' INT TERM

# one step: name, then diemcau-bench arguments; returns the bench's exit status
step() {
  local name=$1; shift
  start_server "$out/$name-server"
  local rc=0
  timeout $((DUR + 150)) "${in_gen[@]}" "${gen_cpu[@]}" "$bench_bin" --url "ws://$srv_addr:$http_port/ws" --server-pid "$srv_pid" \
    --media-port "$media_port" --scenario "$scenario" --duration "$DUR" --out "$out/$name.json" "${gen_rx_args[@]}" "$@" ${BENCH_ARGS:-} \
    >>"$out/rows.md" 2>"$out/$name-bench.log" || rc=$?
  stop_server
  tail -1 "$out/rows.md"
  grep '^bench: ' "$out/$name-bench.log" | tail -3 >&2 || true
  return $rc
}

rc=0
case "$scenario" in
fanout)
  DUR=${DURATION:-$([ $short = 1 ] && echo 5 || echo 10)}
  ns=${NS:-$([ $short = 1 ] && echo 10 || echo "50 100 200 400 600 800 1000 1200 1500 2000")}
  for n in $ns; do
    r=0
    step "n$(printf %05d "$n")" --publishers 1 --receivers "$n" --video-kbps "${KBPS:-1500}" --loss-limit 0.005 \
      --note "1 publisher to $n receivers" || r=$?
    if [ $r = 3 ]; then echo "fanout: loss passed 0.5 % at N=$n, stopping the ramp" >&2; break; fi
    if [ $r != 0 ]; then rc=$r; break; fi
  done ;;
province)
  DUR=${DURATION:-$([ $short = 1 ] && echo 6 || echo 30)}
  n=${PROVINCE_N:-$([ $short = 1 ] && echo 20 || echo 190)}
  [ "$n" -ge 12 ] || { echo "run.sh: PROVINCE_N must be at least 12 (chair, 9 officials, delegates)" >&2; exit 1; }
  # places: 0 the chair, 1-9 officials, 10 on delegates. The schedule, in shares of the window:
  # the chair speaks, then the 9 officials in turns; the chair grants the floor to a delegate
  # (place 10 + (n-10)/3), who speaks; the floor is revoked and the chair speaks again;
  # delegate 11 talks in its hall all along (its audio reaches the server, which drops it)
  f=$((10 + (n - 10) / 3))
  sched=$(awk -v d="$DUR" -v f=$f 'BEGIN {
    s = sprintf("0-%g:0", 0.1*d)
    for (k = 1; k <= 9; k++) s = s sprintf(",%g-%g:%d", (0.1 + 0.05*(k-1))*d, (0.1 + 0.05*k)*d, k)
    printf "--speak %s,%g-%g:%d,%g-%g:0,0-%g:11 --floor %g-%g:%d", s, 0.6*d, 0.88*d, f, 0.92*d, d, d, 0.58*d, 0.9*d, f }')
  spread=${JOIN_SPREAD:-0}
  # shellcheck disable=SC2086
  step province --publishers "$n" --publishers-receive --receivers 0 --roles 'chair,official*9,delegate' \
    --video-kbps "${KBPS:-500}" $sched --join-spread "$spread" --settle-timeout 120 \
    --note "1 chair + 9 officials + $((n - 10)) delegates in one room, $([ "$spread" = 0 ] && echo 'all join at once' || echo "joins spread over $spread s"); video ${KBPS:-500} kbit/s, gallery 9; officials speak in turns; floor to place $f" || rc=$? ;;
meeting25)
  DUR=${DURATION:-$([ $short = 1 ] && echo 5 || echo 20)}
  n=$([ $short = 1 ] && echo 5 || echo 25)
  for k in ${ROOMS:-1}; do  # one step per room count: load on the worker against latency
    name=meeting25$([ "$k" = 1 ] || printf -- '-rooms%02d' "$k")
    step "$name" --publishers "$n" --publishers-receive --receivers 0 --video-kbps "${KBPS:-500}" --rooms "$k" \
      --roles official --gallery 24 \
      --note "$k room(s) of $n officials, all publish (video ${KBPS:-500} kbit/s) and receive (gallery 24, 3 audio slots)" || { rc=$?; break; }
  done ;;
esac

"$plot_bin" --md "$out/table.md" --svg "$out/plot.svg" --title "$scenario: loss and server CPU per forwarded packet" "$out"/*.json
echo
cat "$out/table.md"
echo
echo "results: $out (table.md, plot.svg, one JSON per step); machine: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
exit $rc

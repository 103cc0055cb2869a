#!/usr/bin/env bash
# One diemcau-bench run against Janus 1.1.2 (VideoRoom), in a network namespace of its own
# (netns.sh: Janus has no loopback candidates), or with BENCH_NET=split in the server's
# namespace of bench/netsplit.sh, the generator in the other one, exactly as our server is
# measured. Starts Janus with start.sh, runs the bench with --signaling janus and the
# options given, stops Janus.
#   bench/janus/bench.sh [--build DIR] [--event-loops N|default] -- DIEMCAU-BENCH-OPTIONS…
# e.g. bench/janus/bench.sh --event-loops 2 -- --scenario fanout --publishers 1 \
#        --receivers 100 --duration 10 --out bench/out/janus-fanout-100.json
# With two or more CPUs Janus is pinned to CPU 0 and the generator to CPU 1 (as bench/run.sh
# does for our server). The run's note records Janus's event_loops setting.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="" loops=default
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --event-loops) loops=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
in_srv=() in_gen=() gen_rx_args=() ws_ip=127.0.0.1
if [[ ${BENCH_NET:-loopback} == split ]]; then
  . "$here/../netsplit.sh"
  netsplit_up || exit 2
  trap netsplit_down EXIT
  trap 'exit 143' INT TERM  # so that the EXIT trap removes the namespaces
  export JANUS_ICE_IFACE=vsrv JANUS_ICE_IP=$srv_ip
  ws_ip=$srv_ip
elif [[ -z ${JANUS_ICE_IFACE:-} ]]; then
  exec bash "$here/netns.sh" bash "$0" ${build:+--build "$build"} --event-loops "$loops" -- "$@"
fi
if [[ -z $build ]]; then
  for d in "$root/build" /tmp/build-bench; do
    [[ -x $d/bench/diemcau-bench ]] && { build=$d; break; }
  done
fi
bench_bin=$build/bench/diemcau-bench
[[ -x $bench_bin ]] || { echo "bench.sh: diemcau-bench not built (--build DIR)" >&2; exit 1; }
pin_srv=() pin_gen=()
if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then pin_srv=(taskset -c 0) pin_gen=(taskset -c 1); fi
dir=$(mktemp -d /tmp/janus-bench.XXXXXX)
eval "$("${in_srv[@]}" "${pin_srv[@]}" bash "$here/start.sh" --dir "$dir" --event-loops "$loops" --ws-ip "$ws_ip")"
stop() {
  kill "$JANUS_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$JANUS_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$JANUS_PID" 2>/dev/null || true
  rm -rf "$dir"
  [[ -z ${ns_srv:-} ]] || netsplit_down
}
trap stop EXIT
ver=$(janus --version 2>/dev/null | sed -n 's/^Janus version: [0-9]* (\(.*\))/\1/p' || true)
rc=0
timeout 3600 "${in_gen[@]}" "${pin_gen[@]}" "$bench_bin" --signaling janus --url "$JANUS_URL" --server-pid "$JANUS_PID" \
  --note "janus ${ver:-?} event_loops=$loops" "${gen_rx_args[@]}" "$@" || rc=$?
exit $rc

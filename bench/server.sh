# Sourced by bench/run.sh and bench/soak.sh: start and stop our server for a benchmark.
#   server_cpu / gen_cpu   taskset prefixes (server on CPU 0, generator on CPU 1 when there
#                          are two CPUs or more)
#   start_server LOG       starts $server_bin on free loopback ports (LOG.out / LOG.err);
#                          sets srv_pid, http_port, media_port (first worker's port);
#                          WORKERS (default 1) media workers; SERVER_ARGS: more
#                          server options (e.g. "--max-queue-delay-ms 0")
#   stop_server            SIGTERM, then SIGKILL after 5 s
#   srv_addr               the address the server listens on (127.0.0.1, or with
#                          BENCH_NET=split its veth address: bench/netsplit.sh)
#   in_gen                 command prefix that runs the generator in its namespace (split)
#   netsplit_down          removes the split's namespaces (callers add it to their EXIT trap)
server_cpu=() gen_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu=(taskset -c 0) gen_cpu=(taskset -c 1)
fi
srv_pid=""
. "$(dirname "${BASH_SOURCE[0]}")/netsplit.sh"
srv_addr=127.0.0.1
case ${BENCH_NET:-loopback} in
  loopback) ;;
  split)
    [ ${#server_cpu[@]} -gt 0 ] || { echo "bench: BENCH_NET=split needs two CPUs and taskset" >&2; exit 2; }
    netsplit_up || exit 2
    srv_addr=$srv_ip ;;
  *) echo "bench: BENCH_NET must be loopback or split" >&2; exit 2 ;;
esac

stop_server() {
  if [ -n "$srv_pid" ]; then
    kill "$srv_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=""
  fi
}

start_server() {
  local log=$1 config=()
  if [ -n "${gen_ip:-}" ]; then # split: the generator mints its join tokens from its own namespace
    printf '{"dev_token_clients": ["127.0.0.1/32", "%s/32"]}\n' "$gen_ip" >"$log.config"
    config=(--config "$log.config")
  fi
  "${in_srv[@]}" "${server_cpu[@]}" "$server_bin" "${config[@]}" --http-port 0 --media-port 0 --bind "$srv_addr" \
    --media-bind "$srv_addr" --announce-ip "$srv_addr" --workers "${WORKERS:-1}" --max-room-size 5000 ${SERVER_ARGS:-} \
    >"$log.out" 2>"$log.err" &
  srv_pid=$!
  for _ in $(seq 100); do
    grep -q '^LISTENING' "$log.out" 2>/dev/null && break
    kill -0 "$srv_pid" 2>/dev/null || { echo "bench: server died:" >&2; cat "$log.err" >&2; exit 1; }
    sleep 0.1
  done
  http_port=$(sed -n 's/^LISTENING http=\([0-9]*\).*/\1/p' "$log.out")
  media_port=$(sed -n 's/^LISTENING.* media=\([0-9]*\).*/\1/p' "$log.out")
  [ -n "$http_port" ] || { echo "bench: server did not print LISTENING" >&2; cat "$log.err" >&2; exit 1; }
}

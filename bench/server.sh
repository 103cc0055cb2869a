# Sourced by bench/run.sh and bench/soak.sh: start and stop our server for a benchmark.
#   server_cpu / gen_cpu   taskset prefixes (server on CPU 0, generator on CPU 1 when there
#                          are two CPUs or more)
#   start_server LOG       starts $server_bin on free loopback ports (LOG.out / LOG.err);
#                          sets srv_pid, http_port, media_port (first worker's port);
#                          WORKERS (default 1) media workers
#   stop_server            SIGTERM, then SIGKILL after 5 s
server_cpu=() gen_cpu=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu=(taskset -c 0) gen_cpu=(taskset -c 1)
fi
srv_pid=""

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
  local log=$1
  "${server_cpu[@]}" "$server_bin" --http-port 0 --media-port 0 --bind 127.0.0.1 --media-bind 127.0.0.1 \
    --announce-ip 127.0.0.1 --workers "${WORKERS:-1}" --max-room-size 5000 >"$log.out" 2>"$log.err" &
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

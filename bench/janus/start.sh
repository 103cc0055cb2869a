#!/usr/bin/env bash
# Starts Janus 1.1.2 (Debian package "janus") for the load bench: writes the config
# templates beside this script into a folder, starts `janus -C … -F …` in the background
# and waits until its WebSocket port answers. Prints shell assignments on stdout:
#   JANUS_PID=1234
#   JANUS_URL=ws://127.0.0.1:8188/
#   JANUS_LOG=/tmp/…/janus.log
# Usage: bench/janus/start.sh [--dir DIR] [--ws-port 8188] [--ws-ip 127.0.0.1]
#          [--event-loops N|default] [--rtp-ports 20000-40000] [--room bench]
#          [--max-publishers 1000] [--ice-enforce LIST] [--ice-ignore LIST]
#          [--debug-level 3] [--nice-debug] [--timeout 20]
# --ice-enforce defaults to $JANUS_ICE_IFACE (set by netns.sh): Janus never gathers
# candidates on loopback, so run it and the bench inside bench/janus/netns.sh.
# Stop it with `kill $JANUS_PID` (SIGTERM: Janus exits cleanly). See README.md for how
# ICE and DTLS work with the bench's peer and which address the media uses.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir="" ws_port=8188 ws_ip=127.0.0.1 event_loops=default rtp_ports=20000-40000 room=bench
nice_debug=false max_pub=1000 ice_enforce="${JANUS_ICE_IFACE:-}" ice_ignore="" debug_level=3 timeout=20
while (($#)); do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --ws-port) ws_port=$2; shift 2 ;;
    --ws-ip) ws_ip=$2; shift 2 ;;
    --event-loops) event_loops=$2; shift 2 ;;
    --rtp-ports) rtp_ports=$2; shift 2 ;;
    --room) room=$2; shift 2 ;;
    --max-publishers) max_pub=$2; shift 2 ;;
    --ice-enforce) ice_enforce=$2; shift 2 ;;
    --ice-ignore) ice_ignore=$2; shift 2 ;;
    --debug-level) debug_level=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --nice-debug) nice_debug=true; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "start.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
janus_bin=$(command -v janus || true)
if [[ -z $janus_bin ]]; then
  echo "start.sh: janus not installed (apt-get install -y janus)" >&2; exit 2
fi
libdir=""
for d in /usr/lib/*/janus /usr/lib/janus /usr/local/lib/janus; do
  [[ -f $d/plugins/libjanus_videoroom.so ]] && { libdir=$d; break; }
done
[[ -n $libdir ]] || { echo "start.sh: libjanus_videoroom.so not found" >&2; exit 2; }
[[ $event_loops == default || $event_loops =~ ^[0-9]+$ ]] || { echo "start.sh: --event-loops N|default" >&2; exit 2; }
[[ $room =~ ^[A-Za-z0-9_-]+$ ]] || { echo "start.sh: --room must be [A-Za-z0-9_-]+" >&2; exit 2; }
[[ -n $dir ]] || dir=$(mktemp -d /tmp/janus-bench.XXXXXX)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

loops_line="	# event_loops: Janus's default (one loop and thread per handle)"
[[ $event_loops == default ]] || loops_line="	event_loops = $event_loops"
ice_lists=""
[[ -z $ice_enforce ]] || ice_lists+="	ice_enforce_list = \"$ice_enforce\""$'\n'
[[ -z $ice_ignore ]] || ice_lists+="	ice_ignore_list = \"$ice_ignore\""$'\n'
[[ -n $ice_lists ]] || ice_lists="	ice_ignore_list = \"vmnet\""

fill() {
  local text
  text=$(<"$1")
  text=${text//@CFGDIR@/$dir}
  text=${text//@LIBDIR@/$libdir}
  text=${text//@DEBUG_LEVEL@/$debug_level}
  text=${text//@EVENT_LOOPS_LINE@/$loops_line}
  text=${text//@RTP_PORTS@/$rtp_ports}
  text=${text//@ICE_LISTS@/$ice_lists}
  text=${text//@ROOM@/$room}
  text=${text//@NICE_DEBUG@/$nice_debug}
  text=${text//@MAX_PUBLISHERS@/$max_pub}
  text=${text//@WS_PORT@/$ws_port}
  text=${text//@WS_IP@/$ws_ip}
  printf '%s\n' "$text" >"$2"
}
for f in janus.jcfg janus.plugin.videoroom.jcfg janus.transport.websockets.jcfg; do
  fill "$here/$f.in" "$dir/$f"
done

# -C config file, -F config folder; logs to a file, no colours, no daemon.
"$janus_bin" -C "$dir/janus.jcfg" -F "$dir" -L "$dir/janus.log" -o -N </dev/null >"$dir/janus.stdout" 2>&1 &
pid=$!
for ((i = 0; i < timeout * 10; i++)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start.sh: janus exited early; last log lines:" >&2
    tail -n 20 "$dir/janus.stdout" >&2 || true
    exit 1
  fi
  if (exec 3<>"/dev/tcp/$ws_ip/$ws_port") 2>/dev/null; then
    echo "JANUS_PID=$pid"
    echo "JANUS_URL=ws://$ws_ip:$ws_port/"
    echo "JANUS_LOG=$dir/janus.log"
    echo "JANUS_DIR=$dir"
    exit 0
  fi
  sleep 0.1
done
echo "start.sh: janus WebSocket port $ws_ip:$ws_port did not answer within ${timeout}s" >&2
kill "$pid" 2>/dev/null || true
exit 1

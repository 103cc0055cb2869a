#!/usr/bin/env bash
# Runs a command in a fresh network namespace with only loopback up, so that all of its
# traffic stays on 127.0.0.1 and its ports never collide with the host's or another run's.
#   bash tests/run-in-netns.sh COMMAND [ARGS…]
# When the command ends, every process still left in that namespace (a browser or server
# a crashed test did not close) is killed by pid, so nothing outlives the run.
set -euo pipefail
if (($# == 0)); then echo "usage: $0 COMMAND [ARGS…]" >&2; exit 2; fi
if ! command -v unshare >/dev/null || ! command -v ip >/dev/null; then
  echo "run-in-netns: needs unshare (util-linux) and ip (iproute2)" >&2; exit 2
fi
# shellcheck disable=SC2016
exec unshare --net -- bash -c '
  set -u
  ip link set lo up || { echo "run-in-netns: cannot bring lo up" >&2; exit 2; }
  myns=$(readlink /proc/$$/ns/net)
  cleanup() {
    local pid pids=()
    for d in /proc/[0-9]*; do
      pid=${d#/proc/}
      [[ $pid == "$$" ]] && continue
      [[ $(readlink "$d/ns/net" 2>/dev/null) == "$myns" ]] && pids+=("$pid")
    done
    if ((${#pids[@]})); then
      echo "run-in-netns: killing ${#pids[@]} leftover process(es): ${pids[*]}" >&2
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
  }
  trap cleanup EXIT
  trap "exit 143" TERM INT
  "$@"
' run-in-netns "$@"

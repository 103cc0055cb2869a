#!/usr/bin/env bash
# Runs a command in a fresh network namespace made for Janus runs: loopback up, plus a
# veth pair (janb0 <-> janb1, both ends inside) with 198.18.0.1/32 (RFC 2544's
# benchmarking range) on janb0. Janus never gathers loopback candidates, so it needs a
# non-loopback interface; inside this namespace that address is local, so all traffic to
# it still goes over the namespace's own loopback device and never leaves the machine.
#   bash bench/janus/netns.sh COMMAND [ARGS…]
# Exports JANUS_ICE_IFACE=janb0 and JANUS_ICE_IP=198.18.0.1 for start.sh. The namespace
# (and the veth pair with it) disappears when the command ends; any process left in it is
# killed by pid first.
set -euo pipefail
if (($# == 0)); then echo "usage: $0 COMMAND [ARGS…]" >&2; exit 2; fi
for c in unshare ip; do
  command -v $c >/dev/null || { echo "netns.sh: needs $c (util-linux, iproute2)" >&2; exit 2; }
done
# shellcheck disable=SC2016
exec unshare --net -- bash -c '
  set -u
  ip link set lo up &&
  ip link add janb0 type veth peer name janb1 &&
  ip addr add 198.18.0.1/32 dev janb0 &&
  ip link set janb1 up && ip link set janb0 up || { echo "netns.sh: cannot set up links" >&2; exit 2; }
  export JANUS_ICE_IFACE=janb0 JANUS_ICE_IP=198.18.0.1
  ns=$(readlink /proc/$$/ns/net)
  leftovers() {
    local d pid pids=()
    for d in /proc/[0-9]*; do
      pid=${d#/proc/}
      [[ $pid == "$$" ]] && continue
      [[ $(readlink "$d/ns/net" 2>/dev/null) == "$ns" ]] && pids+=("$pid")
    done
    if ((${#pids[@]})); then
      echo "netns.sh: killing leftover process(es) ${pids[*]}" >&2
      kill -KILL "${pids[@]}" 2>/dev/null || true
    fi
  }
  trap leftovers EXIT
  trap "exit 143" TERM INT
  "$@"
' netns.sh "$@"

#!/usr/bin/env bash
# Checks the floors of the media engine: every #include "…" inside sfu/ must point to a
# lower floor (or, for a .c file, to its own header), so nothing includes upward and no
# circle can form. Fails, naming the include, otherwise; a file of sfu/ that is given no
# floor below fails too, so a new module must be placed.
#   bash scripts/check-layers.sh [SFU_DIR]
set -euo pipefail
SFU_DIR=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/sfu"}

# Floor of a path relative to sfu/ (module = path without .c/.h), lowest first.
floor_of() {
  case "$1" in
    include/sfu | rtp/rtp | ice/ice_lite | arena_thread | allocator) echo 0 ;; # leaves, public types; allocator: pure budget spending
    rtp/rtcp | rtp/vp8 | rtp/red | rtp/rtx | srtp/gcm_sender | net/tcp_frame | net/address | rtx_cache | layer_pause) echo 1 ;; # net/tcp_frame: bytes only
    srtp/srtp_session | rtp/twcc | rtp/recv_stats) echo 2 ;; # recv_stats: receive statistics, missing list
    dtls/dtls | bwe/bwe | rtp/twcc_arrivals) echo 3 ;; # twcc_arrivals: what a publisher is told arrived
    net/*) echo 4 ;;             # sockets, batches, addresses, ICE-TCP connections
    events) echo 5 ;;            # the event ring
    types) echo 6 ;;             # the engine's objects, types only
    output | simulcast | temporal) echo 7 ;; # what leaves a core; simulcast layer choice and switching; temporal levels of one encoding
    repair | uplink | transport_budget | red_forward) echo 8 ;; # NACK/RTX both ways, receiver reports; feedback to publishers; the allocator on the slots; RED kept or stripped per slot
    router) echo 9 ;;            # forwarding
    transport) echo 10 ;;        # ICE, DTLS, SRTP of one PeerConnection
    core) echo 11 ;;             # one worker's engine in memory
    worker) echo 12 ;;           # the loop: thread, socket, commands
    sfu_internal) echo 13 ;;     # white-box access for tests
    sfu) echo 14 ;;              # the public API (include/sfu.h declares it)
    *) echo "" ;;
  esac
}

# An include as written ("sfu.h", "net/udp.h", "types.h") → module relative to sfu/.
module_of_include() {
  local inc=${1%.h}
  case "$inc" in
    sfu) echo include/sfu ;;
    *) echo "$inc" ;;
  esac
}

bad=0
while IFS= read -r file; do
  rel=${file#"$SFU_DIR"/}
  mod=${rel%.[ch]}
  from=$(floor_of "$mod")
  if [[ -z "$from" ]]; then
    echo "check-layers: $rel has no floor (add it to scripts/check-layers.sh)"; bad=1; continue
  fi
  while IFS= read -r inc; do
    to_mod=$(module_of_include "$inc")
    [[ "$to_mod" == "$mod" ]] && continue # x.c includes x.h
    to=$(floor_of "$to_mod")
    if [[ -z "$to" ]]; then
      echo "check-layers: $rel includes \"$inc\", which is not an engine module"; bad=1
    elif ((to >= from)); then
      echo "check-layers: $rel (floor $from) includes \"$inc\" (floor $to): upward or sideways"; bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(find "$SFU_DIR" -name '*.[ch]' | sort)

if ((bad)); then exit 1; fi
echo "check-layers: sfu/ includes run downward only"

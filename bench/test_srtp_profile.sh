#!/usr/bin/env bash
# meson test bench_srtp_profile: diemcau-bench --srtp-profile against the real server
# (bench/run.sh fanout: 1 publisher → 3 receivers, 2 s window, once per profile). Each run's
# JSON must name the one profile offered as negotiated, with every participant connected and
# packets received; an unknown profile name must be refused. No timing assertions.
#   bench/test_srtp_profile.sh BUILD_DIR OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 out=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

check() { # offer wanted-profile json: prints "ok: …" or exits 1 with the figures
  /usr/bin/python3 - "$@" <<'PY' || exit 1
import json, sys
offer, want, path = sys.argv[1:]
j = json.load(open(path))
c = j["config"]
got = dict(srtp_offer=c.get("srtp_offer"), srtp_profile=j.get("srtp_profile"), connected=c["connected"],
           participants=c["participants"], failed=c["failed"], packets=j["forwarding"]["packets"])
if (got["srtp_offer"], got["srtp_profile"]) != (offer, want) or got["failed"] or \
        got["connected"] < got["participants"] or got["packets"] <= 0:
    sys.exit(f"FAIL: --srtp-profile {offer}: wanted {want}, packets and no failure; got {got} in {path}")
print(f"ok: --srtp-profile {offer} negotiated {want}, {got['packets']} packets received")
PY
}

if "$build/bench/diemcau-bench" --url ws://127.0.0.1:1/ws --srtp-profile nosuch 2>/dev/null; then
  fail "--srtp-profile nosuch was accepted"
fi
for case in cm:SRTP_AES128_CM_SHA1_80 gcm:SRTP_AEAD_AES_128_GCM; do
  offer=${case%%:*} want=${case#*:}
  rm -rf "${out:?}/$offer"
  BENCH_OUT=$out/$offer NS=3 DURATION=2 BENCH_ARGS="--srtp-profile $offer" \
    bash "$here/run.sh" fanout --build "$build" >/dev/null || fail "$offer: run.sh exited $?"
  check "$offer" "$want" "$(ls "$out/$offer"/*/*.json)"
done

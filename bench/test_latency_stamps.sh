#!/usr/bin/env bash
# meson test bench_latency_stamps: the generator's latency is measured from each packet's
# kernel transmit stamp (SO_TIMESTAMPING, matched to the packet by the socket's stamp
# counter), not from the time written into it. A short meeting25 (5 participants, all
# publish and receive, 3 s) against the real server; its JSON must show latency samples of
# which (nearly) all had their transmit stamp, and the send-path figures. No timing assertions.
#   bench/test_latency_stamps.sh BUILD_DIR OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 out=$2
rm -rf "${out:?}"
BENCH_OUT=$out DURATION=3 bash "$here/run.sh" meeting25 --short --build "$build" >/dev/null ||
  { echo "FAIL: run.sh exited $?" >&2; exit 1; }
/usr/bin/python3 - "$(ls "$out"/*/*.json)" <<'PY'
import json, sys
path = sys.argv[1]
j = json.load(open(path))
lat, gen = j["latency_us"], j["generator"]
samples = gen["lat_samples"]
if samples <= 0 or lat.get("unstamped_share") is None or lat["unstamped_share"] > 0.01 or \
        gen.get("send_path_p99_ms") is None or gen["send_path_max_ms"] < gen["send_path_p99_ms"] * 0.5:
    sys.exit(f"FAIL: {samples} samples, unstamped share {lat.get('unstamped_share')}, "
             f"send path p99 {gen.get('send_path_p99_ms')} max {gen.get('send_path_max_ms')} in {path}")
print(f"ok: {samples} latency samples, {lat['unstamped_share']:.4%} without a transmit stamp, "
      f"send path p99 {gen['send_path_p99_ms']} ms")
PY

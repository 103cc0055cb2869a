#!/bin/bash
# Instructions the packet path spends per forwarded packet, counted by valgrind's callgrind:
# a count, not a time, so it repeats on this noisy 2-core VM whatever else runs (timed
# figures need a quiet host: bench/run.sh). For a change on the packet path, run it on the
# build before and the build after, side by side:
#
#   bench/callgrind.sh BUILD_DIR [BUILD_DIR…]
#
# For each build: the fanout scenario (1 publisher to RECEIVERS=10 at KBPS=300 kbit/s for
# DURATION=10 s; bench/run.sh), the server under callgrind. The packet path is what
# sfu_core_on_datagram (classify, STUN, unprotect, parse, route, repair bookkeeping) and
# sfu_core_end_batch (fan-out: copy, rewrite, protect, queue) execute, inclusive; per
# forwarded packet is that over the calls of sfu_srtp_protect_rtp_indexed (one per packet
# sent, retransmissions included). The sendmmsg/GSO flush and the tick are left out.
# Output: one line per build, and bench/out/callgrind-<time>/<n>.callgrind for
# callgrind_annotate.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { sed -n '2,16p' "$0" >&2; exit 1; }
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
  { echo "callgrind.sh: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
out=${BENCH_OUT:-$here/out}/callgrind-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

i=0
for build in "$@"; do
  build=$(realpath "$build")
  [ -x "$build/diemcau" ] && [ -x "$build/bench/diemcau-bench" ] ||
    { echo "callgrind.sh: $build lacks diemcau or bench/diemcau-bench" >&2; exit 1; }
  i=$((i + 1))
  # bench/run.sh starts "$build/diemcau": a build directory of links whose diemcau runs
  # the real one under callgrind
  wrap=$out/wrap$i
  mkdir -p "$wrap"
  ln -sfn "$build/bench" "$wrap/bench"
  cat >"$wrap/diemcau" <<EOF
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file="$out/$i.callgrind" "$build/diemcau" "\$@"
EOF
  chmod +x "$wrap/diemcau"
  NS=${RECEIVERS:-10} KBPS=${KBPS:-300} DURATION=${DURATION:-10} BENCH_OUT="$out/run$i" \
    "$here/run.sh" fanout --build "$wrap" >"$out/run$i.log" 2>&1 || true # loss under valgrind is expected
  [ -s "$out/$i.callgrind" ] || { echo "callgrind.sh: no profile for $build (see $out/run$i.log)" >&2; exit 1; }
  callgrind_annotate --inclusive=yes "$out/$i.callgrind" >"$out/$i.annotate" 2>/dev/null
  python3 - "$out/$i.callgrind" "$out/$i.annotate" "$build" <<'EOF'
import re, sys
profile, annotate, build = sys.argv[1:]
ir = {}
for line in open(annotate):
    m = re.match(r'\s*([\d,]+)\s.*\s(\S+:)?(sfu_core_on_datagram|sfu_core_end_batch)\b', line)
    if m:
        # listed more than once (by source path, and by path and object): the same count
        ir[m.group(3)] = max(ir.get(m.group(3), 0), int(m.group(1).replace(',', '')))
# calls of the protect function: "calls=N ..." lines that follow "cfn=(id) sfu_srtp_protect_rtp_indexed"
names, calls, pending = {}, 0, False
for line in open(profile):
    # a function is named at its first mention, as fn= or cfn=, and by its id after that
    m = re.match(r'(c?)fn=\((\d+)\)(?: (.*))?', line)
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3).strip()
        pending = m.group(1) == 'c' and names.get(m.group(2), '').startswith('sfu_srtp_protect_rtp_indexed')
        continue
    if pending and line.startswith('calls='):
        calls += int(line.split('=')[1].split()[0])
        pending = False
path = sum(ir.values())
if not calls:
    sys.exit(f"{build}: no packet forwarded")
print(f"{build}: {path / calls:,.0f} instructions per forwarded packet "
      f"(packet path {path:,} over {calls:,} packets; on_datagram {ir.get('sfu_core_on_datagram', 0):,}, "
      f"end_batch {ir.get('sfu_core_end_batch', 0):,})")
EOF
done

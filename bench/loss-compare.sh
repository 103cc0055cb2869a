#!/usr/bin/env bash
# Our server and Janus VideoRoom under the same random loss toward a subscriber, in one
# run (issue 12's targets): bench/loss/compare.mjs inside tests/run-in-netns.sh (it makes
# a site namespace with nftables drops, as tests/e2e's loss tests do).
#   bench/loss-compare.sh [--rounds 3] [--seconds 20] [--losses 0,5,10]
#                         [--targets ours,janus,ours-nonack] [--fps 30] [--out DIR]
# Needs build/diemcau (or $DIEMCAU_BIN), Janus 1.1.2 (apt-get install -y janus),
# /usr/bin/chromium, nft, and tests/e2e/node_modules (npm ci there). Writes
# bench/out/loss-compare-<time>/{rounds.json,table.md}; logs in tests/artifacts/logs/loss-compare/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
case ${1:-} in -h|--help) sed -n '2,9p' "$0"; exit 0 ;; esac
export DIEMCAU_BIN=${DIEMCAU_BIN:-$root/build/diemcau}
[[ -x $DIEMCAU_BIN ]] || { echo "loss-compare: $DIEMCAU_BIN not built (meson setup build && ninja -C build)" >&2; exit 1; }
[[ -d $root/tests/e2e/node_modules/playwright-core ]] || { echo "loss-compare: run npm ci in tests/e2e" >&2; exit 1; }
for c in janus nft /usr/bin/chromium; do
  command -v "$c" >/dev/null || { echo "loss-compare: needs $c" >&2; exit 1; }
done
export DIEMCAU_E2E_TAG=loss-compare # server and browser logs: tests/artifacts/logs/loss-compare/
cd "$root"
exec bash tests/run-in-netns.sh node bench/loss/compare.mjs "$@"

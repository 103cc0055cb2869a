#!/usr/bin/env bash
# Builds Điểm Cầu and starts the server with its embedded default configuration.
#   bash scripts/run.sh [server options…]
# e.g. bash scripts/run.sh --announce-ip 192.168.1.10 --http-port 8080 --media-port 40000
# The server prints the URL to open. Options are passed to build/diemcau unchanged
# (see `build/diemcau --help`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# what building and running need; the test tools and browsers come only with --test
bash scripts/install-deps.sh
bash scripts/build.sh build
exec "$ROOT/build/diemcau" "$@"

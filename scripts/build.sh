#!/usr/bin/env bash
# Configures (or reconfigures) and builds a meson build directory.
#   bash scripts/build.sh [BUILD_DIR] [extra meson setup options…]
# Default BUILD_DIR is build/. Does not install packages (see scripts/install-deps.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${1:-build}"
shift || true
if [[ -f "$BUILD_DIR/build.ninja" ]]; then
  if (($#)); then meson setup --reconfigure "$BUILD_DIR" "$@" >/dev/null; fi
elif [[ -d "$BUILD_DIR" && -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
  meson setup --reconfigure "$BUILD_DIR" "$@"
else
  meson setup "$BUILD_DIR" "$@"
fi
ninja -C "$BUILD_DIR"

#!/usr/bin/env bash
# Installs what Điểm Cầu needs to build, run and test on Debian 12.
# Idempotent: on a machine that already has everything it does no apt or npm work.
#   bash scripts/install-deps.sh          # build + run: compiler, meson, the libraries
#   bash scripts/install-deps.sh --test   # also the test tools: GStreamer, Python, browsers, node
#   bash scripts/install-deps.sh --bench  # also those and Janus, the comparison server of bench/janus
#   add --dry-run to print the apt-get commands instead of running anything
# apt waits up to 10 minutes for another apt/dpkg to finish instead of failing. Building
# libsrtp2 adds a deb-src apt source once (scripts/build-libsrtp2-openssl.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WITH_TEST=0
WITH_BENCH=0
DRY_RUN=0
for a in "$@"; do
  case "$a" in
    --test) WITH_TEST=1 ;;
    --bench) WITH_BENCH=1 ;;
    --dry-run) DRY_RUN=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option $a" >&2; exit 2 ;;
  esac
done

# to build and run the server (openssl: the command docs/TLS.md makes certificates with;
# sqlite3: the command-line shell to look into the meeting record, docs/RECORD.md)
PKGS=(
  build-essential meson ninja-build pkg-config
  libglib2.0-dev libnice-dev libsrtp2-dev libwebsockets-dev libssl-dev libjansson-dev libsqlite3-dev
  openssl sqlite3
)
# to test it: GStreamer webrtcbin peers (pytest), browsers, network namespaces; the
# split-network bench reads forwarded RTP from a packet ring that nft drops before IP
# (bench/netsplit.sh; the CI test bench_split_rooms_short runs that path); coturn: the
# TURN server tests/e2e/udp-blocked.test.mjs relays a UDP-less participant through;
# prometheus: its promtool checks the /metrics text (tests/integration/test_metrics.py)
TEST_PKGS=(
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice gstreamer1.0-tools gstreamer1.0-libav
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
  gir1.2-nice-0.1
  python3-websockets python3-pytest
  chromium firefox-esr
  iproute2 util-linux nftables
  coturn
  prometheus
  clang-format-14
)
if ((WITH_TEST || WITH_BENCH)); then
  PKGS+=("${TEST_PKGS[@]}")
  if ! command -v node >/dev/null 2>&1; then PKGS+=(nodejs); fi
  if ! command -v npm >/dev/null 2>&1; then PKGS+=(npm); fi
fi
if ((WITH_BENCH)); then PKGS+=(janus); fi

missing=()
for p in "${PKGS[@]}"; do
  st="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [[ "$st" == "installed" ]] || missing+=("$p")
done

SUDO=()
if [[ "$(id -u)" != 0 ]]; then SUDO=(sudo); fi
# wait for another apt or dpkg (unattended-upgrades, a second terminal) instead of failing
APT=(apt-get -o DPkg::Lock::Timeout=600)

if ((DRY_RUN)); then
  if ((${#missing[@]})); then
    echo "${SUDO[*]:+${SUDO[*]} }${APT[*]} update -q"
    echo "${SUDO[*]:+${SUDO[*]} }${APT[*]} install -y -q --no-install-recommends ${missing[*]}"
  fi
  exit 0
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" "${APT[@]}" update -q
  "${SUDO[@]}" "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}"
  # prometheus is here for its promtool only: the monitoring server its package starts
  # under systemd (port 9090) is not wanted on a developer's machine
  if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
else
  echo "install-deps: system packages present"
fi

# libsrtp2 from Debian's own source, built on OpenSSL: Debian's binary (on NSS) is ~2x
# slower and allocates on every packet (bench/RESULTS.md). Skips itself when built.
bash "$ROOT/scripts/build-libsrtp2-openssl.sh"

if ((WITH_TEST)); then
  E2E="$ROOT/tests/e2e"
  if [[ -f "$E2E/package-lock.json" ]]; then
    # npm ci only when node_modules is missing or older than the lock file.
    stamp="$E2E/node_modules/.package-lock.json"
    if [[ ! -f "$stamp" || "$E2E/package-lock.json" -nt "$stamp" ]]; then
      echo "install-deps: npm ci in tests/e2e"
      (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
    else
      echo "install-deps: tests/e2e node modules present"
    fi
  fi
fi

#!/usr/bin/env bash
# Builds Debian's own libsrtp2 source package with OpenSSL crypto (--enable-openssl) into a
# fixed prefix, as a static libsrtp2.a plus libsrtp2.pc. Debian's binary package uses NSS,
# which allocates on every srtp_protect/unprotect and is 2-5x slower (bench/RESULTS.md,
# "SRTP library"). Nothing is vendored: the source comes from `apt-get source` at set-up.
# Idempotent: does nothing when the prefix already holds a build of the same Debian source
# version with the same options.
#   bash scripts/build-libsrtp2-openssl.sh            # into /opt/diemcau/libsrtp2
#   DIEMCAU_SRTP_PREFIX=/some/dir bash scripts/build-libsrtp2-openssl.sh
# Then: PKG_CONFIG_PATH=/opt/diemcau/libsrtp2/lib/pkgconfig meson setup build
set -euo pipefail

PREFIX="${DIEMCAU_SRTP_PREFIX:-/opt/diemcau/libsrtp2}"
CONFIGURE_OPTS=(--enable-openssl --disable-debug-logging)
# CFLAGS left empty on purpose: libsrtp's configure then picks -fPIC -O3 -funroll-loops.
STAMP="$PREFIX/.diemcau-build"

for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build-libsrtp2-openssl: unknown option $a" >&2; exit 2 ;;
  esac
done

SUDO=()
if [[ "$(id -u)" != 0 ]]; then SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
# wait for another apt or dpkg instead of failing (install-deps.sh does the same)
APT=(apt-get -o DPkg::Lock::Timeout=600)

# Tools for apt-get source (dpkg-source), configure/make, and OpenSSL headers.
need=()
for p in dpkg-dev build-essential pkg-config libssl-dev; do
  st="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [[ "$st" == "installed" ]] || need+=("$p")
done

# A deb-src entry for the Debian archive the machine already uses (same mirror, suites,
# components); added once, as its own file.
SRC_LIST=/etc/apt/sources.list.d/diemcau-deb-src.sources
have_src() { apt-cache showsrc libsrtp2 2>/dev/null | grep -q '^Package: libsrtp2'; }
apt_updated=0
if ! have_src; then
  if [[ ! -f "$SRC_LIST" ]]; then
    tmp="$(mktemp)"
    # deb822 files: copy each "Types: deb" stanza of a Debian archive as deb-src.
    for f in /etc/apt/sources.list.d/*.sources; do
      [[ -f "$f" && "$f" != "$SRC_LIST" ]] || continue
      awk 'BEGIN { RS = ""; ORS = "\n\n" }
           /(^|\n)Types:[^\n]*(^|[ \t])deb([ \t]|\n|$)/ && /(^|\n)URIs:[^\n]*\/debian(-security)?\/?([ \t]|\n|$)/ {
             sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f" >>"$tmp"
    done
    # one-line format
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f "$f" ]] || continue
      grep -E '^[[:space:]]*deb[[:space:]].*/debian(-security)?/?[[:space:]]' "$f" |
        sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' |
        awk '{ print "Types: deb-src"; i = 2
               if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }  # drop [options]
               print "URIs: " $i; print "Suites: " $(i+1); c=""; for (j=i+2; j<=NF; j++) c=c " " $j;
               print "Components:" c; print "" }' >>"$tmp"
    done
    if [[ ! -s "$tmp" ]]; then
      echo "build-libsrtp2-openssl: no Debian archive found in /etc/apt sources" >&2
      rm -f "$tmp"; exit 1
    fi
    echo "build-libsrtp2-openssl: adding deb-src entries ($SRC_LIST)"
    "${SUDO[@]}" install -m 0644 "$tmp" "$SRC_LIST"
    rm -f "$tmp"
  fi
  "${SUDO[@]}" "${APT[@]}" update -q
  apt_updated=1
fi

if ((${#need[@]})); then
  echo "build-libsrtp2-openssl: installing ${need[*]}"
  ((apt_updated)) || "${SUDO[@]}" "${APT[@]}" update -q
  "${SUDO[@]}" "${APT[@]}" install -y -q --no-install-recommends "${need[@]}"
fi

# The version apt would fetch (first stanza = highest candidate) and the OpenSSL it links.
SRC_VERSION="$(apt-cache showsrc libsrtp2 | awk '/^Version:/ { print $2; exit }')"
OSSL_VERSION="$(pkg-config --modversion libcrypto)"
WANT="libsrtp2 $SRC_VERSION; openssl $OSSL_VERSION; ${CONFIGURE_OPTS[*]}"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -f "$PREFIX/lib/libsrtp2.a" &&
      -f "$PREFIX/lib/pkgconfig/libsrtp2.pc" && -f "$PREFIX/include/srtp2/srtp.h" ]]; then
  echo "build-libsrtp2-openssl: $PREFIX already has $WANT"
  exit 0
fi

WORK="$(mktemp -d /tmp/diemcau-libsrtp2.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
echo "build-libsrtp2-openssl: building $WANT into $PREFIX"
(
  cd "$WORK"
  # apt's _apt sandbox user cannot write into a root-owned mktemp dir; that only warns.
  apt-get source -q "libsrtp2=$SRC_VERSION" >source.log 2>&1 || { cat source.log >&2; exit 1; }
  cd libsrtp2-*/
  ./configure -q --prefix="$PREFIX" "${CONFIGURE_OPTS[@]}" >configure.log 2>&1 ||
    { cat configure.log >&2; exit 1; }
  grep -q '^#define OPENSSL 1' crypto/include/config.h ||
    { echo "build-libsrtp2-openssl: configure did not select OpenSSL" >&2; exit 1; }
  make -s -j"$(nproc)" libsrtp2.a test/srtp_driver >make.log 2>&1 || { cat make.log >&2; exit 1; }
  # libsrtp's own self-test (known-answer vectors for the OpenSSL ciphers and HMAC)
  test/srtp_driver -v >driver.log 2>&1 || { cat driver.log >&2; exit 1; }
  "${SUDO[@]}" rm -rf "$PREFIX"
  "${SUDO[@]}" make -s install >/dev/null
  # libcrypto is needed by anyone linking the static archive: make a plain
  # `pkg-config --libs libsrtp2` (what meson's dependency() asks) carry it too.
  pc="$PREFIX/lib/pkgconfig/libsrtp2.pc"
  "${SUDO[@]}" sed -i -E 's/^Libs: (.*)$/Libs: \1 -lcrypto/; s/^Libs.private:.*$/Libs.private:/' "$pc"
  "${SUDO[@]}" sed -i -E '/^Cflags:/i Requires.private: libcrypto' "$pc"
)
echo "$WANT" | "${SUDO[@]}" tee "$STAMP" >/dev/null
echo "build-libsrtp2-openssl: done ($PREFIX/lib/libsrtp2.a)"

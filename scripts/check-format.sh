#!/usr/bin/env bash
# Checks the C sources of app/, sfu/, signaling/, bench/ and tests/ against .clang-format with
# clang-format 14 (the version the configuration was measured with; others format some
# constructs differently). Lists every file that is not formatted and exits 1; changes
# nothing unless --fix is given, which rewrites those files in place.
#   bash scripts/check-format.sh [--fix] [FILE…]      # default: every tracked C file there
# CLANG_FORMAT overrides the binary (default clang-format-14, else clang-format).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FIX=0
FILES=()
for a in "$@"; do
  case "$a" in
    --fix) FIX=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) echo "check-format.sh: unknown option $a" >&2; exit 2 ;;
    *) FILES+=("$a") ;;
  esac
done

CF=${CLANG_FORMAT:-}
if [[ -z "$CF" ]]; then
  if command -v clang-format-14 >/dev/null; then CF=clang-format-14; else CF=clang-format; fi
fi
if ! command -v "$CF" >/dev/null; then
  echo "check-format.sh: $CF not found (Debian: apt-get install clang-format-14)" >&2
  exit 2
fi
if ! "$CF" --version | grep -q 'version 14\.'; then
  echo "check-format.sh: warning: $("$CF" --version) is not clang-format 14; results may differ" >&2
fi

if ((${#FILES[@]} == 0)); then
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t FILES < <(git ls-files -- 'app/*.[ch]' 'sfu/*.[ch]' 'signaling/*.[ch]' 'bench/*.[ch]' 'tests/*.[ch]')
  else
    mapfile -t FILES < <(find app sfu signaling bench tests -name '*.[ch]' -not -path '*/node_modules/*' | sort)
  fi
fi

BAD=()
for f in "${FILES[@]}"; do
  if ! "$CF" --style=file --dry-run -Werror "$f" >/dev/null 2>&1; then BAD+=("$f"); fi
done

if ((${#BAD[@]} == 0)); then
  echo "check-format.sh: ${#FILES[@]} files formatted"
  exit 0
fi
if ((FIX)); then
  "$CF" --style=file -i "${BAD[@]}"
  printf 'formatted %s\n' "${BAD[@]}"
  exit 0
fi
printf '%s\n' "${BAD[@]}"
echo "check-format.sh: ${#BAD[@]} of ${#FILES[@]} files not formatted (see: $CF --style=file FILE | diff FILE -)" >&2
exit 1

#!/usr/bin/env bash
# Builds Điểm Cầu and runs every test: unit + fuzz-corpus tests (meson), the integration
# tests (pytest, tests/integration) and the browser tests (node, tests/e2e) — then all of
# it again on an AddressSanitizer + UndefinedBehaviorSanitizer build, and the unit and
# engine suites on a ThreadSanitizer build.
#   bash scripts/test.sh            # everything (what CI runs)
#   bash scripts/test.sh --quick    # skip the sanitizer passes
# All tests run inside a fresh network namespace with only loopback up
# (tests/run-in-netns.sh). Logs go to tests/artifacts/logs/. Ends with
# "summary: N passed, M failed" and exits non-zero when anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

QUICK=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3          # Debian's python: it has gi (GStreamer) and websockets
BUDGET_S=${DIEMCAU_TEST_BUDGET_S:-3300}   # the whole run stays under 55 minutes
START_S=$SECONDS
LOGDIR="$ROOT/tests/artifacts/logs"
BUILD=${DIEMCAU_BUILD_DIR:-build}              # overridable so a developer can keep
BUILD_ASAN=${DIEMCAU_ASAN_BUILD_DIR:-build-asan} # a shared build/ untouched
BUILD_TSAN=${DIEMCAU_TSAN_BUILD_DIR:-build-tsan}
mkdir -p "$LOGDIR"

PASSED=0
FAILED=0
RESULTS=()

note() { printf '\n=== %s ===\n' "$*"; }

# Seconds left for a stage: its own cap, but never past the overall budget.
stage_timeout() {
  local cap=$1 left=$((BUDGET_S - (SECONDS - START_S)))
  ((left < 30)) && left=30
  ((cap < left)) && echo "$cap" || echo "$left"
}

record() { # name passed failed rc
  local name=$1 p=$2 f=$3 rc=$4
  # A stage that failed without reporting a failing test (crash, timeout, build error)
  # still counts as one failure.
  if ((rc != 0 && f == 0)); then f=1; fi
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
  RESULTS+=("$(printf '%-28s %4d passed %4d failed  (exit %d)' "$name" "$p" "$f" "$rc")")
}

# failed_names STAGE < lines: keeps "STAGE: name — first error line" for the summary, so a
# CI log cut in the middle still ends with what failed.
FAILED_NAMES=()
failed_names() {
  local line
  while IFS= read -r line; do FAILED_NAMES+=("$1: ${line:0:300}"); done
}

# run_logged NAME CAP_SECONDS CMD… : runs CMD with a time limit, output to the terminal
# and to $LOGDIR/NAME.log; sets RC.
run_logged() {
  local name=$1 cap=$2; shift 2
  local t; t=$(stage_timeout "$cap")
  note "$name (limit ${t}s)"
  timeout -k 15 "$t" "$@" 2>&1 | tee "$LOGDIR/$name.log"
  RC=${PIPESTATUS[0]}
  ((RC == 124)) && echo "test.sh: $name timed out after ${t}s"
}

stage_build() { # name builddir [meson options…]
  local name=$1 dir=$2; shift 2
  run_logged "$name" 900 bash scripts/build.sh "$dir" "$@"
  record "$name" 0 0 "$RC"
  return "$RC"
}

stage_meson_test() { # name builddir [meson test options…, e.g. --suite unit]
  local name=$1 dir=$2 ok fail
  shift 2
  # In a namespace too: some of these (engine, bench) start servers and bind ports.
  run_logged "$name" 900 bash tests/run-in-netns.sh meson test -C "$dir" --print-errorlogs "$@"
  ok=$(grep -E '^Ok:' "$LOGDIR/$name.log" | tail -1 | awk '{print $2}')
  failed_names "$name" < <(grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|UNEXPECTEDPASS) ' "$LOGDIR/$name.log" | sed -E 's/ +/ /g')
  fail=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$LOGDIR/$name.log" | awk '{s+=$NF} END {print s+0}')
  record "$name" "${ok:-0}" "${fail:-0}" "$RC"
}

stage_pytest() { # name binary
  local name=$1 bin=$2 xml="$LOGDIR/$1.xml" counts p f
  if ! compgen -G "tests/integration/test_*.py" >/dev/null; then
    note "$name: no tests/integration/test_*.py yet — skipped"; return
  fi
  rm -f "$xml"
  DIEMCAU_BIN="$bin" run_logged "$name" 1200 \
    bash tests/run-in-netns.sh "$PY" -m pytest -v -p no:cacheprovider --junitxml="$xml" tests/integration
  if ((RC == 5)); then echo "test.sh: pytest collected no tests"; fi
  counts=$("$PY" - "$xml" <<'PYEOF' 2>/dev/null
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 0"); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = s = 0
for su in suites:
    t += int(su.get("tests", 0)); s += int(su.get("skipped", 0))
    f += int(su.get("failures", 0)) + int(su.get("errors", 0))
print(t - f - s, f)
PYEOF
)
  read -r p f <<<"${counts:-0 0}"
  failed_names "$name" < <("$PY" - "$xml" <<'PYEOF' 2>/dev/null
import sys, xml.etree.ElementTree as ET
for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
    for bad in list(case.findall("failure")) + list(case.findall("error")):
        msg = (bad.get("message") or "").splitlines()
        print(f"{case.get('classname')}::{case.get('name')} — {msg[0] if msg else ''}")
PYEOF
  )
  ((RC == 5)) && RC=0
  record "$name" "$p" "$f" "$RC"
}

stage_e2e() { # name binary [skip-list file]
  local name=$1 bin=$2 skip=${3:-} tap="$LOGDIR/$1.tap" p f c files=()
  if ! compgen -G "tests/e2e/*.test.mjs" >/dev/null; then
    note "$name: no tests/e2e/*.test.mjs — skipped"; return
  fi
  for file in tests/e2e/*.test.mjs; do
    if [ -n "$skip" ] && grep -qE "^$(basename "$file")([[:space:]]|$)" "$skip"; then
      echo "test.sh: $name leaves out $(basename "$file") ($skip)"; continue
    fi
    files+=("$file")
  done
  rm -f "$tap"
  DIEMCAU_BIN="$bin" DIEMCAU_E2E_TAG="$name" run_logged "$name" 1500 \
    bash tests/run-in-netns.sh node --test --test-concurrency=1 \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" \
      "${files[@]}"
  p=$(grep -E '^# pass [0-9]+' "$tap" 2>/dev/null | tail -1 | awk '{print $3}')
  f=$(grep -E '^# (fail|cancelled) [0-9]+' "$tap" 2>/dev/null | awk '{s+=$3} END {print s+0}')
  # innermost failures: a "not ok" line with its first "error:" line (the suites around
  # it are "not ok" too, with a "failed subtests" error: left out)
  failed_names "$name" < <(awk '/^ *not ok [0-9]+ - /{sub(/^ *not ok [0-9]+ - /, ""); name=$0; next}
       name != "" && block {sub(/^ +/, ""); print name " — " $0; name=""; block=0; next}
       name != "" && /^ *error: /{sub(/^ *error: /, "")
         if ($0 ~ /^[|>]-?$/) {block=1; next}
         if ($0 !~ /subtests? failed/) print name " — " $0; name=""}' \
    "$tap" 2>/dev/null)
  record "$name" "${p:-0}" "${f:-0}" "$RC"
}

# --- dependencies -------------------------------------------------------------------
run_logged install-deps 1500 bash scripts/install-deps.sh --test
record install-deps 0 0 "$RC"

# --- source format (.clang-format, clang-format 14) -------------------------------------
run_logged format 120 bash scripts/check-format.sh
record format 0 0 "$RC"

# --- normal build ---------------------------------------------------------------------
if stage_build build "$BUILD"; then
  stage_meson_test unit "$BUILD"
  stage_pytest integration "$(realpath "$BUILD")/diemcau"
  stage_e2e e2e "$(realpath "$BUILD")/diemcau"
fi

# --- sanitizer build ------------------------------------------------------------------
if ((!QUICK)); then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if stage_build build-asan "$BUILD_ASAN" -Db_sanitize=address,undefined -Db_lundef=false; then
    stage_meson_test unit-asan "$BUILD_ASAN"
    stage_pytest integration-asan "$(realpath "$BUILD_ASAN")/diemcau"
    stage_e2e e2e-asan "$(realpath "$BUILD_ASAN")/diemcau" tests/e2e/asan-skip.txt
  fi
  # Data races between the workers, their DTLS helpers and the signaling side (commands,
  # events, counters): the unit suite (router in memory, layers, …) and the engine suite
  # (workers over real sockets). The bench, fuzz, pytest and browser stages are left out:
  # they add minutes and no thread the engine suite does not already run.
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
  if stage_build build-tsan "$BUILD_TSAN" -Db_sanitize=thread -Db_lundef=false; then
    stage_meson_test unit-tsan "$BUILD_TSAN" --suite unit --suite engine
  fi
fi

note "results ($((SECONDS - START_S))s, logs in tests/artifacts/logs/)"
printf '%s\n' "${RESULTS[@]}"
if ((${#FAILED_NAMES[@]})); then printf 'failed: %s\n' "${FAILED_NAMES[@]}"; fi
echo "summary: $PASSED passed, $FAILED failed"
((FAILED == 0))

#!/usr/bin/env bash
# Runs libFuzzer targets (fuzz/fuzz_<name>.c) for a given time each, PARALLEL at a time.
#
#   scripts/fuzz.sh BUILD_DIR SECONDS PARALLEL [NAME...]     (no NAME: every target)
#
# Each target starts from its seeds in fuzz/corpus/<name>/ (copied into BUILD_DIR/corpus/<name>,
# where the corpus grows) and writes crash artifacts and its log to BUILD_DIR/<name>.*.
# Exit status 1 if any target found a crash, leak or timeout.
set -euo pipefail
BUILD=$1 SECONDS_EACH=$2 PARALLEL=$3
shift 3
if (($# == 0)); then
  set -- $(ls fuzz/fuzz_*.c | sed 's|fuzz/fuzz_\(.*\)\.c|\1|')
fi
run_one() {
  local name=$1
  mkdir -p "$BUILD/corpus/$name"
  cp -n fuzz/corpus/"$name"/* "$BUILD/corpus/$name/" 2>/dev/null || true
  if LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp "$BUILD/fuzz_$name" \
      -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$BUILD/$name." "$BUILD/corpus/$name" > "$BUILD/$name.log" 2>&1; then
    echo "fuzz $name: clean, $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$BUILD/$name.log" | tail -1), coverage $(grep -o 'cov: [0-9]*' "$BUILD/$name.log" | tail -1 | cut -d' ' -f2) edges"
  else
    echo "fuzz $name: FAILED, see $BUILD/$name.log and $BUILD/$name.*"
    return 1
  fi
}
status=0
pids=()
for name in "$@"; do
  run_one "$name" &
  pids+=($!)
  if ((${#pids[@]} >= PARALLEL)); then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status

#!/usr/bin/env bash
# Runs libFuzzer targets built by `make fuzz` (docs/fuzzing.md), each for FUZZ_SECONDS,
# from a working corpus in $FUZZ_BUILD/corpus/<target> (grown from the committed seeds and
# the kept regressions, which stay untouched). Prints each target's executions and coverage;
# a crash, leak, timeout or out-of-memory input is copied to tests/fuzz/crashes/<target>/
# and fails the run after every target has had its turn.
#   FUZZ_BUILD=build-fuzz FUZZ_SECONDS=60 tests/fuzz/run.sh fuzz_onnx fuzz_engine ...
set -uo pipefail
cd "$(dirname "$0")/../.."
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

# Inputs up to this size: a little over the largest seed, so mutations can grow them.
max_len() {
  case "$1" in
    fuzz_runtime_cache) echo 16384 ;;
    *) echo 131072 ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
summary=()
for target in "$@"; do
  bin=$FUZZ_BUILD/$target
  work=$FUZZ_BUILD/corpus/$target
  artifacts=$FUZZ_BUILD/artifacts/$target
  log=$FUZZ_BUILD/logs/$target.log
  # Earlier runs' findings were copied out already; only this run's may fail it.
  rm -rf "$artifacts"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  seeds=(tests/fuzz/corpus/$target)
  [ -d tests/fuzz/regressions/$target ] && seeds+=(tests/fuzz/regressions/$target)
  echo "fuzz: $target for ${FUZZ_SECONDS}s (log: $log)"
  "$bin" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=20 \
    -max_len="$(max_len "$target")" -dict="tests/fuzz/$target.dict" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  # libFuzzer's status lines end with the final one: "#N DONE cov: C ft: F corp: ..."
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$')
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -oE '[0-9]+$')
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
  corp=$(grep -oE 'corp: [0-9]+' <<<"$last" | grep -oE '[0-9]+')
  line=$(printf '%-20s executions %-8s (%s/s)  cov %-6s ft %-6s corpus %s' "$target" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
  summary+=("$line")
  found=$(find "$artifacts" -type f | sort)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    failed+=("$target")
    mkdir -p "tests/fuzz/crashes/$target"
    for f in $found; do cp "$f" "tests/fuzz/crashes/$target/"; done
    echo "fuzz: $target FAILED (exit $rc); its report:"
    grep -nE 'ERROR: |FINDING|SUMMARY|runtime error|Test unit written|deadly signal' "$log" | head -20
    [ -n "$found" ] && echo "fuzz: inputs kept in tests/fuzz/crashes/$target/: $(basename -a $found | tr '\n' ' ')"
  fi
done
echo "fuzz: ${FUZZ_SECONDS}s per target"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}"
  exit 1
fi

#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang 14, ASan + UBSan) in build-fuzz/ and runs each
# for a given time on its seed corpus (fuzz/corpus/<name>/). See docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS] [NAME...]   SECONDS per fuzzer (default 60); NAMEs: all by default
#   scripts/fuzz.sh --build-only
#   PUSHGW_FUZZ_RUNS=1500 scripts/fuzz.sh 15   at most 1500 inputs each, seed 1 (CI's regression run)
#   PUSHGW_FUZZ_CPU=1 scripts/fuzz.sh 1800       SECONDS of each fuzzer's CPU time, not of the clock
#
# New corpus entries go to a scratch directory (PUSHGW_FUZZ_WORK, default build-fuzz/work/<name>),
# not into the repository; PUSHGW_FUZZ_MERGE=1 merges them into fuzz/corpus/<name>/ afterwards.
# A crash stops the run with a non-zero exit; its input stays in the work directory
# (crash-*, leak-*, timeout-*, oom-*) and the command to reproduce it is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzzers=(http_request job_decoder config_loader resp_reply provider_response h2_client_frames)
build_dir=${PUSHGW_FUZZ_BUILD:-build-fuzz}
work_root=${PUSHGW_FUZZ_WORK:-$build_dir/work}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}

build_only=0
seconds=60
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=("${fuzzers[@]}")
for name in "${selected[@]}"; do
  [[ " ${fuzzers[*]} " == *" $name "* ]] || { echo "fuzz: unknown fuzzer $name (known: ${fuzzers[*]})" >&2; exit 2; }
done

# -O1 with assertions on, as libFuzzer's documentation suggests; only the harnesses and the
# modules they link are built.
cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DPUSHGW_FUZZ=ON -DPUSHGW_TESTS=OFF >/dev/null
targets=()
for name in "${selected[@]}"; do targets+=(--target "fuzz_$name"); done
nice -n 10 cmake --build "$build_dir" -j"${PUSHGW_FUZZ_JOBS:-2}" "${targets[@]}"
[ "$build_only" = 0 ] || exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for name in "${selected[@]}"; do
  work="$work_root/$name"
  mkdir -p "$work/corpus"
  options=(-max_total_time="$seconds" -artifact_prefix="$work/" -print_final_stats=1 -timeout=10
           -rss_limit_mb=2048 -max_len=16384)
  [ -f "fuzz/dict/$name.dict" ] && options+=(-dict="fuzz/dict/$name.dict")
  # A fixed number of inputs from a fixed seed (CI): the same inputs on every run, so a slower
  # or faster machine never turns up a new crash by chance; finding new ones is the long runs' job.
  [ -n "${PUSHGW_FUZZ_RUNS:-}" ] && options+=(-runs="$PUSHGW_FUZZ_RUNS" -seed="${PUSHGW_FUZZ_SEED:-1}")
  echo "== fuzz $name for ${seconds}s =="
  log="$work/fuzz.log"
  set +e
  if [ "${PUSHGW_FUZZ_CPU:-0}" = 1 ]; then
    # SECONDS of the fuzzer's own CPU time rather than of the clock, so that a run on a shared
    # machine counts what it really got; SIGINT ends it with libFuzzer's final stats.
    options[0]=-max_total_time=$((seconds * 20))
    nice -n 10 "$build_dir/fuzz/fuzz_$name" "${options[@]}" "$work/corpus" "fuzz/corpus/$name" >"$log" 2>&1 &
    pid=$!
    ticks=$(getconf CLK_TCK)
    interrupted=0
    while kill -0 "$pid" 2>/dev/null; do
      cpu=$(awk -v t="$ticks" '{print int(($14 + $15) / t)}' "/proc/$pid/stat" 2>/dev/null || echo 0)
      if [ "${cpu:-0}" -ge "$seconds" ]; then
        kill -INT "$pid"
        interrupted=1
        break
      fi
      sleep 2
    done
    wait "$pid"
    status=$?
    if [ "$interrupted" = 1 ] && grep -q "run interrupted" "$log"; then status=0; fi
    echo "cpu_seconds: $cpu"
  else
    nice -n 10 "$build_dir/fuzz/fuzz_$name" "${options[@]}" "$work/corpus" "fuzz/corpus/$name" >"$log" 2>&1
    status=$?
  fi
  set -e
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" || true
  if [ "$status" != 0 ]; then
    tail -n 60 "$log"
    for artifact in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -e "$artifact" ] && echo "fuzz: $name failed; reproduce with: $build_dir/fuzz/fuzz_$name $artifact"
    done
    failed+=("$name")
    break
  fi
  if [ "${PUSHGW_FUZZ_MERGE:-0}" = 1 ]; then
    "$build_dir/fuzz/fuzz_$name" -merge=1 "fuzz/corpus/$name" "$work/corpus" >/dev/null 2>&1
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: no crash in ${selected[*]}"

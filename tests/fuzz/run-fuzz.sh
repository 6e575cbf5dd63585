#!/bin/sh
# run-fuzz.sh SOURCE_DIR BUILD_DIR SECONDS TARGET MAX_LEN SEED_DIR...
# Builds the libFuzzer target TARGET with clang (ASan + UBSan) in BUILD_DIR
# (a separate clang build of the tree; only TARGET is built) and fuzzes it for
# SECONDS on a copy of the seed directories (relative to SOURCE_DIR), with
# the dictionary tests/fuzz/TARGET.dict when there is one. Fails on
# any crash, leak or sanitizer report. Crash inputs are kept for reproduction
# in BUILD_DIR/TARGET-artifacts/:
#   BUILD_DIR/.../TARGET BUILD_DIR/TARGET-artifacts/crash-...
# Used by the xml_fuzz and fdpass_broker_fuzz tests.
set -eu

source_dir=$(cd "${1:?source dir}" && pwd)
build_dir=${2:?build dir}
seconds=${3:?seconds}
target=${4:?fuzz target}
max_len=${5:?max input length}
shift 5

if ! command -v clang++ >/dev/null 2>&1; then
  echo "run-fuzz.sh: clang++ is not installed (scripts/install-deps installs it)" >&2
  exit 1
fi

mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
log="$build_dir/$target-build.log"

# Tests stay on so that the tests/ folders holding fuzz targets are configured.
if ! CC=clang CXX=clang++ cmake -S "$source_dir" -B "$build_dir" \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSECLABEL_FUZZ=ON \
     -DSECLABEL_TESTS=ON -DSECLABEL_BENCH=OFF >"$log" 2>&1 ||
   ! cmake --build "$build_dir" --target "$target" -j2 >>"$log" 2>&1; then
  echo "run-fuzz.sh: building $target failed; see $log" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
binary=$(find "$build_dir/tests" -type f -name "$target" -perm -u+x | head -n 1)

# libFuzzer writes new inputs into the first corpus directory: fuzz a copy.
corpus="$build_dir/$target-corpus"
artifacts="$build_dir/$target-artifacts"
rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
for seeds in "$@"; do
  find "$source_dir/$seeds" -type f -exec cp {} "$corpus/" \;
done

# Tokens the fuzzer would take long to find by mutation (element and
# attribute names, enum values).
dict=
if [ -f "$source_dir/tests/fuzz/$target.dict" ]; then
  dict="-dict=$source_dir/tests/fuzz/$target.dict"
fi

fuzz_log="$build_dir/$target.log"
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
"$binary" "$corpus" ${dict:+"$dict"} \
  -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 |
  tee "$fuzz_log" | grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|Done|==[0-9]+==ERROR|SUMMARY)' || true

# tee hides the fuzzer's exit status: judge by the log.
if grep -qE '==[0-9]+==ERROR|SUMMARY: |deadly signal|Test unit written' "$fuzz_log"; then
  echo "run-fuzz.sh: $target found a problem; see $fuzz_log and $artifacts" >&2
  exit 1
fi
grep -q '^Done ' "$fuzz_log" || { echo "run-fuzz.sh: $target did not finish" >&2; exit 1; }
echo "run-fuzz.sh: $target: no crash in ${seconds}s"

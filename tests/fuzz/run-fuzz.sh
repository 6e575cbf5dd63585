#!/bin/sh
# run-fuzz.sh SOURCE_DIR BUILD_DIR SECONDS
# Builds the libFuzzer target with clang (ASan + UBSan) in BUILD_DIR and fuzzes
# parseDomainXml and the label parsers for SECONDS, seeded from tests/data/xml
# and tests/fuzz/label-seeds. Fails on any crash, leak or sanitizer report.
# Crash inputs are kept in BUILD_DIR/artifacts/ for reproduction:
#   BUILD_DIR/tests/fuzz/xml_fuzzer BUILD_DIR/artifacts/crash-...
set -eu

source_dir=$(cd "${1:?source dir}" && pwd)
build_dir=${2:?build dir}
seconds=${3:-60}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "run-fuzz.sh: clang++ is not installed (scripts/install-deps installs it)" >&2
  exit 1
fi

mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
log="$build_dir/build.log"

# Tests stay on so that tests/fuzz is configured; only xml_fuzzer is built.
if ! CC=clang CXX=clang++ cmake -S "$source_dir" -B "$build_dir" \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSECLABEL_FUZZ=ON \
     -DSECLABEL_TESTS=ON -DSECLABEL_BENCH=OFF >"$log" 2>&1 ||
   ! cmake --build "$build_dir" --target xml_fuzzer -j2 >>"$log" 2>&1; then
  echo "run-fuzz.sh: building the fuzzer failed; see $log" >&2
  tail -n 30 "$log" >&2
  exit 1
fi

# libFuzzer writes new inputs into the first corpus directory: fuzz a copy.
corpus="$build_dir/corpus"
artifacts="$build_dir/artifacts"
rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
find "$source_dir/tests/data/xml" "$source_dir/tests/fuzz/label-seeds" -type f \
  -exec cp {} "$corpus/" \;

UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
"$build_dir/tests/fuzz/xml_fuzzer" "$corpus" \
  -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 |
  tee "$build_dir/fuzz.log" | grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::number_of_executed_units|Done|==[0-9]+==ERROR|SUMMARY)' || true

# tee hides the fuzzer's exit status: judge by the log.
if grep -qE '==[0-9]+==ERROR|SUMMARY: |deadly signal|Test unit written' "$build_dir/fuzz.log"; then
  echo "run-fuzz.sh: the fuzzer found a problem; see $build_dir/fuzz.log and $artifacts" >&2
  exit 1
fi
grep -q '^Done ' "$build_dir/fuzz.log" || { echo "run-fuzz.sh: the fuzzer did not finish" >&2; exit 1; }
echo "run-fuzz.sh: no crash in ${seconds}s"

#!/bin/sh
# run-broker-fuzz.sh SOURCE_DIR BUILD_DIR SECONDS
# Builds the broker request parser's libFuzzer target with clang (ASan +
# UBSan) in BUILD_DIR and fuzzes it for SECONDS, seeded from
# tests/fdpass/fuzz/seeds. Fails on any crash, leak, sanitizer report or
# round-trip mismatch. Crash inputs are kept in BUILD_DIR/artifacts/:
#   BUILD_DIR/tests/fdpass/broker_request_fuzzer BUILD_DIR/artifacts/crash-...
set -eu

source_dir=$(cd "${1:?source dir}" && pwd)
build_dir=${2:?build dir}
seconds=${3:-60}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "run-broker-fuzz.sh: clang++ is not installed (scripts/install-deps installs it)" >&2
  exit 1
fi

mkdir -p "$build_dir"
build_dir=$(cd "$build_dir" && pwd)
log="$build_dir/build.log"

if ! CC=clang CXX=clang++ cmake -S "$source_dir" -B "$build_dir" \
     -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSECLABEL_FUZZ=ON \
     -DSECLABEL_TESTS=ON -DSECLABEL_BENCH=OFF >"$log" 2>&1 ||
   ! cmake --build "$build_dir" --target broker_request_fuzzer -j2 >>"$log" 2>&1; then
  echo "run-broker-fuzz.sh: building the fuzzer failed; see $log" >&2
  tail -n 30 "$log" >&2
  exit 1
fi

# libFuzzer writes new inputs into the first corpus directory: fuzz a copy.
corpus="$build_dir/broker-corpus"
artifacts="$build_dir/broker-artifacts"
rm -rf "$corpus"
mkdir -p "$corpus" "$artifacts"
cp "$source_dir"/tests/fdpass/fuzz/seeds/* "$corpus/"

# -max_len a little over the parser's 4096-byte limit, so the limit is hit.
exec "$build_dir/tests/fdpass/broker_request_fuzzer" \
  -max_total_time="$seconds" -max_len=4200 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus"

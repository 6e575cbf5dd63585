#!/usr/bin/env bash
# The installed package as a consumer sees it, without root: install into a
# fresh prefix; only the public header and the headers it includes are
# there; a program finds the library with find_package(seclabel), builds
# against seclabel::seclabel and runs (tests/install/consumer/);
# examples/launcher builds with the CMake package and with pkg-config.
set -euo pipefail
build_dir=$1
source_dir=$2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

fail() { echo "FAIL: $*"; exit 1; }
[ -f "$prefix/include/seclabel/seclabel/seclabel.h" ] || fail "no <seclabel/seclabel.h>"
[ -f "$prefix/lib/cmake/seclabel/seclabelTargets.cmake" ] || fail "no exported targets"
# Internal headers stay in the source tree.
for internal in fdpass policy net cgroup tools secdriver/safe_file.h alloc/sqlite_store.h; do
  [ ! -e "$prefix/include/seclabel/$internal" ] || fail "internal header installed: $internal"
done
grep -q -- '^Cflags:.*-std=' "$prefix/lib/pkgconfig/seclabel.pc" && fail "seclabel.pc forces a -std"
grep -q '^Requires.*libcurl' "$prefix/lib/pkgconfig/seclabel.pc" && fail "seclabel.pc requires libcurl"

cmake -S "$source_dir/tests/install/consumer" -B "$work/consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null || fail "find_package(seclabel)"
cmake --build "$work/consumer" >"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; fail "consumer build"; }
LD_LIBRARY_PATH=$prefix/lib "$work/consumer/package-consumer" || fail "consumer run"

cmake -S "$source_dir/examples/launcher" -B "$work/example" \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null || fail "examples/launcher: find_package"
cmake --build "$work/example" >"$work/example.log" 2>&1 || { cat "$work/example.log"; fail "examples/launcher build (CMake)"; }
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046
g++ -std=c++20 -o "$work/pkgconfig-launcher" "$source_dir/examples/launcher/launcher.cc" \
  $(pkg-config --cflags --libs seclabel) || fail "examples/launcher build (pkg-config)"
echo "PASS: installed package: public headers only, find_package and pkg-config consumers build and run"

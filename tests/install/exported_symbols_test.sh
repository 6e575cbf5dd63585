#!/usr/bin/env bash
# libseclabel.so exports its public API and nothing else: the symbols of
# namespace seclabel it exports (nm -D, demangled) are exactly those listed
# in exported_symbols.txt (the SECLABEL_API declarations, core/export.h),
# and every other exported symbol is an instantiation of a standard library
# template (weak, libstdc++'s own ABI): nothing of libsepol, pugixml, toml++
# or an internal layer.
#
#   exported_symbols_test.sh LIBRARY EXPECTED [--update]
set -euo pipefail
library=$1
expected=$2

actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
nm -DC --defined-only "$library" | cut -d' ' -f3- | sort -u >"$actual"

if [ "${3:-}" = "--update" ]; then
  grep 'seclabel::' "$actual" >"$expected"
  echo "wrote $expected ($(wc -l <"$expected") symbols)"
  exit 0
fi

status=0
if ! diff -u "$expected" <(grep 'seclabel::' "$actual"); then
  echo "FAIL: the exported seclabel:: symbols differ from $expected (- expected, + exported)."
  echo "      A new public API: mark it SECLABEL_API and run this script with --update."
  status=1
fi
others=$(grep -v 'seclabel::' "$actual" | grep -v 'std::' || true)
if [ -n "$others" ]; then
  echo "FAIL: exported symbols outside the public API:"
  echo "$others" | head -40
  status=1
fi
total=$(wc -l <"$actual")
ours=$(grep -c 'seclabel::' "$actual" || true)
echo "libseclabel.so exports $total symbols: $ours of the public API, $((total - ours)) standard library template instances"
exit $status

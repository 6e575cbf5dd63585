#!/bin/bash
# Load-independent companion of scale.sh: instructions executed (callgrind)
# and system calls made (strace -c -f) by one command against an empty store
# and against filled ones. Instruction counts do not depend on how loaded
# the machine is; they do depend on the WAL's length (each process rebuilds
# the WAL index when it opens the store), so every measured command starts
# from a checkpointed, empty WAL.
#
# Per store (the probe guest of scale.sh in each, plus SIZES filled guests):
#   prepare, then restore (callgrind), dominfo probe, run -- /bin/true
#   (callgrind: the launcher only, not the guest command), and one prepare
#   under strace -c -f (all system calls, pread64 alone).
#
# Usage (root): bench/scale/counts.sh [SECLABEL [PREFILL]]
# Env: SIZES (default "10000"; 0 is always measured).
set -euo pipefail

SECLABEL=$(realpath "${1:-build/tools/seclabel}")
PREFILL=$(realpath "${2:-build/bench/scale/prefill_store}")
SIZES=${SIZES:-10000}
export AUDIT_SINK=none
. "$(dirname "$0")/../lib/whole_process.sh"
bench_require_root counts.sh
for tool in valgrind strace sqlite3; do
  command -v $tool >/dev/null || { echo "counts.sh: needs $tool (scripts/install-deps)" >&2; exit 1; }
done

bench_make_workdir
bench_write_config "$work/seclabel.toml" 1879048192-1879310335

empty_wal() { sqlite3 "$1/state.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; }
instructions() {  # the command's instructions, callgrind's "summary" line
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" "$@" >/dev/null 2>&1
  sed -n 's/^summary: //p' "$work/callgrind.out"
}

printf '| guests | prepare | restore | prepare+restore | dominfo | run -- /bin/true | prepare: syscalls | prepare: pread64 |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for size in 0 $SIZES; do
  state="$work/state-$size"
  cli=("$SECLABEL" --config "$work/seclabel.toml" --state-dir "$state")
  [ "$size" -gt 0 ] && "$PREFILL" --config "$work/seclabel.toml" --state-dir "$state" --guests "$size" 2>/dev/null
  bench_make_disk "$work/probe-$size.qcow2"
  bench_make_disk "$work/bench-$size.qcow2"
  bench_write_domain "$work/probe-$size.xml" probe "$work/probe-$size.qcow2"
  bench_write_domain "$work/guest-$size.xml" bench-guest "$work/bench-$size.qcow2"
  "${cli[@]}" prepare "$work/probe-$size.xml" >/dev/null 2>&1
  # One lifecycle untimed, so every store has compiled its way through the
  # same code once (nothing here is cached across processes but the kernel's).
  "${cli[@]}" prepare "$work/guest-$size.xml" >/dev/null 2>&1
  "${cli[@]}" restore bench-guest

  empty_wal "$state"
  prepare=$(instructions "${cli[@]}" prepare "$work/guest-$size.xml")
  restore=$(instructions "${cli[@]}" restore bench-guest)
  empty_wal "$state"
  dominfo=$(instructions "${cli[@]}" dominfo probe)
  empty_wal "$state"
  run=$(instructions "${cli[@]}" run "$work/guest-$size.xml" -- /bin/true)
  empty_wal "$state"
  strace -c -f -o "$work/strace.txt" "${cli[@]}" prepare "$work/guest-$size.xml" >/dev/null 2>&1
  "${cli[@]}" restore bench-guest
  syscalls=$(awk '$NF == "total" { print $4 }' "$work/strace.txt")
  pread=$(awk '$NF == "pread64" { print $4 }' "$work/strace.txt")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$size" "$prepare" "$restore" \
    "$((prepare + restore))" "$dominfo" "$run" "$syscalls" "${pread:-0}"
done

#!/bin/bash
# Whole-process cost of one guest lifecycle under seclabel against the bare
# identity switch:
#   A: seclabel run DOMAIN.xml -- /bin/true   (selinux + dac, one qcow2 disk:
#      prepare, label, start the child, identity, exec, wait, restore,
#      release)
#   B: setpriv --reuid=U --regid=G --clear-groups --inh-caps=-all
#      --bounding-set=-all --no-new-privs -- /bin/true
# Both are run alternately (A B A B ...) in one session, each timed from
# fork to reap, so drift in machine load hits both alike. Reports the median
# of each and the difference; then, as a cross-check, hyperfine on each.
#
# Usage (root): bench/launcher/lifecycle.sh [SECLABEL] [RUNS]
#   SECLABEL  the built binary (default build/tools/seclabel)
#   RUNS      pairs to time (default 300)
# Env: AUDIT_SINK=none|kernel (default none).
set -euo pipefail

SECLABEL=${1:-build/tools/seclabel}
RUNS=${2:-300}
export AUDIT_SINK=${AUDIT_SINK:-none}
SECLABEL=$(realpath "$SECLABEL")
. "$(dirname "$0")/../lib/whole_process.sh"
bench_require_root lifecycle.sh

bench_make_workdir
bench_make_disk "$work/disk.qcow2"
bench_write_config "$work/seclabel.toml"
bench_write_domain "$work/guest.xml" bench-guest "$work/disk.qcow2"

A=("$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" run "$work/guest.xml" -- /bin/true)
# The ids seclabel allocates first on this fresh store (the same each run).
"$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" prepare "$work/guest.xml" >/dev/null 2>&1
ids=$(bench_dac_ids_of "$SECLABEL" "--config $work/seclabel.toml --state-dir $work/state" bench-guest)
"$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" restore bench-guest
U=${ids%%:*}; G=${ids##*:}
B=(setpriv --reuid="$U" --regid="$G" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- /bin/true)

bench_machine_line
echo "A: ${A[*]}"
echo "B: ${B[*]}"

PYTHONPATH="$BENCH_LIB_DIR" python3 - "$RUNS" "${#A[@]}" "${A[@]}" "${B[@]}" <<'PY'
import statistics, sys
from whole_process import run_timed, quantile as q
runs = int(sys.argv[1]); n = int(sys.argv[2]); rest = sys.argv[3:]
a, b = rest[:n], rest[n:]
def once(cmd):
    return run_timed(cmd)[0]
for _ in range(10):  # warm-up, untimed
    once(a); once(b)
ta, tb = [], []
for i in range(runs):
    if i % 2: tb.append(once(b)); ta.append(once(a))
    else:     ta.append(once(a)); tb.append(once(b))
ma, mb = statistics.median(ta), statistics.median(tb)
print(f"alternated, {runs} pairs (ms):        median   p10    p90")
print(f"  A seclabel run             {ma:8.2f} {q(ta,.1):6.2f} {q(ta,.9):6.2f}")
print(f"  B setpriv                  {mb:8.2f} {q(tb,.1):6.2f} {q(tb,.9):6.2f}")
print(f"  added by seclabel (A - B)  {ma - mb:8.2f} ms   (target <= 4 ms)")
diffs = [x - y for x, y in zip(ta, tb)]
print(f"  median of paired A - B     {statistics.median(diffs):8.2f} ms")
PY

# Syncs per lifecycle: the store keeps its WAL between processes and
# checkpoints it every few lifecycles, so count over 14 runs.
if command -v strace >/dev/null; then
  syncs=0
  for _ in $(seq 14); do
    n=$(strace -f -e trace=fsync,fdatasync -o /dev/stdout "${A[@]}" 2>/dev/null | grep -c 'sync(' || true)
    syncs=$((syncs + n))
  done
  echo "fsync+fdatasync: $syncs in 14 lifecycles"
fi

if command -v hyperfine >/dev/null; then
  echo "cross-check (hyperfine -N, not alternated):"
  hyperfine -N --warmup 10 --runs 100 --style basic \
    -n seclabel-run "$(printf '%q ' "${A[@]}")" \
    -n setpriv "$(printf '%q ' "${B[@]}")" 2>&1 | grep -E "Time|Range|±|faster|seclabel-run|setpriv" || true
fi

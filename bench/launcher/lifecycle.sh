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
AUDIT_SINK=${AUDIT_SINK:-none}
SECLABEL=$(realpath "$SECLABEL")
[ "$(id -u)" = 0 ] || { echo "lifecycle.sh: needs root (chown, setuid)" >&2; exit 1; }

work=$(mktemp -d /tmp/seclabel-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
qemu-img create -q -f qcow2 "$work/disk.qcow2" 1M
chmod 600 "$work/disk.qcow2"
cat > "$work/seclabel.toml" <<TOML
security_driver = ["selinux", "dac"]
fdpass = "never"
[dac]
range = "1879048192-1879113727"
groups = []
[audit]
sink = "$AUDIT_SINK"
[process]
no_new_privs = true
TOML
cat > "$work/guest.xml" <<XML
<domain type='qemu'>
  <name>bench-guest</name>
  <uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$work/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
  <seclabel type='dynamic' model='selinux' relabel='yes'/>
  <seclabel type='dynamic' model='dac' relabel='yes'/>
</domain>
XML

A=("$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" run "$work/guest.xml" -- /bin/true)
# The ids seclabel allocates first on this fresh store (the same each run).
"$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" prepare "$work/guest.xml" >/dev/null 2>&1
ids=$("$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" list --json |
      python3 -c 'import json,sys; l=json.load(sys.stdin)[0]["labels"]["dac"]["label"]; print(l.replace("+",""))')
"$SECLABEL" --config "$work/seclabel.toml" --state-dir "$work/state" restore bench-guest
U=${ids%%:*}; G=${ids##*:}
B=(setpriv --reuid="$U" --regid="$G" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- /bin/true)

echo "machine: $(nproc) cores, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A: ${A[*]}"
echo "B: ${B[*]}"

python3 - "$RUNS" "${#A[@]}" "${A[@]}" "${B[@]}" <<'PY'
import os, statistics, subprocess, sys, time
runs = int(sys.argv[1]); n = int(sys.argv[2]); rest = sys.argv[3:]
a, b = rest[:n], rest[n:]
devnull = subprocess.DEVNULL
def once(cmd):
    t = time.perf_counter_ns()
    r = subprocess.run(cmd, stdout=devnull, stderr=devnull)
    dt = (time.perf_counter_ns() - t) / 1e6
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} exited {r.returncode}")
    return dt
for _ in range(10):  # warm-up, untimed
    once(a); once(b)
ta, tb = [], []
for i in range(runs):
    if i % 2: tb.append(once(b)); ta.append(once(a))
    else:     ta.append(once(a)); tb.append(once(b))
def q(v, p): return sorted(v)[int(p * (len(v) - 1))]
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

#!/bin/bash
# Whole-process cost of what a guest gets beyond its identity under
# `seclabel run -- /bin/true`:
#   net0 / net1 / net8   0, 1 or 8 bridge interfaces, each named on the
#                        command line ({netdev:netN}: ACL check, intent in
#                        the store, tap created, owned, attached, up,
#                        audited, deleted at stop); [cgroup] devices = "off"
#   cg-off / cg-auto     no interface; [cgroup] devices = "off" against
#                        "auto" (cgroup v1 here: create, deny all, allow the
#                        default list and the pty major, enter before exec,
#                        remove after the guest is reaped)
# All five are run round-robin (one of each, then again) in one session,
# each timed from fork to reap, so drift in machine load hits them alike;
# medians and the differences are printed. Runs in a network namespace of
# its own (never the host's links) with the host's cgroup v1 devices
# hierarchy mounted again inside it.
#
# Usage (root): bench/launcher/host_objects.sh [SECLABEL] [ROUNDS]
#   SECLABEL  the built binary (default build/tools/seclabel)
#   ROUNDS    rounds of the five (default 200)
set -euo pipefail

SECLABEL=$(realpath "${1:-build/tools/seclabel}")
ROUNDS=${2:-200}
. "$(dirname "$0")/../lib/whole_process.sh"
bench_require_root host_objects.sh

if [ -z "${SECLABEL_BENCH_IN_NETNS:-}" ]; then
  export SECLABEL_BENCH_IN_NETNS=1
  exec unshare --net --mount --propagation private "$0" "$SECLABEL" "$ROUNDS"
fi
mount -t sysfs sysfs /sys
mount -t tmpfs none /sys/fs/cgroup
mkdir /sys/fs/cgroup/devices
mount -t cgroup -o devices none /sys/fs/cgroup/devices
ip link set lo up
ip link add br0 type bridge
ip link set br0 up

bench_make_workdir "rmdir /sys/fs/cgroup/devices/seclabel-bench-$$ 2>/dev/null || true"
echo "allow br0" > "$work/bridge.conf"
chmod 644 "$work/bridge.conf"

config() {  # $1 path, $2 [cgroup] devices
  cat > "$1" <<TOML
security_driver = ["dac"]
fdpass = "never"
[audit]
sink = "none"
[network]
bridge_acl = "$work/bridge.conf"
[cgroup]
devices = "$2"
parent = "seclabel-bench-$$"
TOML
}
domain() {  # $1 path, $2 name, $3 interfaces
  {
    echo "<domain type='qemu'><name>$2</name><devices>"
    for ((i = 0; i < $3; i++)); do echo "<interface type='bridge'><source bridge='br0'/></interface>"; done
    echo "</devices><seclabel type='dynamic' model='dac' relabel='yes'/></domain>"
  } > "$1"
}
config "$work/off.toml" off
config "$work/auto.toml" auto
for n in 0 1 8; do domain "$work/net$n.xml" "bench-net$n" "$n"; done

netdevs() { for ((i = 0; i < $1; i++)); do printf ' {netdev:net%d}' "$i"; done; }
run() {  # $1 config, $2 domain, $3 interfaces named
  # shellcheck disable=SC2046
  echo "$SECLABEL" --config "$1" --state-dir "$work/state" run "$2" -- /bin/true $(netdevs "$3")
}

bench_machine_line
PYTHONPATH="$BENCH_LIB_DIR" python3 - "$ROUNDS" \
  "net0|$(run "$work/off.toml" "$work/net0.xml" 0)" \
  "net1|$(run "$work/off.toml" "$work/net1.xml" 1)" \
  "net8|$(run "$work/off.toml" "$work/net8.xml" 8)" \
  "cg-off|$(run "$work/off.toml" "$work/net0.xml" 0)" \
  "cg-auto|$(run "$work/auto.toml" "$work/net0.xml" 0)" <<'PY'
import sys
from whole_process import run_timed, median, quantile
rounds = int(sys.argv[1])
variants = [(v.split('|', 1)[0], v.split('|', 1)[1].split(' ')) for v in sys.argv[2:]]
for name, argv in variants:
    print(f"{name}: {' '.join(argv)}")
    for _ in range(5):  # warm-up, untimed
        run_timed(argv)
times = {name: [] for name, _ in variants}
for _ in range(rounds):
    for name, argv in variants:
        times[name].append(run_timed(argv)[0])
print(f"{rounds} rounds, wall ms from fork to reap:")
for name, _ in variants:
    t = times[name]
    print(f"  {name:8s} median {median(t):7.2f}  p10 {quantile(t, .1):7.2f}  p90 {quantile(t, .9):7.2f}")
m = {name: median(t) for name, t in times.items()}
print(f"  1 interface:  +{m['net1'] - m['net0']:.2f} ms over none")
print(f"  8 interfaces: +{m['net8'] - m['net0']:.2f} ms over none ({(m['net8'] - m['net0']) / 8:.2f} ms each)")
print(f"  cgroup auto:  +{m['cg-auto'] - m['cg-off']:.2f} ms over off")
PY

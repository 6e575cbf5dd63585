# Shared by the whole-process benchmark scripts (bench/launcher/lifecycle.sh,
# bench/scale/scale.sh); source it, do not run it. Each function says what
# it sets or prints; none of them changes anything outside the work dir.

BENCH_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Exits unless root: the benchmarks chown images and switch identities.
bench_require_root() {
  [ "$(id -u)" = 0 ] || { echo "$1: needs root (chown, setuid)" >&2; exit 1; }
}

# Sets $work to a fresh directory (0755, so a guest identity can reach its
# image), removed when the script exits. $1: extra commands to run first at
# exit (e.g. stopping daemons the script started).
bench_make_workdir() {
  work=$(mktemp -d /tmp/seclabel-bench-XXXXXX)
  # shellcheck disable=SC2064
  trap "${1:-}${1:+; }rm -rf '$work'" EXIT
  chmod 755 "$work"
}

# A 1 MiB qcow2 image, mode 0600, owned by root: $1 the path.
bench_make_disk() {
  qemu-img create -q -f qcow2 "$1" 1M
  chmod 600 "$1"
}

# The benchmarks' config: selinux + dac, no fd passing, audit sink
# $AUDIT_SINK (default none). $1 the path, $2 the DAC range (default: the
# built-in one, 65,536 ids).
bench_write_config() {
  cat > "$1" <<TOML
security_driver = ["selinux", "dac"]
fdpass = "never"
[dac]
range = "${2:-1879048192-1879113727}"
groups = []
[audit]
sink = "${AUDIT_SINK:-none}"
[process]
no_new_privs = true
TOML
}

# A one-disk domain with dynamic selinux and dac labels (the shape
# bench/scale/store_fill.cc fills stores with). $1 path, $2 name, $3 disk
# image, $4 uuid (default: a fresh one).
bench_write_domain() {
  cat > "$1" <<XML
<domain type='qemu'>
  <name>$2</name>
  <uuid>${4:-$(cat /proc/sys/kernel/random/uuid)}</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$3'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
  <seclabel type='dynamic' model='selinux' relabel='yes'/>
  <seclabel type='dynamic' model='dac' relabel='yes'/>
</domain>
XML
}

# Prints "U:G", the DAC ids of guest $3 in the store: $1 seclabel, $2 the
# --config/--state-dir arguments as one string.
bench_dac_ids_of() {
  # shellcheck disable=SC2086
  "$1" $2 dominfo --json "$3" |
    python3 -c 'import json,sys
for s in json.load(sys.stdin)["security"]:
    if s["model"] == "dac": print(s["label"].replace("+", ""))'
}

# One line: cores, OS, kernel, load average now.
bench_machine_line() {
  echo "machine: $(nproc) cores, $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

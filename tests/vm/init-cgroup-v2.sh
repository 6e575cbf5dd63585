#!/bin/sh
# /init of the cgroup v2 device ACL run (run-vm-test.sh --init). The kernel
# mounts no cgroup v1 hierarchy here: cgroup2 is the only device controller,
# its BPF hook the only thing that can refuse a device. It only reports
# facts, one `SECLABEL-VM: ...` line each; check-cgroup-v2.sh judges.
#
# Files it expects: /bin/busybox (+ applet links), /bin/cgroup_v2_tool and
# /bin/cgroup_device_probe (static).
export PATH=/bin:/sbin
marker() { echo "SECLABEL-VM: $*"; }
GUEST_UUID=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo 1 >/proc/sys/kernel/printk
mount -t cgroup2 cgroup2 /sys/fs/cgroup || marker "cgroup2-mount FAILED"
marker "boot ok kernel=$(uname -r) cgroup2=$(grep -c ' - cgroup2 ' /proc/self/mountinfo)"

# Control 1: no cgroup of ours, no program: both devices open.
cgroup_device_probe r:/dev/null r:/dev/zero | sed 's/^/SECLABEL-VM: control-root /'

# Control 2: a v2 cgroup without a program: still both (so the EPERM below
# is the program's, not the cgroup's).
mkdir /sys/fs/cgroup/plain
(echo 0 >/sys/fs/cgroup/plain/cgroup.procs &&
  exec cgroup_device_probe r:/dev/zero cgroup) | sed 's/^/SECLABEL-VM: control-plain /'
rmdir /sys/fs/cgroup/plain

# The guest: seclabel's cgroup code allows /dev/null (and the pty major)
# and nothing else; the probe runs inside.
# The tool's own lines are markers already; the probe's get "acl ".
cgroup_v2_tool seclabel "$GUEST_UUID" /dev/null -- /bin/cgroup_device_probe \
  r:/dev/null rw:/dev/null r:/dev/zero cgroup |
  while read -r line; do
    case $line in
      SECLABEL-VM:*) echo "$line" ;;
      *) marker "acl $line" ;;
    esac
  done
marker "left $(ls /sys/fs/cgroup/seclabel | grep -c -- -)"

# The launcher: `seclabel exec` prepares a guest whose config requires the
# device controller and allows /dev/null alone, creates its cgroup under the
# configured parent, enters it and execs the probe as the guest (dac: a
# guest uid, not root). Config, store and audit file live on a tmpfs that
# only root can change (seclabel checks that). The domain has no disks, so
# /dev/null and the pty major are all the program allows.
EXEC_UUID=3f6b2d8c-7a41-4e95-b0c2-5d8e9f1a2b3c
mkdir -p /run/sl && mount -t tmpfs -o mode=0755 tmpfs /run/sl
cat >/run/sl/guest.xml <<XML
<domain type='kvm'>
  <name>cgroupguest</name>
  <uuid>$EXEC_UUID</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
</domain>
XML
# write_config FILE DEVICES: the guest's config with `[cgroup] devices`.
write_config() {
  cat >"$1" <<TOML
security_driver = ["dac"]
fdpass = "never"

[audit]
sink = "file:/run/sl/audit.jsonl"

[cgroup]
devices = "$2"
parent = "machine.slice/seclabel"
device_acl = ["/dev/null"]
TOML
  chmod 0644 "$1"
}
write_config /run/sl/required.toml required
write_config /run/sl/off.toml off
# exec_probe CONFIG PREFIX: `seclabel exec` of the probe, its lines marked
# with PREFIX, then the restore's exit status.
exec_probe() {
  (exec seclabel --config "$1" --state-dir /run/sl/state \
    exec /run/sl/guest.xml -- /bin/cgroup_device_probe \
    ids r:/dev/null rw:/dev/null r:/dev/zero cgroup </dev/null
  ) | sed "s/^/SECLABEL-VM: $2 /"
  seclabel --config "$1" --state-dir /run/sl/state restore cgroupguest >/dev/null
  marker "$2 restore-exit $?"
}
exec_probe /run/sl/required.toml exec
marker "exec left $(ls /sys/fs/cgroup/machine.slice/seclabel | grep -c -- -)"
grep '"cgroup"' /run/sl/audit.jsonl | sed 's/^/SECLABEL-VM: exec-audit /'
# Control: the same exec with `[cgroup] devices = "off"`: no cgroup, no
# program, the same guest uid; /dev/zero opens.
exec_probe /run/sl/off.toml exec-off
marker "done"
poweroff -f

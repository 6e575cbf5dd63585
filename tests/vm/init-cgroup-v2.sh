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
marker "done"
poweroff -f

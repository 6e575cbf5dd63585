#!/bin/sh
# /init of the enforcing-kernel VM test (tests/vm/run-vm-test.sh builds the
# initramfs). It only reports facts, one `SECLABEL-VM: ...` line each, over
# the serial console; the host side decides pass or fail.
#
# Files it expects in the initramfs:
#   /bin/busybox (+ applet links), /bin/vm_helper (static)
#   /policy/test.policy         the compiled test policy
#   /images/a.img /images/b.img /images/shared.img
#   /vmtest.conf                LAUNCHER=helper|seclabel
#   with LAUNCHER=seclabel also /bin/seclabel and its libraries,
#   /guests/guestA.xml /guests/guestB.xml, /etc/seclabel/*.toml
export PATH=/bin:/sbin
marker() { echo "SECLABEL-VM: $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel gave init /dev/console if the initramfs had one; reopen it from
# devtmpfs so the markers reach the serial port either way.
exec </dev/console >/dev/console 2>&1
mount -t selinuxfs selinuxfs /sys/fs/selinux || marker "selinuxfs-mount FAILED"
mount -t securityfs securityfs /sys/kernel/security
. /vmtest.conf
# Kernel messages (AVC records among them) stay in dmesg instead of being
# interleaved with the markers on the console.
echo 1 >/proc/sys/kernel/printk
marker "boot ok launcher=$LAUNCHER lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"

if vm_helper load /policy/test.policy; then
  marker "policy-loaded ok"
else
  marker "policy-loaded FAILED"
fi
marker "enforce $(cat /sys/fs/selinux/enforce)"
marker "init-context $(cat /proc/self/attr/current)"

# The images live on a tmpfs mounted after the policy load: fs_use_trans
# tmpfs makes its files labelable. Mode 0666 so that DAC allows every read
# and any EACCES below is SELinux's (the guests also run as a non-root uid,
# so root's capabilities are not what lets a read through).
mkdir -p /img
mount -t tmpfs -o mode=0755 tmpfs /img
for image in a b shared; do
  cp /images/$image.img /img/$image.img
  chmod 0666 /img/$image.img
done

GUEST_A_CONTEXT=system_u:system_r:svirt_t:s0:c1,c2
GUEST_B_CONTEXT=system_u:system_r:svirt_t:s0:c3,c4
GUEST_A_UID=1879048193
GUEST_B_UID=1879048194

# run_as_guest GUEST CONTEXT UID -- CMD...: exec CMD as the guest (call it
# in a subshell). With the helper launcher the labels are fixed here; with
# seclabel they are what seclabel allocates and writes to the images.
run_as_guest() {
  guest=$1 context=$2 uid=$3
  shift 4
  if [ "$LAUNCHER" = seclabel ]; then
    # --tty: the guest's markers go to the serial console, a terminal, which
    # seclabel otherwise replaces by /dev/null for the guest.
    exec seclabel --config "$SECLABEL_CONFIG" --state-dir "$SECLABEL_STATE" \
      exec --tty /guests/$guest.xml -- "$@"
  else
    exec vm_helper runas "$context" "$uid" -- "$@"
  fi
}

if [ "$LAUNCHER" != seclabel ]; then
  vm_helper label /img/a.img system_u:object_r:svirt_image_t:s0:c1,c2
  vm_helper label /img/b.img system_u:object_r:svirt_image_t:s0:c3,c4
  # A shareable disk: the image type at s0, no categories.
  vm_helper label /img/shared.img system_u:object_r:svirt_image_t:s0
fi

# wait_until_guest PID: until the process runs in svirt_t (the exec into
# the guest happened), or it died.
wait_until_guest() {
  tries=0
  while [ $tries -lt 600 ]; do
    case "$(cat /proc/$1/attr/current 2>/dev/null)" in
      *:svirt_t:*) return 0 ;;
    esac
    kill -0 $1 2>/dev/null || return 1
    tries=$((tries + 1))
    sleep 0.05
  done
  return 1
}

# guest_pass PASS: both guests run at the same time (each one prepared and
# its images labeled while the other reads), then each reads its own image,
# the other guest's image and the shareable one.
guest_pass() {
  pass=$1
  rm -f /tmp/go
  (run_as_guest guestA "$GUEST_A_CONTEXT" $GUEST_A_UID -- /bin/vm_helper readall \
    "$pass guestA" /tmp/go own=/img/a.img other=/img/b.img shared=/img/shared.img) &
  pid_a=$!
  wait_until_guest $pid_a || marker "$pass guestA did-not-start"
  (run_as_guest guestB "$GUEST_B_CONTEXT" $GUEST_B_UID -- /bin/vm_helper readall \
    "$pass guestB" /tmp/go own=/img/b.img other=/img/a.img shared=/img/shared.img) &
  pid_b=$!
  wait_until_guest $pid_b || marker "$pass guestB did-not-start"
  for image in a b shared; do
    marker "$pass image $image $(vm_helper context /img/$image.img)"
  done
  if [ "$LAUNCHER" = seclabel ]; then
    for guest in guestA guestB; do
      seclabel --config "$SECLABEL_CONFIG" --state-dir "$SECLABEL_STATE" dominfo $guest |
        sed -n "s/^Security label: */SECLABEL-VM: $pass dominfo $guest /p"
    done
  fi
  touch /tmp/go
  wait $pid_a $pid_b
  if [ "$LAUNCHER" = seclabel ]; then
    # The guests are gone: restore their images before the next pass.
    seclabel --config "$SECLABEL_CONFIG" --state-dir "$SECLABEL_STATE" recover >/dev/null
  fi
}

if [ "$LAUNCHER" = seclabel ]; then
  # Pass 1, the selinux driver alone: the guests stay root and DAC cannot be
  # what denies. Pass 2, selinux and dac as deployed.
  SECLABEL_CONFIG=/etc/seclabel/selinux-only.toml SECLABEL_STATE=/tmp/state-selinux
  guest_pass selinux-only
  SECLABEL_CONFIG=/etc/seclabel/selinux-dac.toml SECLABEL_STATE=/tmp/state-dac
fi
guest_pass enforcing

# The kernel's own record of each denial (not ours): guest A's pair reading
# guest B's image and the other way round.
dmesg | grep 'avc:  denied' | grep 'svirt_t' | while read -r line; do
  marker "avc ${line#*avc:  }"
done

# Control: permissive mode. The same cross read must now succeed, or the
# denials above were not SELinux's.
echo 0 >/sys/fs/selinux/enforce
marker "enforce $(cat /sys/fs/selinux/enforce)"
guest_pass permissive
marker "done"
poweroff -f

#!/bin/sh
# run-vm-test.sh: guest isolation under a real enforcing SELinux kernel.
#
#   run-vm-test.sh --policy POLICY --kernel VMLINUX --helper VM_HELPER
#                  --workdir DIR [--busybox PATH] [--seclabel BINARY]
#                  [--timeout SECONDS]
#
# Builds an initramfs (busybox as the shell of /init, vm_helper, the compiled
# policy, three images; with --seclabel also the seclabel binary, the
# libraries ldd lists, two guests' domain XMLs and configs), boots it under
# QEMU/TCG with `lsm=selinux enforcing=1`, reads the `SECLABEL-VM:` marker
# lines from the serial console and checks them.
#
# Other runs on the same kernel replace the script and its judge:
#   --init FILE     the VM's /init (default init.sh, the SELinux test)
#   --check FILE    judges the console log (default check-markers.sh)
#   --append TEXT   the kernel command line after console=ttyS0 (default
#                   `lsm=selinux enforcing=1`)
#   --bin FILE      copied into the VM's /bin, stripped (repeatable; static
#                   binaries)
# --policy is needed by the default init only.
#
# Exit status: 0 isolation holds; 1 the VM ran and isolation did NOT hold
# (a cross read succeeded, an own read failed, no AVC, permissive did not
# let the read through); 2 the harness could not run the test (boot
# failure, timeout, missing markers, missing input).
set -u
here=$(cd "$(dirname "$0")" && pwd)
policy= kernel= helper= workdir= seclabel= timeout=50 bins=
init=$here/init.sh check=$here/check-markers.sh append='lsm=selinux enforcing=1'
busybox=$(command -v busybox || echo /bin/busybox)
while [ $# -gt 0 ]; do
  case $1 in
    --policy) policy=$2 ;; --kernel) kernel=$2 ;; --helper) helper=$2 ;;
    --workdir) workdir=$2 ;; --busybox) busybox=$2 ;; --seclabel) seclabel=$2 ;;
    --timeout) timeout=$2 ;; --init) init=$2 ;; --check) check=$2 ;;
    --append) append=$2 ;; --bin) bins="$bins $2" ;;
    *) echo "run-vm-test.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
[ "$init" = "$here/init.sh" ] || [ -n "$policy" ] || policy=/dev/null
for input in "$policy" "$kernel" "$helper" "$busybox" "$init" "$check" $bins; do
  [ -r "$input" ] || { echo "run-vm-test.sh: cannot read '$input'" >&2; exit 2; }
done
[ -n "$workdir" ] || { echo "run-vm-test.sh: --workdir is required" >&2; exit 2; }

root=$workdir/initramfs
rm -rf "$root" && mkdir -p "$root"/bin "$root"/proc "$root"/sys "$root"/dev \
  "$root"/tmp "$root"/policy "$root"/images "$root"/guests "$root"/etc/seclabel || exit 2
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
cp "$helper" "$root/bin/vm_helper"
# Stripped: debug info would only make the initramfs slower to unpack
# under emulation.
for bin in $bins; do
  strip -o "$root/bin/$(basename "$bin")" "$bin" 2>/dev/null || cp "$bin" "$root/bin/"
done
cp "$policy" "$root/policy/test.policy"
cp "$init" "$root/init" && chmod 0755 "$root/init"
for image in a b shared; do
  printf 'image %s\n' "$image" >"$root/images/$image.img"
done
if [ -n "$seclabel" ]; then
  cp "$seclabel" "$root/bin/seclabel"
  # The dynamic loader and every library, at the paths ldd names.
  for lib in $(ldd "$seclabel" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
  done
  cp "$here/guestA.xml" "$here/guestB.xml" "$root/guests/"
  cp "$here/selinux-only.toml" "$here/selinux-dac.toml" "$root/etc/seclabel/"
  echo LAUNCHER=seclabel >"$root/vmtest.conf"
  # libselinux reports SELinux enabled only when this file exists.
  mkdir -p "$root/etc/selinux"
  printf 'SELINUX=enforcing\nSELINUXTYPE=seclabel-test\n' >"$root/etc/selinux/config"
else
  echo LAUNCHER=helper >"$root/vmtest.conf"
fi
mknod "$root/dev/console" c 5 1 2>/dev/null || true
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$workdir/initramfs.cpio.gz" || exit 2

log=$workdir/console.log
# -no-reboot + panic=-1: a kernel panic or init's poweroff ends QEMU at once.
timeout --kill-after=5 "$timeout" qemu-system-x86_64 -accel tcg -nodefaults \
  -display none -serial stdio -no-reboot -m 512 \
  -kernel "$kernel" -initrd "$workdir/initramfs.cpio.gz" \
  -append "console=ttyS0 $append panic=-1" </dev/null >"$log" 2>&1
qemu_status=$?
grep 'SECLABEL-VM:' "$log" | tr -d '\r'
if [ $qemu_status -eq 124 ] || [ $qemu_status -eq 137 ]; then
  echo "run-vm-test.sh: the VM did not finish within ${timeout}s (console: $log)" >&2
  exit 2
fi
exec "$check" "$log" "${seclabel:+seclabel}"

#!/bin/sh
# check-markers.sh CONSOLE_LOG [seclabel]: judges the VM's marker lines.
# Exit 0 isolation holds, 1 it does not, 2 the run is incomplete.
set -u
log=$1
launcher=${2:-helper}
markers=$(grep -a 'SECLABEL-VM:' "$log" | tr -d '\r' | sed 's/^.*SECLABEL-VM: //')
has() { printf '%s\n' "$markers" | grep -q -- "$1"; }
incomplete=0 failed=0
need() {  # PATTERN DESCRIPTION: a marker without which nothing can be judged
  has "$1" || { echo "INCOMPLETE: $2"; incomplete=1; }
}
expect() {  # PATTERN DESCRIPTION
  if has "$1"; then echo "PASS: $2"; else echo "FAIL: $2"; failed=1; fi
}
need '^done' 'the VM did not reach the end of its script'
need '^policy-loaded ok' 'the test policy did not load'
need "^boot ok .*selinux" 'SELinux is not the active LSM'
has '^policy-loaded ok' && expect '^enforce 1' 'the kernel enforces after the policy load'
passes=enforcing
[ "$launcher" = seclabel ] && passes='selinux-only enforcing'
for pass in $passes; do
  for guest in guestA guestB; do
    expect "^$pass $guest-own ok .*ctx=system_u:system_r:svirt_t:s0:c" \
      "$pass: $guest reads its own image, running in svirt_t with categories"
    expect "^$pass $guest-other EACCES .*ctx=system_u:system_r:svirt_t:s0:c" \
      "$pass: $guest gets EACCES on the other guest's image"
    expect "^$pass $guest-shared ok " "$pass: $guest reads the shareable s0 image"
  done
done
expect '^avc denied .*scontext=system_u:system_r:svirt_t:s0:c[0-9]*,c[0-9]* tcontext=system_u:object_r:svirt_image_t:s0:c[0-9]*,c[0-9]* tclass=file' \
  'the kernel logged the AVC denial of a cross read'
if [ "$launcher" = seclabel ]; then
  expect '^enforcing dominfo guestA system_u:system_r:svirt_t:s0:c[0-9]*,c[0-9]* (enforcing)' \
    'seclabel dominfo shows the guest label (enforcing)'
  expect '^permissive dominfo guestA .*(permissive)' 'seclabel dominfo shows (permissive)'
fi
expect '^enforce 0' 'control: permissive mode was set'
expect '^permissive guestA-other ok ' 'control: in permissive mode the cross read succeeds'
[ $incomplete -eq 1 ] && exit 2
if [ $failed -eq 1 ]; then
  echo "isolation FAILED (console log: $log)"
  exit 1
fi
echo "isolation holds under the enforcing kernel"
exit 0

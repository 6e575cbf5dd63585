#!/bin/sh
# check-cgroup-v2.sh CONSOLE_LOG: judges the cgroup v2 run's markers
# (init-cgroup-v2.sh). Exit 0 the ACL holds, 1 it does not, 2 the run is
# incomplete.
set -u
log=$1
uuid=6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c
exec_uuid=3f6b2d8c-7a41-4e95-b0c2-5d8e9f1a2b3c
markers=$(grep -a 'SECLABEL-VM:' "$log" | tr -d '\r' | sed 's/^.*SECLABEL-VM: //')
has() { printf '%s\n' "$markers" | grep -q -- "$1"; }
incomplete=0 failed=0
need() {
  has "$1" || { echo "INCOMPLETE: $2"; incomplete=1; }
}
expect() {
  if has "$1"; then echo "PASS: $2"; else echo "FAIL: $2"; failed=1; fi
}
need '^done' 'the VM did not reach the end of its script'
need '^boot ok .*cgroup2=1' 'cgroup2 is not mounted in the VM'
expect '^controller v2 /sys/fs/cgroup$' 'mountinfo shows cgroup2 as the device controller'
expect '^control-root r:/dev/zero ok' 'control: outside any cgroup /dev/zero opens'
expect '^control-plain r:/dev/zero ok' 'control: in a v2 cgroup without the program /dev/zero opens'
expect '^control-plain cgroup 0::/plain;' 'control: that process was in the plain cgroup'
expect "^record virt=kvm resrc=cgroup reason=deny vm=\"vm-guest\" uuid=$uuid cgroup=\"/sys/fs/cgroup/seclabel/$uuid\" class=all res=success" \
  'deny-all (the program attached) is audited as success'
expect "^record .*reason=allow .*class=major category=pty maj=88 acl=rw res=success" \
  'the pty major is allowed and audited'
expect "^record .*reason=allow .*class=path path=\"/dev/null\" rdev=01:03 acl=rw res=success" \
  '/dev/null is allowed and audited with its rdev'
expect "^acl cgroup 0::/seclabel/$uuid;" 'the guest process ran in its v2 cgroup'
expect '^acl r:/dev/null ok' 'the guest reads /dev/null'
expect '^acl rw:/dev/null ok' 'the guest opens /dev/null for writing'
expect '^acl r:/dev/zero EPERM' 'the guest gets EPERM opening /dev/zero'
expect '^exit 0' 'the guest process exited normally'
expect '^removed' 'the cgroup was removed after the guest exited'
expect '^left 0' 'nothing is left under the parent'
# Through the launcher: `seclabel exec`, [cgroup] devices = "required",
# parent = "machine.slice/seclabel", device_acl = ["/dev/null"].
exec_cgroup=/sys/fs/cgroup/machine.slice/seclabel/$exec_uuid
guest_id='1879[0-9]\{6\}'
expect "^exec ids uid=$guest_id/$guest_id/$guest_id gid=$guest_id/$guest_id/$guest_id$" \
  'seclabel exec ran the probe as a guest uid and gid (dac), not root'
expect "^exec cgroup 0::/machine.slice/seclabel/$exec_uuid;$" \
  'seclabel exec put the guest in its cgroup under the configured parent'
expect '^exec r:/dev/null ok' 'the seclabel guest reads /dev/null'
expect '^exec rw:/dev/null ok' 'the seclabel guest opens /dev/null for writing'
expect '^exec r:/dev/zero EPERM' 'the seclabel guest gets EPERM opening /dev/zero'
expect "^exec-audit .*\"reason\":\"deny\",\"vm\":\"cgroupguest\",\"uuid\":\"$exec_uuid\",\"cgroup\":\"$exec_cgroup\",\"class\":\"all\",\"res\":\"success\"" \
  'seclabel audited the deny-all of its guest cgroup'
expect "^exec-audit .*\"reason\":\"allow\",.*\"cgroup\":\"$exec_cgroup\",\"class\":\"path\",\"path\":\"/dev/null\",\"rdev\":\"01:03\",\"acl\":\"rw\",\"res\":\"success\"" \
  'seclabel audited /dev/null allowed in its guest cgroup'
expect '^exec restore-exit 0' 'seclabel restore of the guest succeeded'
expect '^exec left 0' 'the restore removed the guest cgroup'
expect "^exec-off ids uid=$guest_id/" 'control: with devices = "off" the probe still runs as a guest uid'
expect '^exec-off cgroup 0::/;$' 'control: with devices = "off" the guest is in no cgroup of seclabel'
expect '^exec-off r:/dev/zero ok' 'control: with devices = "off" the same guest opens /dev/zero'
expect '^exec-off restore-exit 0' 'control: seclabel restore after it succeeded'
[ $incomplete -eq 1 ] && exit 2
if [ $failed -eq 1 ]; then
  echo "cgroup v2 device ACL FAILED (console log: $log)"
  exit 1
fi
echo "the cgroup v2 device ACL holds"
exit 0

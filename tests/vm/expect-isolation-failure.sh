#!/bin/sh
# expect-isolation-failure.sh HARNESS_ARGS...: the control that proves the
# VM test can fail. Runs run-vm-test.sh (with the policy whose MCS file
# constraints were removed) and passes only when the harness ran to the end
# and reported that a guest read the other guest's image: exit status 1 and
# the FAIL line. A boot failure or timeout (status 2) fails this control too.
here=$(cd "$(dirname "$0")" && pwd)
output=$("$here/run-vm-test.sh" "$@")
status=$?
printf '%s\n' "$output"
if [ $status -ne 1 ]; then
  echo "control FAILED: expected the harness to report broken isolation (status 1), got $status"
  exit 1
fi
if ! printf '%s\n' "$output" | grep -q "^FAIL: enforcing: guestA gets EACCES on the other guest's image"; then
  echo "control FAILED: the harness failed, but not on the cross read"
  exit 1
fi
echo "control passed: without the MCS constraints the VM test reports the cross read"

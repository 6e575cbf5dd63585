#!/bin/sh
# module_test.sh SECLABEL_PP POLICY_CHECK EXPECTATIONS WORKDIR
# Links seclabel.pp with every module of Debian's reference policy
# (selinux-policy-default), expands the result to a kernel policy, as
# `semodule -i` would on a host, and checks the module's expectations
# against it. Exit 77 (skip) when the distribution's modules are absent.
set -eu
module=$1 check=$2 expectations=$3 work=$4
modules=/usr/share/selinux/default
if [ ! -e "$modules/base.pp.bz2" ] || ! command -v semodule_link >/dev/null; then
  echo "skipped: $modules/base.pp.bz2 or semodule_link absent (selinux-policy-default, semodule-utils)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work/modules"
for package in "$modules"/*.pp.bz2; do
  bzip2 -dc "$package" >"$work/modules/$(basename "$package" .bz2)"
done
others=$(ls "$work"/modules/*.pp | grep -v '/base\.pp$')
semodule_link -o "$work/linked.pp" "$work/modules/base.pp" $others "$module" >/dev/null
semodule_expand "$work/linked.pp" "$work/policy.kern"
exec "$check" "$work/policy.kern" "$expectations"

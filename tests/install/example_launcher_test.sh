#!/usr/bin/env bash
# The public API as a launcher sees it: install libseclabel into a fresh
# prefix, build examples/launcher against it twice (CMake package, then
# pkg-config), and launch a command as a guest with each build: the command
# runs under the guest's uid, owns its disk while it runs, and the disk's
# original owner is back afterwards.
set -euo pipefail
build_dir=$1
source_dir=$2
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"  # the guest uid must reach its disk
prefix=$work/prefix

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
cmake -S "$source_dir/examples/launcher" -B "$work/cmake-build" \
  -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export PKG_CONFIG_PATH
# shellcheck disable=SC2046
g++ -std=c++20 -o "$work/pkgconfig-launcher" "$source_dir/examples/launcher/launcher.cc" \
  $(pkg-config --cflags --libs seclabel)

mkdir -p "$work/images"
truncate -s 1M "$work/images/disk.img"
chown 0:0 "$work/images/disk.img"
chmod 0600 "$work/images/disk.img"
cat >"$work/seclabel.toml" <<TOML
security_driver = ["dac"]
[dac]
range = "1879100000-1879100099"
[audit]
sink = "none"
[cgroup]
devices = "off"
TOML
cat >"$work/guest.xml" <<XML
<domain type='kvm'>
  <name>install-test</name>
  <devices>
    <disk type='file' device='disk'>
      <source file='$work/images/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML

for launcher in "$work/cmake-build/example-launcher" "$work/pkgconfig-launcher"; do
  out=$(LD_LIBRARY_PATH=$prefix/lib "$launcher" "$work/seclabel.toml" "$work/state" \
        "$work/guest.xml" /bin/sh -c "id -u; stat -c %u '$work/images/disk.img'")
  echo "$out"
  # The guest's two lines are the only all-digit ones (its output and the
  # launcher's may interleave).
  uid=$(echo "$out" | grep -E '^[0-9]+$' | sed -n 1p)
  owner=$(echo "$out" | grep -E '^[0-9]+$' | sed -n 2p)
  [ "$uid" -ge 1879100000 ] && [ "$uid" -le 1879100099 ] || { echo "FAIL: guest ran as uid $uid"; exit 1; }
  [ "$owner" = "$uid" ] || { echo "FAIL: disk owned by $owner while guest $uid ran"; exit 1; }
  echo "$out" | grep -q "resources restored" || { echo "FAIL: no restore line"; exit 1; }
  after=$(stat -c %u:%g:%a "$work/images/disk.img")
  [ "$after" = "0:0:600" ] || { echo "FAIL: disk is $after after the guest, expected 0:0:600"; exit 1; }
done
echo "PASS: launcher built against the installed package (CMake and pkg-config)"

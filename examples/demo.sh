#!/usr/bin/env bash
# The main job: launch a tiny real QEMU guest (TCG) under its own identity on
# the embedded default store, show its identity from a second process, stop
# it, and show that the disk's original owner and label are back.
set -euo pipefail
seclabel=$(realpath "${1:-seclabel}")
here=$(cd "$(dirname "$0")" && pwd)
work=/var/lib/seclabel-demo
audit_log=$work/audit.jsonl
config=$work/seclabel.toml
image=$work/demo-guest.qcow2
say() { printf '\n== %s\n' "$*"; }
xattr() { python3 -c 'import os,sys
try: print(os.getxattr(sys.argv[1], "security.selinux").rstrip(b"\0").decode())
except OSError: print("(none)")' "$1"; }

mkdir -p "$work"
rm -f "$audit_log"
sed "s|^sink = .*|sink = \"file:$audit_log\"|" "$here/seclabel.toml" >"$config"
qemu-img create -q -f qcow2 "$image" 64M
chown root:root "$image"
chmod 0600 "$image"
setfattr_py() { python3 -c 'import os,sys; os.setxattr(sys.argv[1], "security.selinux", sys.argv[2].encode()+b"\0")' "$@"; }
setfattr_py "$image" system_u:object_r:var_lib_t:s0

say "before: $image"
echo "owner $(stat -c '%U:%G (%u:%g) mode %a' "$image"), security.selinux $(xattr "$image")"

say "seclabel run examples/guest.xml -- qemu-system-x86_64 -accel tcg ... (in the background)"
"$seclabel" --config "$config" run "$here/guest.xml" -- \
  qemu-system-x86_64 -accel tcg -machine q35 -nodefaults -display none -m 64 \
  -drive "file={disk:vda},format=qcow2,if=virtio" &
runner=$!

# Wait for QEMU to be the running guest.
for _ in $(seq 1 100); do
  "$seclabel" --config "$config" list --json 2>/dev/null | grep -q '"state": "running"' && break
  sleep 0.1
done

say "seclabel dominfo demo-guest (a second process)"
"$seclabel" --config "$config" dominfo demo-guest
pid=$("$seclabel" --config "$config" dominfo demo-guest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
say "the QEMU process $pid, as the kernel sees it"
grep -E '^(Name|Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs):' "/proc/$pid/status"
echo "disk while running: owner $(stat -c '%u:%g' "$image"), security.selinux $(xattr "$image")"

sleep 2
say "stopping: SIGTERM to seclabel run, which forwards it to QEMU"
kill -TERM "$runner"
status=0
wait "$runner" || status=$?
echo "seclabel run exited with $status"

say "after: $image"
echo "owner $(stat -c '%U:%G (%u:%g) mode %a' "$image"), security.selinux $(xattr "$image")"
say "seclabel list (the store forgot the guest)"
"$seclabel" --config "$config" list
say "audit records ($audit_log)"
python3 -c 'import json,sys
for line in open(sys.argv[1]):
    r=json.loads(line); print(r["type"], " ".join(f"{k}={v}" for k,v in r.items() if k not in ("type","time")))' "$audit_log"
rm -rf "$work"

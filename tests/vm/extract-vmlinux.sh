#!/bin/sh
# extract-vmlinux.sh VMLINUZ OUT: the uncompressed kernel inside a bzImage.
# QEMU boots the ELF vmlinux directly (PVH entry), which under TCG saves the
# seconds the in-guest decompressor would take. Debian's kernel is xz.
set -eu
in=$1
out=$2
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
# Every offset where the xz stream magic (FD 37 7A 58 5A 00) appears; the
# first one that decompresses to an ELF file is the kernel.
for offset in $(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$in" | cut -d: -f1); do
  tail -c +$((offset + 1)) "$in" | xz -dc 2>/dev/null >"$tmp" || true
  if [ "$(head -c 4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    mv "$tmp" "$out"
    exit 0
  fi
done
echo "extract-vmlinux.sh: no xz-compressed ELF kernel in $in" >&2
exit 1

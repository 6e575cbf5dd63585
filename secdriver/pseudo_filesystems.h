// File systems whose files are kernel interfaces, not data.
//
// A "disk" or serial log on one of them is never a guest's file: chowning
// /sys/kernel/uevent_seqnum or handing out an O_RDWR fd of
// /proc/sys/kernel/core_pattern gives the guest a piece of the kernel
// (core_pattern is code execution as root). Resolution refuses every path
// that enters one of them (secdriver/guest_path.h).
#pragma once

#include <optional>
#include <string_view>

namespace seclabel {

// What resolution needs to know of the file system an object is on.
struct FilesystemKind {
  // The name of a kernel-interface file system ("proc", "sysfs", ...),
  // nullopt for one that holds data (ext4, xfs, tmpfs and devtmpfs, NFS, ...).
  std::optional<std::string_view> pseudo;
  // FUSE: every owner, mode, link count and symlink target there is
  // whatever its daemon answers, and any user may run one (fusermount).
  bool fuse = false;
};

// Decided by fstatfs' f_type (set by the kernel, never by a FUSE daemon)
// against the magic numbers of <linux/magic.h>. `fd` may be O_PATH. Throws
// Error when fstatfs fails.
FilesystemKind filesystemKindOf(int fd);

}  // namespace seclabel

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

// The name of the kernel-interface file system `fd` (any fd, O_PATH too) is
// on ("proc", "sysfs", ...), nullopt for a file system that holds data (ext4,
// xfs, tmpfs and devtmpfs, NFS, ...). Decided by fstatfs' f_type against the
// magic numbers of <linux/magic.h>. Throws Error when fstatfs fails.
std::optional<std::string_view> pseudoFilesystemOf(int fd);

}  // namespace seclabel

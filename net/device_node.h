// Opening a character device by its number, not by trusting a name.
//
// A macvtap's queue device is /dev/tapN (N = its ifindex), but ifindex
// numbers are per network namespace while devtmpfs is global: /dev/tap7 may
// be another namespace's macvtap, or missing. The device number in sysfs
// (/sys/class/net/NAME/macvtap/tapN/dev) is the truth; the node opened must
// carry it, checked on the open fd.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/unique_fd.h"

namespace seclabel {

// "MAJ:MIN\n" as sysfs writes it. Throws Error naming `path`.
dev_t parseSysfsDeviceNumber(const std::string& text, const std::string& path);

// Opens character device `rdev` O_RDWR|O_CLOEXEC: through `preferredPath`
// when that is a character node of this number (checked with lstat, opened
// O_NOFOLLOW, checked again on the fd), otherwise through a node made for
// the purpose in a fresh 0700 directory under `nodeDir` (removed before
// returning). Either way fstat(fd).st_rdev == rdev. Throws Error.
UniqueFd openCharDevice(const std::string& preferredPath, dev_t rdev, const std::string& nodeDir);

}  // namespace seclabel

// Reading the small files net/ needs, with a size bound and without being
// led elsewhere by a symlink. (core/ has no shared safe-read helper yet;
// when it gets one, these become thin callers of it.)
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace seclabel {

// An administrator's file (the bridge ACL and its includes): `path` must be
// absolute; it is opened with no symlink anywhere on the way
// (openat2 RESOLVE_NO_SYMLINKS) and must be a regular file of at most
// `limit` bytes, owned by root (or by this process's effective uid) and not
// writable by group or others: whoever may write it decides who gets
// which bridge. nullopt when it does not exist (ENOENT); every other
// problem throws Error(InvalidInput) naming the path.
std::optional<std::string> readAdminFile(const std::string& path, std::size_t limit);

// A sysfs attribute (at most `limit` bytes, O_NOFOLLOW). Throws Error naming
// the path; ENOENT keeps its errno so a caller can tell "gone".
std::string readSysfsFile(const std::string& path, std::size_t limit);

}  // namespace seclabel

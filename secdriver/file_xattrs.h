// Extended attributes of a file we hold an fd of: the one way seclabel reads
// and writes them (security.selinux through the selinux host, ACLs and file
// capabilities when a file is remembered and restored).
//
// xattrs cannot be read or written through an O_PATH fd directly; the
// /proc/self/fd/N magic link reaches the very inode the fd refers to, so the
// object checked when the fd was opened is the object read or changed.
// Values are bytes, exactly as the kernel gives them: nothing is added or
// trimmed (a security.selinux value keeps or lacks its trailing NUL).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace seclabel {

// The value of xattr `name`, nullopt when the object has none (ENODATA).
// Throws Error with errno otherwise (ENOTSUP/EOPNOTSUPP: the file system
// has no such xattrs).
std::optional<std::string> readXattr(int fd, const char* name);

// Sets `name` to exactly `value`. Throws Error with errno.
void writeXattr(int fd, const char* name, std::string_view value);

// Removes `name`; an absent one is fine. Throws Error with errno.
void removeXattr(int fd, const char* name);

// True for the errno values that say "this file system has no such xattrs".
bool isXattrUnsupported(int errnum);

}  // namespace seclabel

// Reading a file somebody named: the one way seclabel does it.
//
// Three rules, for every file read whole (the config, a domain XML, a policy,
// an expectations file):
//  - regular files only: a FIFO would block the command forever, a device
//    (/dev/zero) would never end, and opening a device at all can act on
//    it. The name is opened O_PATH first and only a regular file is opened
//    for reading (through /proc/self/fd, the very inode checked);
//  - a bound, checked while reading: at most `maxBytes` + 1 bytes are ever
//    read, so a file that grows while being read costs no more;
//  - for a file that decides what root does (the config), trust: it and
//    every directory on the way can be changed only by root or the caller
//    (core/trusted_path.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace seclabel {

enum class FileTrust {
  // Anyone's file: the caller named it and its content is checked.
  Any,
  // Only a file root (or the caller) alone can change: see trusted_path.h.
  RootOrCaller,
};

struct FileReadRules {
  std::string_view what;  // "config", "domain XML", ... for messages
  std::size_t maxBytes = 0;
  FileTrust trust = FileTrust::Any;
};

// The whole content of `path`. Errors (one line, naming WHAT and PATH):
//   missing or unreadable     Error(InvalidInput) with errnum() set (ENOENT...)
//   not a regular file        Error(InvalidInput) "... is not a regular file"
//   larger than maxBytes      Error(InvalidInput) "... is larger than N bytes"
//   untrusted (RootOrCaller)  Error(PermissionDenied)
std::string readRegularFile(const std::string& path, const FileReadRules& rules);

// Reads at most `maxBytes` + 1 bytes from `fd` (a regular file opened for
// reading); throws Error(InvalidInput) "WHAT PATH is larger than N bytes" past
// the bound.
std::string readBounded(int fd, const std::string& path, const FileReadRules& rules);

}  // namespace seclabel

#include "secdriver/file_xattrs.h"

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>

#include "core/error.h"

namespace seclabel {
namespace {

std::string procFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// The kernel's XATTR_SIZE_MAX: no value is larger.
constexpr std::size_t kMaxXattrSize = 65536;

}  // namespace

bool isXattrUnsupported(int errnum) { return errnum == ENOTSUP || errnum == EOPNOTSUPP; }

std::optional<std::string> readXattr(int fd, const char* name) {
  const std::string path = procFdPath(fd);
  std::string value(256, '\0');
  for (;;) {
    ssize_t n = ::getxattr(path.c_str(), name, value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<std::size_t>(n));
      return value;
    }
    if (errno == ENODATA) return std::nullopt;
    // The value grew since we asked for its size, or the first buffer was
    // too small: ask again.
    if (errno != ERANGE || value.size() >= kMaxXattrSize)
      throw Error::fromErrno(std::string("cannot read ") + name, errno);
    ssize_t size = ::getxattr(path.c_str(), name, nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA) return std::nullopt;
      throw Error::fromErrno(std::string("cannot read ") + name, errno);
    }
    value.resize(std::max<std::size_t>(static_cast<std::size_t>(size), value.size() * 2));
  }
}

void writeXattr(int fd, const char* name, std::string_view value) {
  if (::setxattr(procFdPath(fd).c_str(), name, value.data(), value.size(), 0) != 0)
    throw Error::fromErrno(std::string("cannot set ") + name, errno);
}

void removeXattr(int fd, const char* name) {
  if (::removexattr(procFdPath(fd).c_str(), name) != 0 && errno != ENODATA)
    throw Error::fromErrno(std::string("cannot remove ") + name, errno);
}

}  // namespace seclabel

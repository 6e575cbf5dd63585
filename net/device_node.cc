#include "net/device_node.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>

#include "core/error.h"

namespace seclabel {
namespace {

std::string formatDevice(dev_t rdev) {
  return std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
}

bool isCharDevice(const struct stat& st, dev_t rdev) {
  return S_ISCHR(st.st_mode) && st.st_rdev == rdev;
}

UniqueFd openVerified(const std::string& path, dev_t rdev) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!fd) throw Error::fromErrno("cannot open " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) throw Error::fromErrno("cannot stat " + path, errno);
  // The node may have been replaced between lstat and open.
  if (!isCharDevice(st, rdev))
    throw Error(ExitCode::Failed, path + " is no longer character device " + formatDevice(rdev));
  return fd;
}

}  // namespace

dev_t parseSysfsDeviceNumber(const std::string& text, const std::string& path) {
  std::string_view view(text);
  if (!view.empty() && view.back() == '\n') view.remove_suffix(1);
  auto colon = view.find(':');
  unsigned maj = 0, min = 0;
  bool ok = colon != std::string_view::npos;
  if (ok) {
    auto [endMajor, errMajor] = std::from_chars(view.data(), view.data() + colon, maj);
    auto [endMinor, errMinor] =
        std::from_chars(view.data() + colon + 1, view.data() + view.size(), min);
    ok = errMajor == std::errc() && endMajor == view.data() + colon && colon > 0 &&
         errMinor == std::errc() && endMinor == view.data() + view.size() &&
         colon + 1 < view.size();
  }
  if (!ok) throw Error(ExitCode::Failed, path + ": not a device number MAJ:MIN");
  return makedev(maj, min);
}

UniqueFd openCharDevice(const std::string& preferredPath, dev_t rdev, const std::string& nodeDir) {
  struct stat st;
  if (::lstat(preferredPath.c_str(), &st) == 0 && isCharDevice(st, rdev))
    return openVerified(preferredPath, rdev);

  // Our own node in a directory only root can enter: nobody can swap it.
  // It lives under /dev because other mounts are often nodev.
  std::string dirTemplate = nodeDir + "/.seclabel-node-XXXXXX";
  if (!::mkdtemp(dirTemplate.data()))
    throw Error::fromErrno("cannot make a directory for device " + formatDevice(rdev) +
                               " under " + nodeDir,
                           errno);
  std::string node = dirTemplate + "/dev";
  if (::mknod(node.c_str(), S_IFCHR | 0600, rdev) != 0) {
    int err = errno;
    ::rmdir(dirTemplate.c_str());
    throw Error::fromErrno("cannot make a node for device " + formatDevice(rdev) + " in " +
                               dirTemplate,
                           err);
  }
  try {
    UniqueFd fd = openVerified(node, rdev);
    ::unlink(node.c_str());
    ::rmdir(dirTemplate.c_str());
    return fd;
  } catch (...) {
    ::unlink(node.c_str());
    ::rmdir(dirTemplate.c_str());
    throw;
  }
}

}  // namespace seclabel

#include "net/vhost_net.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "core/error.h"

namespace seclabel {

std::vector<UniqueFd> openVhostNet(const std::string& path, unsigned queues, VhostRequest request,
                                   const DeviceOpenObserver& observer) {
  std::vector<UniqueFd> fds;
  if (request == VhostRequest::Off) return fds;
  struct stat st;
  if (request == VhostRequest::Auto && ::lstat(path.c_str(), &st) != 0 && errno == ENOENT)
    return fds;  // not on this host, not asked for: not an attempt
  for (unsigned i = 0; i < queues; ++i) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW));
    int err = fd ? 0 : errno;
    if (fd && (::fstat(fd.get(), &st) != 0 || !S_ISCHR(st.st_mode))) {
      err = ENODEV;
    }
    if (err != 0) {
      if (observer) observer(fd ? fd.get() : -1, false);
      fds.clear();
      if (request == VhostRequest::Required)
        throw Error::fromErrno("cannot open " + path + " (vhost-net was requested)",
                               err == ENODEV ? ENODEV : err);
      return fds;
    }
    if (observer) observer(fd.get(), true);
    fds.push_back(std::move(fd));
  }
  return fds;
}

}  // namespace seclabel

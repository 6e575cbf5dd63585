#include "net/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace seclabel {
namespace {

UniqueFd openTun(const std::string& path, const DeviceOpenObserver& observer) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    int err = errno;
    if (observer) observer(-1, false);
    throw Error::fromErrno("cannot open " + path, err);
  }
  return fd;
}

// TUNSETIFF on `fd`; returns the tap's name as the kernel chose it.
std::string setInterface(int fd, const std::string& nameOrTemplate, unsigned flags,
                         const std::string& what) {
  ifreq request{};
  std::memcpy(request.ifr_name, nameOrTemplate.data(),
              std::min(nameOrTemplate.size(), sizeof request.ifr_name - 1));
  request.ifr_flags = static_cast<short>(flags);
  if (::ioctl(fd, TUNSETIFF, &request) != 0) {
    int err = errno;
    std::string reason = what;
    if (err == EBUSY && (flags & IFF_TUN_EXCL)) reason += " (an interface of that name exists)";
    throw Error::fromErrno(reason, err);
  }
  return std::string(request.ifr_name, strnlen(request.ifr_name, sizeof request.ifr_name));
}

}  // namespace

unsigned tunFeatures(int tunFd) {
  unsigned features = 0;
  if (::ioctl(tunFd, TUNGETFEATURES, &features) != 0)
    throw Error::fromErrno("cannot read the tun driver's features (TUNGETFEATURES)", errno);
  return features;
}

std::vector<TunQueue> createTap(const TunCreateSpec& spec, const DeviceOpenObserver& observer) {
  if (spec.queues == 0) throw Error::invalidInput("a tap needs at least one queue");
  std::vector<TunQueue> queues;
  std::string name;
  for (unsigned i = 0; i < spec.queues; ++i) {
    UniqueFd fd = openTun(spec.tunPath, observer);
    try {
      unsigned features = tunFeatures(fd.get());
      unsigned flags = IFF_TAP | IFF_NO_PI;
      // The virtio-net header lets QEMU pass offloads through; QEMU probes
      // the fd for it, so it is set whenever the kernel offers it.
      if (features & IFF_VNET_HDR) flags |= IFF_VNET_HDR;
      if (spec.queues > 1) {
        if (!(features & IFF_MULTI_QUEUE))
          throw Error(ExitCode::Failed, "cannot create tap " + spec.nameOrTemplate + " with " +
                                            std::to_string(spec.queues) +
                                            " queues: the kernel offers no multi-queue taps");
        flags |= IFF_MULTI_QUEUE;
      }
      if (i == 0) {
        name = setInterface(fd.get(), spec.nameOrTemplate, flags | IFF_TUN_EXCL,
                            "cannot create tap " + spec.nameOrTemplate);
        // Owner and group make the tap the guest's: the kernel lets that
        // uid/gid attach queues without CAP_NET_ADMIN, and
        // /sys/class/net/NAME/owner shows whose it is.
        if (::ioctl(fd.get(), TUNSETOWNER, static_cast<unsigned long>(spec.owner)) != 0)
          throw Error::fromErrno("cannot set the owner of tap " + name + " to " +
                                     std::to_string(spec.owner),
                                 errno);
        if (::ioctl(fd.get(), TUNSETGROUP, static_cast<unsigned long>(spec.group)) != 0)
          throw Error::fromErrno("cannot set the group of tap " + name + " to " +
                                     std::to_string(spec.group),
                                 errno);
      } else {
        // The tap exists while queue 0's fd is open, so the name cannot
        // have been taken by another device since.
        setInterface(fd.get(), name, flags,
                     "cannot open queue " + std::to_string(i) + " of tap " + name);
      }
    } catch (...) {
      if (observer) observer(fd.get(), false);
      throw;
    }
    if (observer) observer(fd.get(), true);
    queues.push_back({std::move(fd), name});
  }
  return queues;
}

std::vector<TunQueue> attachTap(const std::string& tunPath, const InterfaceName& name,
                                unsigned queues, bool multiQueue,
                                const DeviceOpenObserver& observer) {
  if (queues == 0) throw Error::invalidInput("a tap needs at least one queue");
  std::vector<TunQueue> result;
  for (unsigned i = 0; i < queues; ++i) {
    UniqueFd fd = openTun(tunPath, observer);
    std::string attached;
    try {
      unsigned flags = IFF_TAP | IFF_NO_PI;
      if (tunFeatures(fd.get()) & IFF_VNET_HDR) flags |= IFF_VNET_HDR;
      // The kernel refuses an attach whose multi-queue flag differs from
      // the tap's (EINVAL).
      if (multiQueue) flags |= IFF_MULTI_QUEUE;
      attached = setInterface(fd.get(), name.str(), flags,
                              "cannot attach to tap " + name.str() +
                                  (queues > 1 ? " (queue " + std::to_string(i) + ")" : ""));
    } catch (...) {
      if (observer) observer(fd.get(), false);
      throw;
    }
    if (observer) observer(fd.get(), true);
    result.push_back({std::move(fd), attached});
  }
  return result;
}

}  // namespace seclabel

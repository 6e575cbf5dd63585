#include "net/macvtap_queues.h"

#include <unistd.h>

#include <cerrno>

#include "core/error.h"
#include "net/bounded_file.h"
#include "net/device_node.h"
#include "secdriver/selinux_host.h"

namespace seclabel {

dev_t macvtapDeviceNumber(const std::string& sysClassNet, const LinkInfo& link) {
  std::string path = sysClassNet + "/" + link.name + "/macvtap/tap" +
                     std::to_string(link.ifindex) + "/dev";
  return parseSysfsDeviceNumber(readSysfsFile(path, 64), path);
}

std::string macvtapDevicePath(const std::string& devDir, const LinkInfo& link) {
  return devDir + "/tap" + std::to_string(link.ifindex);
}

std::vector<UniqueFd> openMacvtapQueues(const LinkInfo& link, const MacvtapQueueSpec& spec,
                                        SelinuxHost* selinux,
                                        const DeviceOpenObserver& observer) {
  if (spec.queues == 0) throw Error::invalidInput("a macvtap needs at least one queue");
  dev_t rdev = macvtapDeviceNumber(spec.sysClassNet, link);
  std::string path = macvtapDevicePath(spec.devDir, link);
  std::vector<UniqueFd> fds;
  for (unsigned i = 0; i < spec.queues; ++i) {
    UniqueFd fd;
    try {
      fd = openCharDevice(path, rdev, spec.devDir);
    } catch (...) {
      if (observer) observer(-1, false);
      throw;
    }
    if (i == 0) {
      try {
        if (::fchown(fd.get(), spec.owner, spec.group) != 0)
          throw Error::fromErrno("cannot chown " + path + " to +" + std::to_string(spec.owner) +
                                     ":+" + std::to_string(spec.group),
                                 errno);
        if (spec.imageLabel && selinux) {
          try {
            selinux->setFileLabel(fd.get(), *spec.imageLabel);
          } catch (const Error& e) {
            throw e.withContext("cannot label " + path);
          }
        }
      } catch (...) {
        if (observer) observer(fd.get(), false);
        throw;
      }
    }
    if (observer) observer(fd.get(), true);
    fds.push_back(std::move(fd));
  }
  return fds;
}

}  // namespace seclabel

// Opening a macvtap's queues: its character device, once per queue, made
// the guest's (owner and SELinux image label), as libvirt does with the
// tap fds it hands to QEMU.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "net/open_observer.h"
#include "net/rtnetlink.h"

namespace seclabel {

class SelinuxHost;

struct MacvtapQueueSpec {
  std::string sysClassNet = "/sys/class/net";
  std::string devDir = "/dev";
  unsigned queues = 1;
  uid_t owner = 0;
  gid_t group = 0;
  // Set on the device node through the fd; nullopt: left as it is.
  std::optional<std::string> imageLabel;
};

// The device number of `link`'s queue device, from
// SYSFS/NAME/macvtap/tapIFINDEX/dev. Throws Error.
dev_t macvtapDeviceNumber(const std::string& sysClassNet, const LinkInfo& link);

// "/dev/tapIFINDEX": the name libvirt and the audit log use for it.
std::string macvtapDevicePath(const std::string& devDir, const LinkInfo& link);

// Opens the queue device `spec.queues` times (device_node.h: the fd's rdev
// is checked against sysfs), then fchown to owner:group and the image label
// through the first fd (they are one inode). `observer` hears each open.
// Throws Error; nothing stays open then.
std::vector<UniqueFd> openMacvtapQueues(const LinkInfo& link, const MacvtapQueueSpec& spec,
                                        SelinuxHost* selinux,
                                        const DeviceOpenObserver& observer);

}  // namespace seclabel

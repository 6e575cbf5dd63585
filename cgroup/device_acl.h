// One cgroup's device ACL as the kernel holds it (inside cgroup/ only):
// cgroup v1 devices.allow/devices.deny lines, or a cgroup v2 BPF program
// with a map of devices. Every method is one change of the ACL and throws
// Error (with errno) when the kernel refused it; guest_cgroup.cc writes
// the audit record for each.
#pragma once

#include <memory>
#include <string>

#include "cgroup/device_rules.h"

namespace seclabel {

class DeviceAcl {
 public:
  virtual ~DeviceAcl() = default;
  // Allows `rule.access` on the rule's device, on top of what it had.
  virtual void allow(const DeviceRule& rule) = 0;
  // Takes `rule.access` away again; a device that had none is left alone.
  virtual void deny(const DeviceRule& rule) = 0;
};

// `cgroupFd` is the cgroup's directory (O_RDONLY|O_DIRECTORY), `path` its
// name for messages. denyAll makes a new, empty cgroup deny every device
// and returns its ACL; existing opens the ACL an earlier denyAll set.
namespace v1 {
std::unique_ptr<DeviceAcl> denyAll(int cgroupFd, const std::string& path);
std::unique_ptr<DeviceAcl> existing(int cgroupFd, const std::string& path);
}  // namespace v1
namespace v2 {
std::unique_ptr<DeviceAcl> denyAll(int cgroupFd, const std::string& path);
std::unique_ptr<DeviceAcl> existing(int cgroupFd, const std::string& path);
}  // namespace v2

}  // namespace seclabel

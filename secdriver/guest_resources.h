// The files of a guest that drivers label, each with its role.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "secdriver/driver.h"
#include "secdriver/guest_path.h"

namespace seclabel {

struct GuestResource {
  std::string path;  // as the domain XML names it
  ResourceRole role;
  const std::vector<DeviceSeclabel>* seclabels = nullptr;  // device overrides
  std::optional<std::string> diskTarget;  // the top image of disk `vda`...
  bool readonlyDisk = false;
  // A missing file is skipped instead of failing (a serial log QEMU creates).
  bool mayBeAbsent = false;
  // A type='pipe' chardev: QEMU uses PATH.in and PATH.out when both exist,
  // else PATH itself (as libvirt labels it).
  bool pipe = false;
};

// What kind of object the resource must be (secdriver/guest_path.h).
GuestObject guestObjectOf(const GuestResource& resource);

// In document order: each disk's top image then its backing chain, kernel,
// initrd, serial/console paths.
std::vector<GuestResource> guestResources(const Domain& domain);

}  // namespace seclabel

// SecurityManager's resource on its way to being labeled, shared by
// manager.cc (prepare) and manager_hotplug.cc (a disk attached to a running
// guest). Private to secdriver/.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "secdriver/guest_resources.h"
#include "secdriver/manager.h"
#include "secdriver/safe_file.h"

namespace seclabel {

// One resource on its way to being labeled: opened, checked, its original
// captured, and what every driver wants of it.
struct SecurityManager::PlannedResource {
  std::size_t index = 0;
  GuestResource resource;
  std::string resolved;
  std::vector<std::pair<const SecurityDriver*, ResourceChange>> changes;
  std::optional<SafeFile> file;
  RememberedResource original;
  bool firstReference = false;
};

}  // namespace seclabel

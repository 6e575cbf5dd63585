#include "hotplug/hotplug_lock.h"

#include <fcntl.h>

#include "core/error.h"

namespace seclabel {

HotplugLock HotplugLock::take(const TrustedDirectory& stateDirectory, const std::string& uuid,
                              const std::string& name) {
  GuestClaims locks(stateDirectory.openPrivateFile("hotplug.lock", O_RDWR,
                                                   TrustedDirectory::Create::IfMissing));
  if (!locks.tryClaim(uuid, name))
    throw Error::conflict("guest " + name + ": another attach or detach is in progress");
  return HotplugLock(std::move(locks));
}

}  // namespace seclabel

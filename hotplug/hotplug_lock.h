// One attach or detach at a time per guest.
//
// attach/detach do not take the guest's claim (alloc/guest_claims.h): a
// guest `seclabel run` started is claimed by its launcher for its whole life,
// and changing its devices while it runs is the point of hot-plug. What must
// not happen is two of them interleaving on one guest (both choosing the
// same alias or target, both editing the live XML, one's QMP steps between
// the other's). So each takes this lock first: an open-file-description
// lock on the guest's byte of `hotplug.lock` in the state directory (the
// offsets of guests.lock, in a file of its own so it never meets a claim).
// The kernel drops it when the process exits or is killed: a SIGKILLed
// attach leaves its intent for recover, not a lock.
#pragma once

#include <string>

#include "alloc/guest_claims.h"
#include "core/trusted_path.h"

namespace seclabel {

class HotplugLock {
 public:
  // Takes the guest's hotplug byte, or throws Error::conflict (exit 3)
  // "guest NAME: another attach or detach is in progress" when another
  // process holds it.
  static HotplugLock take(const TrustedDirectory& stateDirectory, const std::string& uuid,
                          const std::string& name);

 private:
  explicit HotplugLock(GuestClaims locks) : locks_(std::move(locks)) {}
  GuestClaims locks_;  // holds the byte until this object goes
};

}  // namespace seclabel

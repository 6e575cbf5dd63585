#include "secdriver/recover_candidates.h"

#include <set>

namespace seclabel {

std::vector<Intent> recoverIntentCandidates(Store& store, const RecoverScope& scope) {
  switch (scope.what) {
    case RecoverScope::What::InFlight:
      // One index SEARCH; the supervise intents every live `run` keeps are
      // not read.
      return store.inFlightIntents();
    case RecoverScope::What::Named:
      return {};
    case RecoverScope::What::Everything:
      return store.pendingIntents();
  }
  return {};
}

std::vector<GuestRecord> recoverGuestCandidates(Store& store, const RecoverScope& scope) {
  switch (scope.what) {
    case RecoverScope::What::InFlight:
      return {};
    case RecoverScope::What::Named: {
      std::vector<GuestRecord> guests;
      std::set<std::string> seen;
      for (const std::string& name : scope.names) {
        auto guest = store.findLocalGuest(name);
        if (guest && guest->state == GuestState::Running && seen.insert(guest->uuid).second)
          guests.push_back(std::move(*guest));
      }
      return guests;
    }
    case RecoverScope::What::Everything:
      return store.runningGuests();
  }
  return {};
}

}  // namespace seclabel

#include "alloc/store.h"

#include "core/error.h"

namespace seclabel {

const char* guestStateName(GuestState state) {
  switch (state) {
    case GuestState::Prepared: return "prepared";
    case GuestState::Running: return "running";
    case GuestState::Failed: return "failed";
  }
  return "failed";
}

GuestState parseGuestState(const std::string& name) {
  if (name == "prepared") return GuestState::Prepared;
  if (name == "running") return GuestState::Running;
  if (name == "failed") return GuestState::Failed;
  throw Error(ExitCode::Failed, "state store: unknown guest state '" + name + "'");
}

const char* intentKindName(IntentKind kind) {
  switch (kind) {
    case IntentKind::Prepare: return "prepare";
    case IntentKind::Restore: return "restore";
    case IntentKind::LabelResource: return "label-resource";
    case IntentKind::RestoreResource: return "restore-resource";
    case IntentKind::Supervise: return "supervise";
    case IntentKind::Attach: return "attach";
    case IntentKind::Detach: return "detach";
  }
  return "prepare";
}

IntentKind parseIntentKind(const std::string& name) {
  if (name == "prepare") return IntentKind::Prepare;
  if (name == "restore") return IntentKind::Restore;
  if (name == "label-resource") return IntentKind::LabelResource;
  if (name == "restore-resource") return IntentKind::RestoreResource;
  if (name == "supervise") return IntentKind::Supervise;
  if (name == "attach") return IntentKind::Attach;
  if (name == "detach") return IntentKind::Detach;
  throw Error(ExitCode::Failed, "state store: unknown intent kind '" + name + "'");
}

}  // namespace seclabel

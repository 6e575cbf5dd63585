#include "secdriver/recovery.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/security_models.h"
#include "alloc/guest_claims.h"
#include "audit/audit.h"
#include "secdriver/manager.h"
#include "secdriver/safe_file.h"
#include "xml/xml.h"

namespace seclabel {

std::string workerPayload(ProcessLiveness& liveness, const std::string& what) {
  nlohmann::json payload;
  const pid_t self = liveness.self();
  payload["pid"] = self;
  payload["start"] = liveness.startTime(self).value_or(0);
  if (!what.empty()) payload["what"] = what;
  return payload.dump();
}

bool workerIsAlive(const Intent& intent, ProcessLiveness& liveness) {
  auto payload = nlohmann::json::parse(intent.payloadJson, nullptr, false);
  if (!payload.is_object()) return false;
  auto pid = payload.find("pid");
  auto start = payload.find("start");
  if (pid == payload.end() || start == payload.end() || !pid->is_number_integer() ||
      !start->is_number_unsigned())
    return false;
  const auto worker = pid->get<int64_t>();
  if (worker <= 0 || worker > INT32_MAX) return false;
  if (static_cast<pid_t>(worker) == liveness.self()) return false;
  return liveness.isAlive(static_cast<pid_t>(worker), start->get<uint64_t>());
}

bool guestProcessIsAlive(const GuestRecord& record, ProcessLiveness& liveness) {
  if (record.state != GuestState::Running || !record.pid || !record.pidStartTime) return false;
  if (*record.pid <= 0 || *record.pid > INT32_MAX) return false;
  return liveness.isAlive(static_cast<pid_t>(*record.pid), *record.pidStartTime);
}

const char* recoveryStepName(RecoveryStep step) {
  switch (step) {
    case RecoveryStep::Leave: return "leave";
    case RecoveryStep::UndoPrepare: return "undo-prepare";
    case RecoveryStep::FinishRestore: return "finish-restore";
    case RecoveryStep::CompleteIntent: return "complete-intent";
    case RecoveryStep::RestoreGuest: return "restore-guest";
  }
  return "?";
}

RecoveryStep decideIntent(const Intent& intent, bool claimedElsewhere,
                          ProcessLiveness& liveness) {
  if (claimedElsewhere) return RecoveryStep::Leave;          // its owner is at work
  if (workerIsAlive(intent, liveness)) return RecoveryStep::Leave;  // still in progress
  switch (intent.kind) {
    case IntentKind::Prepare: return RecoveryStep::UndoPrepare;
    case IntentKind::Restore: return RecoveryStep::FinishRestore;
    default: return RecoveryStep::CompleteIntent;
  }
}

RecoveryStep decideGuest(const GuestRecord& guest, bool superviseAlive, bool claimedElsewhere,
                         ProcessLiveness& liveness) {
  if (guest.state != GuestState::Running || !guest.pid) return RecoveryStep::Leave;
  if (guestProcessIsAlive(guest, liveness)) return RecoveryStep::Leave;
  if (superviseAlive || claimedElsewhere) return RecoveryStep::Leave;
  return RecoveryStep::RestoreGuest;
}

std::optional<uid_t> allocatedUidOf(const GuestRecord& record) {
  if (record.liveXml.empty()) return std::nullopt;
  Domain live;
  try {
    live = parseDomainXml(record.liveXml, XmlForm::Live);
  } catch (const Error&) {
    return std::nullopt;
  }
  const Seclabel* dac = live.seclabelFor(kDacModel);
  if (!dac || dac->type != SeclabelType::Dynamic || !dac->label) return std::nullopt;
  const uid_t uid = DacLabel::parse(*dac->label).uid;
  if (uid == 0) return std::nullopt;
  return uid;
}

Error notRestoredError(const std::string& guestName, const std::vector<Error>& failures) {
  std::string text = "guest " + guestName + " is not restored: " + failures.front().what();
  if (failures.size() > 1) text += " (and " + std::to_string(failures.size() - 1) + " more)";
  text += "; it keeps its identities and stays listed as failed until a restore or recover "
          "can put every file back";
  return Error(ExitCode::Failed, text, failures.front().errnum());
}

namespace {

// Holds a guest's claim (by uuid) for one step of recover, if nobody else
// does. Without claims (a manager no session opened) nobody else is known.
class ScopedClaim {
 public:
  ScopedClaim(GuestClaims* claims, const std::string& uuid) : claims_(claims), uuid_(uuid) {
    held_ = !claims_ || claims_->tryClaim(uuid_, {});
  }
  ~ScopedClaim() {
    if (claims_ && held_) claims_->release(uuid_, {});
  }
  ScopedClaim(const ScopedClaim&) = delete;
  ScopedClaim& operator=(const ScopedClaim&) = delete;
  bool held() const { return held_; }

 private:
  GuestClaims* claims_;
  std::string uuid_;
  bool held_ = false;
};

}  // namespace


// One transaction for the whole undo: it holds the store's write lock while
// the files are put back, so no other guest starts sharing a file between
// "we are the last holder" and its restore. A crash half-way rolls the store
// back to "guest still holds everything"; what marks the guest for recover
// (the pending intent, or a running guest whose process is gone) survives,
// so recover restores again, and restoring twice yields the same file.
std::vector<Error> SecurityManager::undoGuest(const std::string& uuid,
                                              std::vector<std::string>& warnings,
                                              std::optional<int64_t> intentToComplete) {
  auto transaction = store_.begin();
  auto failures = undoGuestLocked(uuid, warnings, intentToComplete);
  transaction->commit();
  return failures;
}

// Puts one remembered file back. Throws Error when it could not (the file
// then keeps its guest's owner and label, and its original stays
// remembered); returns quietly when the file no longer exists.
void SecurityManager::restoreRemembered(const AuditGuest& guest,
                                        const RememberedResource& original,
                                        std::vector<std::string>& warnings) {
  std::optional<SafeFile> found = SafeFile::locate(original);
  if (!found) {
    warnings.push_back("not restoring " + original.path +
                       ": it no longer exists (its file handle is stale)");
    return;
  }
  SafeFile& file = *found;
  // Say what changes back, per model, before changing it.
  const struct stat now = file.status();
  std::optional<std::string> currentLabel;
  if (original.selinuxXattrSupported) {
    try {
      currentLabel = selinux_.getFileLabel(file.fd());
    } catch (const Error&) {
    }
  }
  const bool ownerDiffers = now.st_uid != original.uid || now.st_gid != original.gid;
  const bool labelDiffers =
      original.selinuxXattrSupported && currentLabel != original.selinuxLabel;
  AuditOutcome outcome = AuditOutcome::Success;
  std::optional<Error> failure;
  try {
    file.restore(selinux_, original);
  } catch (const Error& e) {
    outcome = AuditOutcome::Failure;
    failure = e;
  }
  if (ownerDiffers)
    audit(audit::resourceLabel(guest, AuditLabelChange::Restore, file.path(), kDacModel,
                               DacLabel{now.st_uid, now.st_gid}.format(),
                               DacLabel{original.uid, original.gid}.format(), outcome));
  if (labelDiffers)
    audit(audit::resourceLabel(guest, AuditLabelChange::Restore, file.path(), kSelinuxModel,
                               currentLabel ? std::optional<std::string_view>(*currentLabel)
                                            : std::nullopt,
                               original.selinuxLabel.value_or("?"), outcome));
  if (failure) throw *failure;
  if (file.path() != original.path)
    warnings.push_back("restored " + original.path + " where it is now: " + file.path());
  // Seclabel never labels a file with a second name, so more names now were
  // added while the guest had it (a guest that owns a file may hard-link
  // it into any directory it can write). They cannot be taken back safely:
  // say so, with the count.
  const nlink_t links = file.currentLinkCount();
  if (links > 1) {
    audit(audit::resourceLinks(guest, file.path(), links));
    warnings.push_back(file.path() + " has " + std::to_string(links) +
                       " hard links now: names added while the guest had it were not "
                       "removed (find them with: find -samefile " + file.path() + ")");
  }
}

std::vector<Error> SecurityManager::undoGuestLocked(
    const std::string& uuid, std::vector<std::string>& warnings,
    std::optional<int64_t> intentToComplete) {
  AuditGuest guest{kFallbackDomainType, uuid, uuid};
  std::optional<uid_t> uid;
  if (auto record = store_.findGuest(uuid)) {
    guest = {record->domainType, record->name, uuid};
    uid = allocatedUidOf(*record);
  }
  std::vector<Error> failures;
  // No identity is released while a process runs with it: whatever the
  // guest left behind (a setsid grandchild, a daemon) would share the uid
  // with the next guest that gets it, and read its files.
  if (uid) {
    const std::vector<pid_t> survivors = liveness_->endProcessesOf(*uid);
    if (!survivors.empty()) {
      std::string pids;
      for (pid_t pid : survivors) pids += (pids.empty() ? "" : " ") + std::to_string(pid);
      failures.push_back(Error(ExitCode::Failed, "processes of uid " + std::to_string(*uid) +
                                                     " did not end (pids " + pids +
                                                     "): the uid stays held"));
    }
  }
  std::size_t index = 0;
  for (const HeldResource& held : store_.resourcesOf(uuid)) {
    const RememberedResource& original = held.original;
    bool last = true;
    for (const auto& holder : store_.holdersOf(original.dev, original.ino))
      if (holder.guestUuid != uuid) last = false;
    if (last) {
      try {
        restoreRemembered(guest, original, warnings);
      } catch (const AuditUnavailable&) {
        // The file may be back already, but its record is not written:
        // fail, and roll the store back (the caller's transaction) so the
        // guest stays listed for a restore once the log works again.
        throw;
      } catch (const Error& e) {
        // Never forget an original that is not back on its file: this
        // guest keeps its references, and with them its identities.
        failures.push_back(e);
        continue;
      }
    }
    for (uint32_t i = 0; i < held.references; ++i) store_.forget(original.dev, original.ino, uuid);
    if (hooks_.afterResourceRestored) hooks_.afterResourceRestored(index);
    ++index;
  }
  completeSuperviseIntents(uuid);
  if (!failures.empty()) {
    keepUnrestoredGuest(uuid, intentToComplete);
    return failures;
  }
  if (releaseHostObjects_) releaseHostObjects_(guest, warnings);
  store_.removeFdPassedDisks(uuid);
  store_.releaseAllOf(uuid);
  store_.deleteGuest(uuid);
  // Earlier restores that failed left their intents: this one finished it.
  // So is a launch's prepare whose guest never ran (PrepareFor::Launch).
  for (const Intent& intent : store_.pendingIntentsOf(uuid))
    if (intent.kind == IntentKind::Restore || intent.kind == IntentKind::Prepare)
      store_.completeIntent(intent.id);
  if (intentToComplete) store_.completeIntent(*intentToComplete);
  return failures;
}

// A guest some of whose files could not be put back: it keeps everything
// (identities, remembered originals, fd-passed disks), is listed as
// "failed", and a pending restore intent makes the next recover (or an
// explicit restore) try again.
void SecurityManager::keepUnrestoredGuest(const std::string& uuid,
                                          std::optional<int64_t> pendingIntent) {
  if (auto record = store_.findGuest(uuid)) {
    record->state = GuestState::Failed;
    store_.updateGuest(*record);
  }
  // One intent to retry is enough: the one this attempt worked under, or an
  // earlier attempt's, else a new one.
  bool retryPending = pendingIntent.has_value();
  for (const Intent& intent : store_.pendingIntentsOf(uuid)) {
    if (intent.kind != IntentKind::Restore || intent.id == pendingIntent) continue;
    if (retryPending) {
      store_.completeIntent(intent.id);
    } else {
      retryPending = true;
    }
  }
  if (!retryPending) store_.recordIntent(uuid, IntentKind::Restore, workerPayload(*liveness_));
}

void SecurityManager::completeSuperviseIntents(const std::string& uuid) {
  for (const Intent& intent : store_.pendingIntentsOf(uuid))
    if (intent.kind == IntentKind::Supervise) store_.completeIntent(intent.id);
}

bool SecurityManager::someoneWorksOn(const std::string& uuid) {
  for (const Intent& intent : store_.pendingIntentsOf(uuid))
    if (workerIsAlive(intent, *liveness_)) return true;
  return false;
}

// Each decision is made again under the write lock, in the transaction that
// acts on it: the lists read first may be stale by then (the worker of an
// intent completed it and exited, a launcher restored its guest and began
// the next one under the same uuid), and acting on a stale list would undo
// somebody else's live work. A guest another process holds the claim of is
// that process's: recover holds the claim itself while it acts, so no
// prepare, run or restore can start on the guest meanwhile.
std::vector<std::string> SecurityManager::recover(const RecoverScope& scope) {
  // A required audit log that cannot take records stops recover before it
  // restores anything: an undo nobody can see in the log is what
  // [audit] required = true forbids.
  requireAuditBeforeChanges();
  std::vector<std::string> report;
  auto stillPending = [&](const Intent& intent) {
    for (const Intent& pending : store_.pendingIntentsOf(intent.guestUuid))
      if (pending.id == intent.id) return true;
    return false;
  };
  for (const Intent& intent : recoverIntentCandidates(store_, scope)) {
    // Decided first without the claim: work whose process lives, or an
    // intent completed meanwhile, is left without touching the guest's
    // claim, which its owner may be about to take again (a launcher's next
    // run of the same guest must not find it held by somebody's recover).
    if (decideIntent(intent, false, *liveness_) == RecoveryStep::Leave) continue;
    if (!stillPending(intent)) continue;
    ScopedClaim claim(claims_, intent.guestUuid);
    const RecoveryStep step = decideIntent(intent, !claim.held(), *liveness_);
    if (step == RecoveryStep::Leave) continue;
    std::vector<std::string> warnings;
    auto transaction = store_.begin();
    if (!stillPending(intent)) continue;  // completed meanwhile: nothing to do
    auto guest = store_.findGuest(intent.guestUuid);
    std::string name = guest ? guest->name : intent.guestUuid;
    std::vector<Error> failures;
    // An interrupted attach or detach is settled by asking the guest's QEMU
    // (manager_hotplug.cc); its worker is gone, as for any other step.
    if (intent.kind == IntentKind::Attach || intent.kind == IntentKind::Detach) {
      failures = recoverHotplugLocked(intent, report, warnings);
      transaction->commit();
      for (const auto& warning : warnings) report.push_back("warning: " + warning);
      if (!failures.empty()) report.push_back(notRestoredError(name, failures).what());
      continue;
    }
    switch (step) {
      case RecoveryStep::UndoPrepare:
        failures = undoGuestLocked(intent.guestUuid, warnings, intent.id);
        if (failures.empty()) report.push_back("undid the interrupted prepare of guest " + name);
        break;
      case RecoveryStep::FinishRestore:
        failures = undoGuestLocked(intent.guestUuid, warnings, intent.id);
        if (failures.empty()) report.push_back("finished the interrupted restore of guest " + name);
        break;
      default:
        store_.completeIntent(intent.id);
        break;
    }
    transaction->commit();
    for (const auto& warning : warnings) report.push_back("warning: " + warning);
    if (!failures.empty()) report.push_back(notRestoredError(name, failures).what());
  }
  for (const GuestRecord& listed : recoverGuestCandidates(store_, scope)) {
    if (listed.state != GuestState::Running || !listed.pid) continue;
    if (decideGuest(listed, someoneWorksOn(listed.uuid), false, *liveness_) !=
        RecoveryStep::RestoreGuest)
      continue;  // as above: no claim taken for a guest that is left alone
    ScopedClaim claim(claims_, listed.uuid);
    if (decideGuest(listed, someoneWorksOn(listed.uuid), !claim.held(), *liveness_) !=
        RecoveryStep::RestoreGuest)
      continue;
    std::vector<std::string> warnings;
    auto transaction = store_.begin();
    auto guest = store_.findGuest(listed.uuid);
    if (!guest || guest->state != GuestState::Running || guest->pid != listed.pid ||
        guest->pidStartTime != listed.pidStartTime)
      continue;  // restored, or started again, meanwhile
    // Its process is gone but its launcher lives (a `run` between the
    // guest's exit and its own restore): that launcher restores it.
    if (someoneWorksOn(guest->uuid)) continue;
    std::vector<Error> failures = undoGuestLocked(guest->uuid, warnings, std::nullopt);
    transaction->commit();
    if (failures.empty())
      report.push_back("restored guest " + guest->name + ": its process " +
                       std::to_string(*guest->pid) + " is gone");
    for (const auto& warning : warnings) report.push_back("warning: " + warning);
    if (!failures.empty()) report.push_back(notRestoredError(guest->name, failures).what());
  }
  recoverHostObjectsOfForgottenGuests(report);
  return report;
}

bool SecurityManager::settleDeadGuests(const RecoverScope& scope) {
  std::vector<std::string> report = recover(scope);
  if (warn_)
    for (const auto& line : report) warn_("recover: " + line);
  return !report.empty();
}

}  // namespace seclabel

#include "secdriver/manager.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "audit/audit.h"
#include "alloc/store_conflict.h"
#include "secdriver/dac_driver.h"
#include "secdriver/file_xattrs.h"
#include "secdriver/guest_resources.h"
#include "secdriver/none_driver.h"
#include "secdriver/planned_resource.h"
#include "secdriver/process_liveness.h"
#include "secdriver/safe_file.h"
#include "secdriver/selinux_driver.h"
#include "xml/interfaces.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

// Who is doing the work an intent announces: recover leaves alone the
// intents of a process that is still alive (another prepare in progress).
std::string workerPayload(const std::string& extra = {}) {
  nlohmann::json payload;
  payload["pid"] = ::getpid();
  payload["start"] = processStartTime(::getpid()).value_or(0);
  if (!extra.empty()) payload["what"] = extra;
  return payload.dump();
}

bool workerIsAlive(const Intent& intent) {
  auto payload = nlohmann::json::parse(intent.payloadJson, nullptr, false);
  if (!payload.is_object() || !payload.contains("pid") || !payload.contains("start")) return false;
  auto pid = payload["pid"].get<pid_t>();
  if (pid == ::getpid()) return false;
  return processIsAlive(pid, payload["start"].get<uint64_t>());
}

const DeviceSeclabel* deviceSeclabelFor(const GuestResource& resource, const std::string& model) {
  if (!resource.seclabels) return nullptr;
  const DeviceSeclabel* anyModel = nullptr;
  for (const auto& seclabel : *resource.seclabels) {
    if (seclabel.model == model) return &seclabel;
    if (seclabel.model.empty() && !anyModel) anyModel = &seclabel;
  }
  return anyModel;
}

// The error of a restore that did not restore everything (exit 1).
Error notRestored(const std::string& guestName, const std::vector<Error>& failures) {
  std::string text = "guest " + guestName + " is not restored: " + failures.front().what();
  if (failures.size() > 1) text += " (and " + std::to_string(failures.size() - 1) + " more)";
  text += "; it keeps its identities and stays listed as failed until a restore or recover "
          "can put every file back";
  return Error(ExitCode::Failed, text, failures.front().errnum());
}

std::string describe(const GuestResource& resource) {
  std::string what = toString(resource.role);
  if (resource.diskTarget) what += " " + *resource.diskTarget;
  return what;
}

}  // namespace

SecurityManager::SecurityManager(const Config& config, Store& store, SelinuxHost& selinux,
                                 std::function<void(const std::string&)> warn)
    : config_(config), store_(store), selinux_(selinux), warn_(std::move(warn)) {
  for (const auto& model : config_.securityDrivers) {
    if (model == "selinux") {
      drivers_.push_back(std::make_unique<SelinuxDriver>(config_.selinux, selinux_));
    } else if (model == "dac") {
      drivers_.push_back(std::make_unique<DacDriver>(config_.dac));
    } else {
      drivers_.push_back(std::make_unique<NoneDriver>());
    }
  }
}

SecurityManager::~SecurityManager() = default;

void SecurityManager::audit(const AuditRecord& record) {
  if (audit_) audit_->write(record);
}

void SecurityManager::requireAuditBeforeChanges() {
  if (audit_) audit_->ensureUsable();
}

SecurityDriver* SecurityManager::driverFor(const std::string& model) const {
  for (const auto& driver : drivers_)
    if (model == driver->model()) return driver.get();
  return nullptr;
}

// A store shared by several hosts (etcd) may lose the race for an identity
// to another host at commit: nothing was applied, nothing on disk changed,
// so the prepare starts again from the domain as given (the store skips the
// taken id and waits a random while first). Bounded: exhaustion is exit 3.
constexpr int kMaxPrepareAttempts = 16;

GuestRecord SecurityManager::prepare(Domain& domain) {
  const Domain asGiven = domain;
  for (int attempt = 1;; ++attempt) {
    try {
      return prepareOnce(domain);
    } catch (const StoreConflict& e) {
      if (attempt >= kMaxPrepareAttempts)
        throw Error(ExitCode::NoIdentity, std::string(e.what()) + " (gave up after " +
                                              std::to_string(attempt) + " attempts)");
      domain = asGiven;
    }
  }
}

GuestRecord SecurityManager::prepareOnce(Domain& domain) {
  requireAuditBeforeChanges();
  resolveSeclabelModels(domain, config_.securityDrivers);
  requireSupportedInterfaces(domain);  // before anything is allocated
  if (driverFor("selinux") && !selinux_.enabled() && warn_)
    warn_("SELinux is disabled on this host: selinux labels are allocated, written and "
          "reported, but the guest process context is not enforced");
  // Every driver of the stack labels every guest: a driver the XML does not
  // mention gets libvirt's default, a dynamic label with relabeling.
  for (const auto& driver : drivers_) {
    if (domain.seclabelFor(driver->model())) continue;
    Seclabel implicit;
    implicit.model = driver->model();
    if (implicit.model == "none") implicit.type = SeclabelType::None, implicit.relabel = false;
    domain.seclabels.push_back(implicit);
  }

  Owner owner{domain.uuid, domain.name, localHostName()};
  GuestRecord record;
  record.uuid = domain.uuid;
  record.name = domain.name;
  record.domainType = domain.type;
  record.host = owner.host;
  for (const auto& driver : drivers_) record.drivers.push_back(driver->model());

  // One transaction, one durable commit, before any file changes: the guest
  // and its Prepare intent, every driver's label (identities allocated or
  // reserved) and the original of every file to be changed. Anything that
  // fails in here (a duplicate name, an exhausted range, a missing disk, a
  // refused hard link) rolls it all back: nothing to undo, nothing on disk.
  const AuditGuest guest{domain.type, domain.name, domain.uuid};
  std::vector<AuditRecord> labelsGenerated;  // written once they are committed
  std::vector<PlannedResource> planned;
  int64_t intent = 0;
  // Lazy recovery (docs/store.md, "When recover runs, and what it looks
  // at"): a guest whose process is gone is restored when this prepare needs
  // its name or uuid, and, when the transaction finds an identity space full
  // or a file held exclusively, by a sweep of every running guest and one
  // more try.
  settleDeadGuests(RecoverScope::named({domain.uuid, domain.name}));
  const bool nameAndUuidFree = !store_.findGuest(domain.uuid) && !store_.findGuest(domain.name);
  const Domain asGiven = domain;
  const auto planAndCommit = [&] {
    auto transaction = store_.begin();
    store_.putGuest(record);  // a duplicate name or uuid stops here, nothing done
    intent = store_.recordIntent(record.uuid, IntentKind::Prepare, workerPayload());
    assignGuestInterfaces(domain);
    for (const auto& driver : drivers_) {
      Seclabel& seclabel = *domain.seclabelFor(driver->model());
      try {
        driver->generateLabel(seclabel, store_, owner);
      } catch (const Error& e) {
        audit(audit::machineId(guest, driver->model(), "?", std::nullopt, AuditOutcome::Failure));
        throw e.withContext(std::string(driver->model()) + " driver");
      }
      if (seclabel.type != SeclabelType::None)
        labelsGenerated.push_back(audit::machineId(guest, driver->model(),
                                                   seclabel.label.value_or("?"),
                                                   seclabel.imagelabel, AuditOutcome::Success));
    }
    planned = planResources(domain, owner);
    transaction->commit();
  };
  try {
    planAndCommit();
  } catch (const Error& e) {
    if (e.code() != ExitCode::NoIdentity || !nameAndUuidFree ||
        !settleDeadGuests(RecoverScope::everything()))
      throw;
    domain = asGiven;  // without the labels of the rolled-back attempt
    labelsGenerated.clear();
    planned.clear();
    planAndCommit();
  }
  for (const AuditRecord& generated : labelsGenerated) audit(generated);

  try {
    labelResources(domain, owner, planned);
    record.liveXml = formatDomainXml(domain, XmlForm::Live);
    auto transaction = store_.begin();
    store_.updateGuest(record);
    store_.completeIntent(intent);
    transaction->commit();
  } catch (const Error&) {
    std::vector<std::string> warnings;
    std::vector<Error> failures = undoGuest(record.uuid, warnings, intent);
    if (warn_) {
      for (const auto& warning : warnings) warn_(warning);
      if (!failures.empty()) warn_(notRestored(record.name, failures).what());
    }
    throw;
  }
  return record;
}

// Aliases and MAC addresses for the live XML (docs/network.md), under the
// prepare's write lock: a generated address is checked against every guest
// of the store and recorded in the same transaction, so two concurrent
// prepares never take one address.
void SecurityManager::assignGuestInterfaces(Domain& domain) {
  if (domain.interfaces.empty()) return;
  assignInterfaceDefaults(domain, systemRandomBytes(), [&](const MacAddress& mac) {
    return store_.macAddressTaken(mac.format(), domain.uuid);
  });
  std::vector<std::string> macs;
  for (const Interface& interface : domain.interfaces) macs.push_back(interface.mac->format());
  store_.recordGuestMacs(domain.uuid, macs);
}

// The disk is opened by seclabel and handed to QEMU as an fd (fdpass/).
void SecurityManager::serveByFdPassing(const Owner& owner, const GuestResource& resource,
                                       const std::string& path) {
  store_.addFdPassedDisk(owner.guestUuid,
                         {*resource.diskTarget, path,
                          resource.readonlyDisk ? DiskAccess::ReadOnly : DiskAccess::ReadWrite});
}


namespace {

// A file the guest may write whose mode or capabilities would give the
// writer's content more than its own rights: the restore would put the bit
// back on whatever the guest wrote (a setuid root binary anyone can run).
void refuseGuestWritablePrivileges(const GuestResource& resource, const SafeFile& file,
                                   const std::string& what) {
  if (resource.role == ResourceRole::ReadOnlyImage || resource.role == ResourceRole::BootFile)
    return;
  const struct stat& status = file.status();
  if (!S_ISREG(status.st_mode)) return;
  auto refuse = [&](const std::string& why) {
    throw Error::invalidInput("refusing " + what + ": " + file.path() + " " + why +
                              ": whatever the guest writes into it would keep that after "
                              "the restore");
  };
  if (status.st_mode & (S_ISUID | S_ISGID)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
    refuse(std::string("is ") + ((status.st_mode & S_ISUID) ? "setuid" : "setgid") +
           " (mode " + mode + ")");
  }
  std::optional<std::string> capabilities;
  try {
    capabilities = readXattr(file.fd(), "security.capability");
  } catch (const Error& e) {
    if (!isXattrUnsupported(e.errnum())) throw e.withContext(file.path());
  }
  if (capabilities) refuse("has file capabilities (security.capability)");
}

}  // namespace

// Labeling runs in two halves so that the originals cost one durable commit
// per guest, the one prepare() makes anyway: planResources (inside that
// transaction) opens and checks every resource, captures its original and
// remembers it; labelResources (after the commit) changes the files. A
// crash in between leaves every original in the store for recover.
std::vector<SecurityManager::PlannedResource> SecurityManager::planResources(
    Domain& domain, const Owner& owner) {
  std::vector<PlannedResource> planned;
  const auto resources = guestResources(domain);
  for (std::size_t index = 0; index < resources.size(); ++index) {
    const GuestResource& resource = resources[index];
    const bool fdpassCandidate = resource.diskTarget.has_value();
    // What each driver of the stack wants this file to look like.
    std::vector<std::pair<const SecurityDriver*, ResourceChange>> changes;
    for (const auto& driver : drivers_) {
      const Seclabel* seclabel = domain.seclabelFor(driver->model());
      const DeviceSeclabel* device = deviceSeclabelFor(resource, driver->model());
      if (device && ((device->relabel && !*device->relabel) || device->labelskip)) continue;
      auto change = driver->resourceChange(*seclabel, resource.role,
                                           device ? device->label : std::nullopt);
      if (change && !change->empty()) changes.emplace_back(driver.get(), *change);
    }

    // Every path the domain names is found by the rules of guest_path.h,
    // whether we change it, pass it by fd or leave it alone: a path that
    // leads somewhere it must not is refused before anything is done.
    auto open = [&](const std::string& path) -> std::optional<SafeFile> {
      try {
        return SafeFile::open(path, guestObjectOf(resource));
      } catch (const Error& e) {
        if (resource.mayBeAbsent && e.errnum() == ENOENT) return std::nullopt;
        throw e.withContext(describe(resource));
      }
    };
    std::vector<SafeFile> files;
    if (resource.pipe) {
      // libvirt's rule for a pipe: PATH.in and PATH.out when both exist.
      auto in = open(resource.path + ".in");
      auto out = open(resource.path + ".out");
      if (in && out) {
        files.push_back(std::move(*in));
        files.push_back(std::move(*out));
      }
    }
    if (files.empty()) {
      if (auto file = open(resource.path)) files.push_back(std::move(*file));
    }

    for (SafeFile& file : files) {
      PlannedResource one;
      one.index = index;
      one.resource = resource;
      one.changes = changes;
      one.resolved = file.path();
      if (fdpassCandidate && config_.fdpass == FdpassMode::Always) {
        refuseGuestWritablePrivileges(resource, file, describe(resource));
        serveByFdPassing(owner, resource, one.resolved);
        continue;
      }
      if (one.changes.empty()) continue;
      refuseGuestWritablePrivileges(resource, file, describe(resource));
      if (hooks_.afterOpen) hooks_.afterOpen(one.resolved);
      if (fdpassCandidate && config_.fdpass == FdpassMode::Auto && isOnNfs(file.fd())) {
        serveByFdPassing(owner, resource, one.resolved);
        continue;
      }
      one.original = file.captureOriginal();
      one.file = std::move(file);
      planned.push_back(std::move(one));
    }
  }

  for (PlannedResource& plan : planned)
    plan.firstReference =
        store_.remember(plan.original, owner.guestUuid, resourceUseOf(plan.resource.role));
  return planned;
}

void SecurityManager::labelResources(Domain& domain, const Owner& owner,
                                     std::vector<PlannedResource>& planned) {
  const AuditGuest guest{domain.type, domain.name, domain.uuid};
  for (PlannedResource& plan : planned) {
    // Not the first reference: another guest (or another disk of this one)
    // shares the file and labeled it already.
    if (!plan.firstReference) continue;
    const GuestResource& resource = plan.resource;
    const bool fdpassCandidate = resource.diskTarget.has_value();
    SafeFile& file = *plan.file;
    const RememberedResource& original = plan.original;
    // What this file got so far, and from which driver: if a later step
    // fails, exactly this is taken back, and the audit trail says so.
    std::optional<std::pair<const SecurityDriver*, DacLabel>> ownerApplied;
    std::optional<std::pair<const SecurityDriver*, std::string>> labelApplied;
    try {
      for (const auto& [driver, change] : plan.changes) {
        // One record per step attempted, with its outcome (never one for a
        // step that was skipped).
        auto auditStep = [&](AuditOutcome outcome) {
          if (change.owner)
            audit(audit::resourceLabel(guest, AuditLabelChange::Label, plan.resolved,
                                       driver->model(),
                                       DacLabel{original.uid, original.gid}.format(),
                                       change.owner->format(), outcome));
          if (change.selinuxLabel)
            audit(audit::resourceLabel(guest, AuditLabelChange::Label, plan.resolved,
                                       driver->model(),
                                       original.selinuxLabel
                                           ? std::optional<std::string_view>(*original.selinuxLabel)
                                           : std::nullopt,
                                       *change.selinuxLabel, outcome));
        };
        try {
          if (change.owner) {
            file.changeOwner(change.owner->uid, change.owner->gid);
            ownerApplied.emplace(driver, *change.owner);
          }
          if (change.selinuxLabel) {
            file.setSelinuxLabel(selinux_, *change.selinuxLabel);
            labelApplied.emplace(driver, *change.selinuxLabel);
          }
          auditStep(AuditOutcome::Success);
        } catch (const Error& e) {
          auditStep(AuditOutcome::Failure);
          std::string hint;
          if (isRefusedByFilesystem(e.errnum()))
            hint = fdpassCandidate ? " (the file system refuses; set fdpass = \"auto\" to serve it "
                                     "by fd passing)"
                                   : " (the file system refuses)";
          throw Error(e.code(), std::string(driver->model()) + " driver: " + describe(resource) +
                                    ": " + e.what() + hint,
                      e.errnum());
        }
      }
    } catch (const Error& e) {
      // Put back what this file already got (an earlier driver's chown
      // when a later driver's label failed, as on ramfs), with a restore
      // record for each change taken back: the log must not end on a
      // "success" that no longer holds. Then either serve the disk by fd
      // passing or fail the prepare.
      bool undone = true;
      if (ownerApplied || labelApplied) {
        AuditOutcome outcome = AuditOutcome::Success;
        try {
          file.restore(selinux_, original);
        } catch (const Error& undo) {
          outcome = AuditOutcome::Failure;
          undone = false;
          if (warn_) warn_(undo.what());
        }
        if (ownerApplied)
          audit(audit::resourceLabel(guest, AuditLabelChange::Restore, plan.resolved,
                                     ownerApplied->first->model(),
                                     ownerApplied->second.format(),
                                     DacLabel{original.uid, original.gid}.format(), outcome));
        if (labelApplied)
          audit(audit::resourceLabel(guest, AuditLabelChange::Restore, plan.resolved,
                                     labelApplied->first->model(), labelApplied->second,
                                     original.selinuxLabel.value_or("?"), outcome));
      }
      // Not undone: the original stays remembered, and the undo of the
      // whole prepare tries again (and keeps the guest listed if it fails).
      if (!undone) throw;
      store_.forget(original.dev, original.ino, owner.guestUuid);
      if (fdpassCandidate && config_.fdpass == FdpassMode::Auto &&
          isRefusedByFilesystem(e.errnum())) {
        serveByFdPassing(owner, resource, plan.resolved);
        continue;
      }
      throw;
    }
    if (hooks_.afterResourceLabeled) hooks_.afterResourceLabeled(plan.index);
  }
}

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
    audit(audit::resourceLabel(guest, AuditLabelChange::Restore, file.path(), "dac",
                               DacLabel{now.st_uid, now.st_gid}.format(),
                               DacLabel{original.uid, original.gid}.format(), outcome));
  if (labelDiffers)
    audit(audit::resourceLabel(guest, AuditLabelChange::Restore, file.path(), "selinux",
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
  AuditGuest guest{"kvm", uuid, uuid};
  if (auto record = store_.findGuest(uuid)) guest = {record->domainType, record->name, uuid};
  std::vector<Error> failures;
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
  for (const Intent& intent : store_.pendingIntentsOf(uuid))
    if (intent.kind == IntentKind::Restore) store_.completeIntent(intent.id);
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
  if (!retryPending) store_.recordIntent(uuid, IntentKind::Restore, workerPayload());
}

bool SecurityManager::settleDeadGuests(const RecoverScope& scope) {
  std::vector<std::string> report = recover(scope);
  if (warn_)
    for (const auto& line : report) warn_("recover: " + line);
  return !report.empty();
}

GuestRecord SecurityManager::requireGuest(const std::string& nameOrUuid) {
  auto record = store_.findGuest(nameOrUuid);
  if (!record) throw Error::invalidInput("no such guest: " + nameOrUuid);
  return *record;
}

void SecurityManager::restore(const std::string& nameOrUuid) {
  requireAuditBeforeChanges();
  GuestRecord record = requireGuest(nameOrUuid);
  if (record.state == GuestState::Running && record.pid && record.pidStartTime &&
      processIsAlive(static_cast<pid_t>(*record.pid), *record.pidStartTime))
    throw Error(ExitCode::Failed, "guest " + record.name + " is still running (pid " +
                                      std::to_string(*record.pid) + ")");
  // A running guest whose process is gone is already what recover restores,
  // so it needs no Restore intent: an interrupted restore is finished either
  // way. A prepared guest does (nothing else would tell recover).
  std::optional<int64_t> intent;
  if (record.state != GuestState::Running || !record.pid)
    intent = store_.recordIntent(record.uuid, IntentKind::Restore, workerPayload());
  std::vector<std::string> warnings;
  std::vector<Error> failures = undoGuest(record.uuid, warnings, intent);
  if (warn_)
    for (const auto& warning : warnings) warn_(warning);
  if (!failures.empty()) throw notRestored(record.name, failures);
}

void SecurityManager::markRunning(const std::string& uuid, pid_t pid, bool supervised) {
  GuestRecord record = requireGuest(uuid);
  record.state = GuestState::Running;
  record.pid = pid;
  record.pidStartTime = processStartTime(pid);
  auto transaction = store_.begin();
  store_.updateGuest(record);
  if (supervised) store_.recordIntent(uuid, IntentKind::Supervise, workerPayload());
  transaction->commit();
}

void SecurityManager::markPrepared(const std::string& uuid) {
  GuestRecord record = requireGuest(uuid);
  record.state = GuestState::Prepared;
  record.pid.reset();
  record.pidStartTime.reset();
  auto transaction = store_.begin();
  store_.updateGuest(record);
  completeSuperviseIntents(uuid);
  transaction->commit();
}

void SecurityManager::completeSuperviseIntents(const std::string& uuid) {
  for (const Intent& intent : store_.pendingIntentsOf(uuid))
    if (intent.kind == IntentKind::Supervise) store_.completeIntent(intent.id);
}

bool SecurityManager::someoneWorksOn(const std::string& uuid) {
  for (const Intent& intent : store_.pendingIntentsOf(uuid))
    if (workerIsAlive(intent)) return true;
  return false;
}

// Each decision is made again under the write lock, in the transaction that
// acts on it: the lists read first may be stale by then (the worker of an
// intent completed it and exited, a launcher restored its guest and began
// the next one under the same uuid), and acting on a stale list would undo
// somebody else's live work.
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
    if (workerIsAlive(intent)) continue;  // still in progress elsewhere
    std::vector<std::string> warnings;
    auto transaction = store_.begin();
    if (!stillPending(intent)) continue;  // completed meanwhile: nothing to do
    auto guest = store_.findGuest(intent.guestUuid);
    std::string name = guest ? guest->name : intent.guestUuid;
    std::vector<Error> failures;
    switch (intent.kind) {
      case IntentKind::Prepare:
        failures = undoGuestLocked(intent.guestUuid, warnings, intent.id);
        if (failures.empty()) report.push_back("undid the interrupted prepare of guest " + name);
        break;
      case IntentKind::Restore:
        failures = undoGuestLocked(intent.guestUuid, warnings, intent.id);
        if (failures.empty()) report.push_back("finished the interrupted restore of guest " + name);
        break;
      case IntentKind::Attach:
      case IntentKind::Detach:
        failures = recoverHotplugLocked(intent, report, warnings);  // manager_hotplug.cc
        break;
      default:
        store_.completeIntent(intent.id);
        break;
    }
    transaction->commit();
    for (const auto& warning : warnings) report.push_back("warning: " + warning);
    if (!failures.empty()) report.push_back(notRestored(name, failures).what());
  }
  for (const GuestRecord& listed : recoverGuestCandidates(store_, scope)) {
    if (listed.state != GuestState::Running || !listed.pid) continue;
    if (listed.pidStartTime &&
        processIsAlive(static_cast<pid_t>(*listed.pid), *listed.pidStartTime))
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
    if (!failures.empty()) report.push_back(notRestored(guest->name, failures).what());
  }
  recoverHostObjectsOfForgottenGuests(report);
  return report;
}

// A cgroup or link that could not be removed when its guest was restored
// (processes still in the cgroup) outlives the guest record: try again.
void SecurityManager::recoverHostObjectsOfForgottenGuests(std::vector<std::string>& report) {
  if (!releaseHostObjects_) return;
  for (const std::string& uuid : store_.forgottenGuestsWithHostObjects()) {
    // Under the write lock, as undoGuest: no prepare of that uuid can
    // start between the check and the removal.
    auto transaction = store_.begin();
    if (store_.findGuest(uuid)) continue;  // its own restore or recover removes them
    std::vector<std::string> warnings;
    releaseHostObjects_(AuditGuest{"kvm", uuid, uuid}, warnings);
    transaction->commit();
    for (const auto& warning : warnings) report.push_back("warning: " + warning);
    if (warnings.empty()) report.push_back("removed what guest " + uuid + " left on the host");
  }
}

ProcessLabels SecurityManager::processLabels(const Domain& liveDomain) const {
  ProcessLabels labels;
  for (const auto& driver : drivers_)
    if (const Seclabel* seclabel = liveDomain.seclabelFor(driver->model()))
      driver->processLabels(*seclabel, labels);
  return labels;
}

GuestInfo SecurityManager::info(const std::string& nameOrUuid) {
  GuestInfo info{requireGuest(nameOrUuid), {}};
  Domain live = parseDomainXml(info.record.liveXml, XmlForm::Live);
  for (const auto& model : info.record.drivers) {
    SecurityInfo security{model, "0", "", "enforcing"};
    if (const SecurityDriver* driver = driverFor(model)) {
      security.doi = driver->doi();
      security.enforcement = driver->enforcement();
    } else if (model == "selinux") {
      security.enforcement = toString(selinux_.mode());
    }
    if (const Seclabel* seclabel = live.seclabelFor(model); seclabel && seclabel->label)
      security.label = *seclabel->label;
    info.security.push_back(security);
  }
  return info;
}

}  // namespace seclabel

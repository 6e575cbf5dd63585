#include "secdriver/manager.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include <nlohmann/json.hpp>

#include "alloc/guest_claims.h"
#include "core/error.h"
#include "core/scope_guard.h"
#include "core/security_models.h"
#include "audit/audit.h"
#include "alloc/store_conflict.h"
#include "secdriver/dac_driver.h"
#include "secdriver/file_xattrs.h"
#include "secdriver/guest_resources.h"
#include "secdriver/none_driver.h"
#include "secdriver/planned_resource.h"
#include "secdriver/recovery.h"
#include "secdriver/safe_file.h"
#include "secdriver/selinux_driver.h"
#include "xml/interfaces.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

// The resource's device-level override for `model` (xml/'s rule).
const DeviceSeclabel* deviceSeclabelFor(const GuestResource& resource, const std::string& model) {
  return resource.seclabels ? findDeviceSeclabel(*resource.seclabels, model) : nullptr;
}

// A claim taken for one step: given back when the step fails (or is one
// that ends here), kept when the step hands the guest on to the caller.
class ClaimGuard {
 public:
  ClaimGuard(SecurityManager& manager, std::string uuid, std::string name)
      : manager_(manager), uuid_(std::move(uuid)), name_(std::move(name)) {
    manager_.claim(uuid_, name_);
  }
  ~ClaimGuard() {
    if (!kept_) manager_.releaseClaim(uuid_, name_);
  }
  ClaimGuard(const ClaimGuard&) = delete;
  ClaimGuard& operator=(const ClaimGuard&) = delete;
  void keep() { kept_ = true; }

 private:
  SecurityManager& manager_;
  std::string uuid_, name_;
  bool kept_ = false;
};

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
    if (model == kSelinuxModel) {
      drivers_.push_back(std::make_unique<SelinuxDriver>(config_.selinux, selinux_));
    } else if (model == kDacModel) {
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

GuestRecord SecurityManager::prepare(Domain& domain, PrepareFor purpose) {
  const Domain asGiven = domain;
  for (int attempt = 1;; ++attempt) {
    try {
      return prepareOnce(domain, purpose);
    } catch (const StoreConflict& e) {
      if (attempt >= kMaxPrepareAttempts)
        throw Error(ExitCode::NoIdentity, std::string(e.what()) + " (gave up after " +
                                              std::to_string(attempt) + " attempts)");
      domain = asGiven;
    }
  }
}

GuestRecord SecurityManager::prepareOnce(Domain& domain, PrepareFor purpose) {
  requireAuditBeforeChanges();
  // The guest is this process's from before the first commit: another
  // command on it fails at once instead of restoring what we label.
  ClaimGuard claimed(*this, domain.uuid, domain.name);
  resolveSeclabelModels(domain, config_.securityDrivers);
  requireSupportedInterfaces(domain);  // before anything is allocated
  if (driverFor(kSelinuxModel) && !selinux_.enabled() && warn_)
    warn_("SELinux is disabled on this host: selinux labels are allocated, written and "
          "reported, but the guest process context is not enforced");
  // Every driver of the stack labels every guest: a driver the XML does not
  // mention gets libvirt's default, a dynamic label with relabeling.
  for (const auto& driver : drivers_) {
    if (domain.seclabelFor(driver->model())) continue;
    Seclabel implicit;
    implicit.model = driver->model();
    if (implicit.model == kNoneModel) implicit.type = SeclabelType::None, implicit.relabel = false;
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
  // Only this host's guests can be settled here: a cluster store answers
  // from its local records (the transaction checks the cluster anyway).
  const bool nameAndUuidFree =
      !store_.findLocalGuest(domain.uuid) && !store_.findLocalGuest(domain.name);
  const Domain asGiven = domain;
  const auto planAndCommit = [&] {
    auto transaction = store_.begin();
    store_.putGuest(record);  // a duplicate name or uuid stops here, nothing done
    record.generation = store_.findGuest(record.uuid)->generation;
    intent = store_.recordIntent(record.uuid, IntentKind::Prepare, workerPayload(*liveness_));
    assignGuestInterfaces(domain);
    for (const auto& driver : drivers_) {
      Seclabel& seclabel = *domain.seclabelFor(driver->model());
      try {
        driver->generateLabel(seclabel, store_, owner);
      } catch (const Error& e) {
        audit(audit::machineId(guest, driver->model(), "?", std::nullopt, AuditOutcome::Failure));
        throw e.withContext(std::string(driver->model()) + " driver");
      }
      // A DAC label of uid 0 (type='none' under a root launcher, or
      // static +0:+0) runs the guest as root. libvirt allows it, so do we,
      // but never silently: one warning, and the record says so (uid0=yes).
      std::optional<std::string> rootLabel;
      if (driver->model() == std::string_view(kDacModel)) {
        if (seclabel.type == SeclabelType::None && ::geteuid() == 0)
          rootLabel = "+0:+" + std::to_string(::getegid());
        else if (seclabel.type != SeclabelType::None && seclabel.label &&
                 DacLabel::parse(*seclabel.label).uid == 0)
          rootLabel = *seclabel.label;
      }
      if (rootLabel) {
        if (warn_)
          warn_("guest " + domain.name + " runs as root (uid 0): its dac label is " +
                (seclabel.type == SeclabelType::None ? std::string("type='none'")
                                                     : "static " + *rootLabel));
        AuditRecord rootRecord = audit::machineId(guest, driver->model(), *rootLabel,
                                              seclabel.imagelabel, AuditOutcome::Success);
        rootRecord.fields.push_back({"uid0", "yes", AuditField::Kind::Token});
        labelsGenerated.push_back(std::move(rootRecord));
      } else if (seclabel.type != SeclabelType::None) {
        labelsGenerated.push_back(audit::machineId(guest, driver->model(),
                                                   seclabel.label.value_or("?"),
                                                   seclabel.imagelabel, AuditOutcome::Success));
      }
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
  stopHereForTesting("prepare-committed");
  for (const AuditRecord& generated : labelsGenerated) audit(generated);

  {
    // Whatever ends this block early (an Error, bad_alloc, a JSON error)
    // undoes the files labeled so far; an undo that fails keeps the guest
    // listed for a later restore or recover, and says so.
    UndoOnFailure undoPrepare(
        [&] {
          std::vector<std::string> warnings;
          std::vector<Error> failures = undoGuest(record.uuid, warnings, intent);
          if (warn_) {
            for (const auto& warning : warnings) warn_(warning);
            if (!failures.empty()) warn_(notRestoredError(record.name, failures).what());
          }
        },
        warn_);
    labelResources(domain, owner, planned);
    record.liveXml = formatDomainXml(domain, XmlForm::Live);
    auto transaction = store_.begin();
    store_.updateGuest(record);
    // A guest prepared to be started at once keeps its Prepare intent until
    // markRunning: a launcher killed before that leaves work recover finds.
    if (purpose == PrepareFor::Launch) {
      launchIntents_[record.uuid] = intent;
    } else {
      store_.completeIntent(intent);
    }
    transaction->commit();
    undoPrepare.dismiss();
  }
  claimed.keep();
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

GuestRecord SecurityManager::requireGuest(const std::string& nameOrUuid) {
  auto record = store_.findGuest(nameOrUuid);
  if (!record) throw Error::invalidInput("no such guest: " + nameOrUuid);
  return *record;
}

void SecurityManager::restore(const std::string& nameOrUuid,
                              std::optional<uint64_t> generation) {
  requireAuditBeforeChanges();
  GuestRecord found = requireGuest(nameOrUuid);
  // Claimed first, read again after: what we restore is what the store says
  // once no other process can be working on the guest.
  ClaimGuard claimed(*this, found.uuid, found.name);
  GuestRecord record = requireGuest(found.uuid);
  if (generation && record.generation != *generation) {
    // Our instance was restored by someone else, and the uuid prepared
    // again: that instance is not ours to restore.
    if (warn_)
      warn_("guest " + record.name + " was restored and prepared again by another process "
            "meanwhile: leaving that instance alone");
    return;
  }
  if (guestProcessIsAlive(record, *liveness_))
    throw Error(ExitCode::Failed, "guest " + record.name + " is still running (pid " +
                                      std::to_string(*record.pid) + ")");
  // A running guest whose process is gone is already what recover restores,
  // so it needs no Restore intent: an interrupted restore is finished either
  // way. A prepared guest does (nothing else would tell recover).
  std::optional<int64_t> intent;
  if (record.state != GuestState::Running || !record.pid)
    intent = store_.recordIntent(record.uuid, IntentKind::Restore, workerPayload(*liveness_));
  std::vector<std::string> warnings;
  std::vector<Error> failures = undoGuest(record.uuid, warnings, intent);
  launchIntents_.erase(record.uuid);
  // Restored and forgotten: whatever claims on it this process still has
  // (a prepare's, a launcher's) end with it.
  if (failures.empty() && claims_) claims_->releaseAll(record.uuid, record.name);
  if (warn_)
    for (const auto& warning : warnings) warn_(warning);
  if (!failures.empty()) throw notRestoredError(record.name, failures);
}

void SecurityManager::markRunning(const std::string& uuid, pid_t pid, bool supervised) {
  GuestRecord record = requireGuest(uuid);
  record.state = GuestState::Running;
  record.pid = pid;
  record.pidStartTime = liveness_->startTime(pid);
  auto transaction = store_.begin();
  store_.updateGuest(record);
  if (supervised) store_.recordIntent(uuid, IntentKind::Supervise, workerPayload(*liveness_));
  // From here the running record (or the Supervise intent) tells recover
  // what to do: the prepare is over.
  if (auto pending = launchIntents_.find(uuid); pending != launchIntents_.end())
    store_.completeIntent(pending->second);
  transaction->commit();
  launchIntents_.erase(uuid);
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


bool SecurityManager::tryClaim(const std::string& uuid, const std::string& name) {
  return !claims_ || claims_->tryClaim(uuid, name);
}

void SecurityManager::claim(const std::string& uuid, const std::string& name) {
  if (tryClaim(uuid, name)) return;
  throw Error::conflict("guest " + name + " (" + uuid +
                        ") belongs to another seclabel process that is preparing, starting, "
                        "running or stopping it; nothing was changed");
}

void SecurityManager::releaseClaim(const std::string& uuid, const std::string& name) {
  if (claims_) claims_->release(uuid, name);
}

bool SecurityManager::guestIsRunning(const GuestRecord& record) {
  return guestProcessIsAlive(record, *liveness_);
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
    releaseHostObjects_(AuditGuest{kFallbackDomainType, uuid, uuid}, warnings);
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
    } else if (model == kSelinuxModel) {
      security.enforcement = toString(selinux_.mode());
    }
    if (const Seclabel* seclabel = live.seclabelFor(model); seclabel && seclabel->label)
      security.label = *seclabel->label;
    info.security.push_back(security);
  }
  return info;
}

}  // namespace seclabel

// The stacked security manager: every configured driver, in config order, for
// every guest; all-or-nothing.
//
// prepare() generates each driver's label, labels each resource, and stores
// the guest. If any driver fails at any step, everything already done by every
// driver is undone (files restored exactly, identities released, the guest
// forgotten) and the error names the driver, the object and the reason.
//
// Crash safety: one durable commit before any file changes holds the guest,
// a Prepare intent carrying this process's pid and start time, the
// identities and every file's original. recover() undoes the work of any
// prepare whose process is gone (secdriver/recovery.h).
//
// Ownership: with claims set (alloc/guest_claims.h), prepare, restore and
// recover claim the guest first; another process's claim is exit 3 before
// anything changes.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alloc/store.h"
#include "core/config.h"
#include "core/error.h"
#include "core/process_liveness.h"
#include "secdriver/recover_candidates.h"
#include "secdriver/driver.h"
#include "secdriver/selinux_host.h"
#include "xml/domain.h"

namespace seclabel {

class AuditLog;
class GuestClaims;
struct GuestResource;
struct AuditRecord;
struct AuditGuest;

// Test seams between the steps of a prepare (never set in production).
struct ManagerHooks {
  // After a resource was opened (found and checked), before its original is
  // captured: anything done to its path from here on cannot change which
  // file is labeled.
  std::function<void(const std::string& resolvedPath)> afterOpen;
  // After each resource was labeled (for crash tests).
  std::function<void(std::size_t index)> afterResourceLabeled;
  // During an undo, after each resource was put back (for crash tests).
  std::function<void(std::size_t index)> afterResourceRestored;
};

// One driver's line in dominfo.
struct SecurityInfo {
  std::string model;
  std::string doi;
  std::string label;        // empty for model none
  std::string enforcement;  // enforcing | permissive | disabled
};

// Why a guest is prepared: to stay prepared (the `prepare` command), or to
// be started by this process at once (exec, run), in which case its Prepare
// intent stays pending until markRunning, so that recover undoes the
// prepare of a launcher killed before its guest was started.
enum class PrepareFor { Keep, Launch };

struct GuestInfo {
  GuestRecord record;
  std::vector<SecurityInfo> security;  // stack order
};

// Removes what a guest has outside the file system (its cgroup, the links
// its launcher created) when the guest is restored or recovered. Set by the
// launcher layer (launcher/host_objects.h), which knows those objects; the
// manager only says when. Problems become one-line `warnings`; whatever
// could not be removed stays recorded in the store for a later recover.
using HostObjectRelease =
    std::function<void(const AuditGuest& guest, std::vector<std::string>& warnings)>;

class SECLABEL_API SecurityManager {
 public:
  // `warn` receives one-line warnings (e.g. selinux on a host without it).
  SecurityManager(const Config& config, Store& store, SelinuxHost& selinux,
                  std::function<void(const std::string&)> warn = {});
  ~SecurityManager();

  const Config& config() const { return config_; }
  Store& store() { return store_; }
  SelinuxHost& selinuxHost() { return selinux_; }
  const std::vector<std::unique_ptr<SecurityDriver>>& drivers() const { return drivers_; }
  // The one-line warning channel given at construction (may be empty).
  const std::function<void(const std::string&)>& warnings() const { return warn_; }

  void setHooks(ManagerHooks hooks) { hooks_ = std::move(hooks); }
  void setHostObjectRelease(HostObjectRelease release) { releaseHostObjects_ = std::move(release); }
  // Where audit records go (none when unset).
  void setAudit(AuditLog* audit) { audit_ = audit; }
  // Who owns which guest right now (alloc/guest_claims.h); none when unset
  // (then nothing stops two processes working on one guest).
  void setClaims(GuestClaims* claims) { claims_ = claims; }
  // How liveness is asked (tests pass a fake).
  void setLiveness(ProcessLiveness& liveness) { liveness_ = &liveness; }
  ProcessLiveness& liveness() { return *liveness_; }
  AuditLog* auditLog() { return audit_; }

  // prepare, restore and recover check the audit log first
  // (AuditLog::ensureUsable): with [audit] required = true and a log that
  // cannot take records they throw AuditUnavailable before changing
  // anything; a record that fails later fails the command too.

  // Labels and stores the guest; `domain` then carries every driver's
  // generated label (format it with XmlForm::Live). Returns the record.
  // The guest is claimed from before the first commit on, and stays
  // claimed by this process when prepare succeeds (until restore, or the
  // process ends); another process's claim on it is Error::conflict (exit
  // 3) before anything is changed.
  GuestRecord prepare(Domain& domain, PrepareFor purpose = PrepareFor::Keep);

  // Restores every resource of the guest exactly, releases its identities,
  // forgets it. Safe to run again after an interruption. Throws
  // Error(InvalidInput, "no such guest: X") for an unknown guest.
  // A file that cannot be put back (moved off its file system, a read-only
  // remount, EPERM) is never forgotten: the files that could be restored
  // are, the guest keeps its identities and the rest, is listed as
  // "failed", and Error(Failed) names what was not restored; a later
  // restore or recover finishes it. A file that no longer exists at all
  // (stale file handle) has nothing left to restore.
  // A restore record that cannot be written (required audit) rolls the
  // store back: the guest stays listed with everything it holds.
  // A guest another process claims is Error::conflict (exit 3), nothing
  // changed; one whose recorded process is alive is Error(Failed).
  // `generation`: restore only that instance of the guest (a launcher
  // restoring what it prepared or started); another instance under the
  // same uuid is left alone with a warning.
  void restore(const std::string& nameOrUuid,
               std::optional<uint64_t> generation = std::nullopt);

  // Claims of guests (alloc/guest_claims.h). claim() throws
  // Error::conflict when another process holds either byte. Counted: each
  // claim() needs a releaseClaim(); restore() ends all of this process's
  // claims on the guest it forgot.
  bool tryClaim(const std::string& uuid, const std::string& name);
  void claim(const std::string& uuid, const std::string& name);
  void releaseClaim(const std::string& uuid, const std::string& name);

  // The guest is running and its recorded process is alive (recovery.h).
  bool guestIsRunning(const GuestRecord& record);

  // Marks a prepared guest as running in process `pid`. `supervised`: this
  // process waits for the guest and restores it afterwards (run,
  // spawnGuest), so until this process is gone recover leaves the guest
  // alone even when `pid` has exited (a Supervise intent).
  void markRunning(const std::string& uuid, pid_t pid, bool supervised = false);
  // Undoes markRunning for a guest whose command never started.
  void markPrepared(const std::string& uuid);

  // Undoes prepares whose process died, finishes interrupted restores, and
  // restores guests whose recorded process is gone. Returns one line per
  // action taken. `scope` says which intents and guests it looks at
  // (secdriver/recover_candidates.h): everything for `seclabel recover`,
  // the in-flight prepares and restores at the start of a command.
  std::vector<std::string> recover(const RecoverScope& scope = RecoverScope::everything());
  // Lazy recovery, before something needs what a dead guest holds: recover
  // of `scope`, each line of its report passed to `warn` ("recover: ...").
  // True when it restored or reported anything.
  bool settleDeadGuests(const RecoverScope& scope);

  // The identity every driver gives the process of this (prepared) guest.
  ProcessLabels processLabels(const Domain& liveDomain) const;

  GuestInfo info(const std::string& nameOrUuid);
  GuestRecord requireGuest(const std::string& nameOrUuid);

  // ---- hot-plug (manager_hotplug.cc; the QMP half is hotplug/) ----------
  // A disk on its way into a running guest: labeled for every driver (or
  // recorded as served by fd passing), under a pending Attach intent.
  struct DiskAttach {
    GuestRecord record;
    int64_t intent = 0;
    std::optional<FdPassedDisk> fdPassed;  // open it for QEMU, do not label
  };
  // Records an Attach intent (`payloadJson`: what recover needs to ask
  // QEMU), then labels every file of `disk` as prepare would, remembering
  // the originals. A target the guest has already, or a file another guest
  // holds privately (exit 3), is refused with nothing changed.
  DiskAttach beginDiskAttach(const std::string& nameOrUuid, const Disk& disk,
                             const std::string& payloadJson);
  // QEMU has the disk: the live XML gains `deviceXml`, the intent completes.
  void commitDiskAttach(const DiskAttach& attach, const std::string& deviceXml);
  // QEMU does not have it: every file put back, the intent completes.
  void abortDiskAttach(const DiskAttach& attach, const Disk& disk);
  // A Detach intent, before QEMU is asked to let the disk go.
  int64_t beginDetach(const GuestRecord& record, const std::string& payloadJson);
  // QEMU no longer has the disk: its files restored exactly (unless another
  // disk or guest still uses them), the live XML loses it, the intent
  // completes. Error(Failed) naming a file that could not be put back (its
  // original stays remembered for the guest's restore).
  void finishDiskDetach(const std::string& uuid, const Disk& disk, int64_t intent);
  // QEMU kept the device: nothing changes, the intent completes.
  void abandonDetach(int64_t intent);
  // Interfaces: seclabel labels no file of theirs (net/ opens and labels
  // the devices), so only the intent and the live XML change here.
  // The MAC is the guest's from the intent's commit on (recordGuestMacs),
  // so no prepare or attach of another guest generates it meanwhile; a
  // generated one another guest took since it was chosen is refused (exit
  // 3, nothing recorded). Commit, abort, detach and recover record the
  // live XML's MACs again, so an interface that is gone frees its MAC.
  int64_t beginInterfaceAttach(const GuestRecord& record, const std::string& payloadJson,
                               const std::string& mac, bool generatedMac);
  void commitInterfaceAttach(const std::string& uuid, int64_t intent,
                             const std::string& deviceXml);
  void abortInterfaceAttach(const std::string& uuid, int64_t intent);
  void finishInterfaceDetach(const std::string& uuid, const std::string& alias, int64_t intent);
  // Whether a guest other than `exceptUuid` has `mac` (for generating one).
  bool macTakenByAnotherGuest(const MacAddress& mac, const std::string& exceptUuid);
  // What recover asks about an Attach or Detach intent whose process died:
  // whether QEMU has the device now (having removed whatever half-added
  // part of it it found when it has not). Set by the hot-plug layer; unset,
  // or when it throws, recover leaves the intent for a later run.
  void setHotplugSettle(std::function<bool(const Intent&)> settle) {
    hotplugSettle_ = std::move(settle);
  }

 private:
  // One attempt of prepare(); a StoreConflict from it changed nothing.
  GuestRecord prepareOnce(Domain& domain, PrepareFor purpose);
  SecurityDriver* driverFor(const std::string& model) const;
  void audit(const AuditRecord& record);
  // AuditLog::ensureUsable, when there is a log: before the first change.
  void requireAuditBeforeChanges();
  struct PlannedResource;
  std::vector<PlannedResource> planResources(Domain& domain, const Owner& owner);
  void labelResources(Domain& domain, const Owner& owner, std::vector<PlannedResource>& planned);
  void assignGuestInterfaces(Domain& domain);
  // The guest's MACs in the store: those of its live XML (plus `extra`).
  void recordLiveMacsLocked(const std::string& uuid, const Domain& live,
                            const std::optional<std::string>& extra = std::nullopt);
  void recoverHostObjectsOfForgottenGuests(std::vector<std::string>& report);
  void serveByFdPassing(const Owner& owner, const GuestResource& resource,
                        const std::string& path);
  // Restores and releases everything `uuid` holds and deletes the guest (and
  // completes `intentToComplete`), in one transaction; collects problems in
  // `warnings` instead of stopping half-way. Returns one error per file that
  // could not be restored: when there is any, nothing is released or
  // deleted (keepUnrestoredGuest) and `intentToComplete` stays pending.
  std::vector<Error> undoGuest(const std::string& uuid, std::vector<std::string>& warnings,
                               std::optional<int64_t> intentToComplete = std::nullopt);
  // undoGuest inside the caller's transaction.
  std::vector<Error> undoGuestLocked(const std::string& uuid, std::vector<std::string>& warnings,
                                     std::optional<int64_t> intentToComplete);
  void restoreRemembered(const AuditGuest& guest, const RememberedResource& original,
                         std::vector<std::string>& warnings);
  void keepUnrestoredGuest(const std::string& uuid, std::optional<int64_t> pendingIntent);
  void completeSuperviseIntents(const std::string& uuid);
  // A pending intent of the guest whose worker process is still alive.
  bool someoneWorksOn(const std::string& uuid);

  // Puts back and forgets what `uuid` holds for `disk` (not its other
  // disks' files); inside the caller's transaction.
  std::vector<Error> releaseDiskLocked(const std::string& uuid, const Disk& disk,
                                       std::vector<std::string>& warnings);
  // recover() of one Attach or Detach intent, inside its transaction.
  std::vector<Error> recoverHotplugLocked(const Intent& intent, std::vector<std::string>& report,
                                          std::vector<std::string>& warnings);

  std::function<bool(const Intent&)> hotplugSettle_;
  Config config_;
  Store& store_;
  SelinuxHost& selinux_;
  std::function<void(const std::string&)> warn_;
  std::vector<std::unique_ptr<SecurityDriver>> drivers_;
  ManagerHooks hooks_;
  HostObjectRelease releaseHostObjects_;
  AuditLog* audit_ = nullptr;
  GuestClaims* claims_ = nullptr;
  ProcessLiveness* liveness_ = &systemProcessLiveness();
  // Prepare intents of guests prepared for a launch, completed by
  // markRunning (PrepareFor::Launch).
  std::map<std::string, int64_t> launchIntents_;
};

}  // namespace seclabel

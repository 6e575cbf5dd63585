// A guest's own cgroup in the device controller's hierarchy and its device
// ACL (docs/devices.md): deny every device, then allow the guest's rules;
// every change of the ACL written to the audit log, one record per change
// attempted, with its outcome.
//
// The directory is <mount>/<parent>/<uuid>: named from the guest's uuid
// (checked and normalised, so nothing of a guest's name or of a hostile
// string reaches a path), below `[cgroup] parent`. Every directory is
// opened relative to the one above it with O_DIRECTORY|O_NOFOLLOW, starting
// from the controller's mount, whose file system type is checked: the
// cgroup file system is root's, but a symlink or a different mount in the
// way is refused all the same.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit.h"
#include "cgroup/device_controller.h"
#include "cgroup/device_rules.h"
#include "core/unique_fd.h"

namespace seclabel {

class DeviceAcl;

// "6D1C5A9E2B7F4C1E9F0A1D2E3F4A5B6C" or "6d1c5a9e-2b7f-4c1e-9f0a-1d2e3f4a5b6c"
// as the lower-case dashed form. Anything else, "../x" and "a/b" among it,
// is Error(InvalidInput) "invalid guest uuid '...' for a cgroup name".
std::string cgroupNameForUuid(std::string_view uuid);

// Where a guest's cgroup is: built by at(), so every one is valid.
class GuestCgroupLocation {
 public:
  // Checks `parent` as [cgroup] parent is checked (checkCgroupParent) and
  // normalises `uuid` (cgroupNameForUuid). Throws Error(InvalidInput).
  static GuestCgroupLocation at(DeviceController controller, std::string_view parent,
                                std::string_view uuid);

  // Back from a path() the store recorded (recover, restore after a config
  // change of [cgroup] parent): `path` must be <mount>/<parent>/<uuid> for
  // this controller's mount and this guest's uuid, the parent as at()
  // checks it. Throws Error(InvalidInput) naming the path otherwise.
  static GuestCgroupLocation fromPath(DeviceController controller, std::string_view path,
                                      std::string_view uuid);

  const DeviceController& controller() const { return controller_; }
  const std::string& parent() const { return parent_; }
  const std::string& name() const { return name_; }  // the normalised uuid
  // "<mount>/<parent>/<uuid>": what the audit records and the store carry.
  std::string path() const;

 private:
  GuestCgroupLocation() = default;
  DeviceController controller_;
  std::string parent_;
  std::string name_;
};

class GuestCgroup {
 public:
  // Creates the cgroup (and the parent directories that are missing),
  // writes deny-all, then allows each rule in order: one audit record each
  // (audit::cgroupAll / cgroupPath / cgroupMajor) after the attempt, with
  // its outcome. A cgroup of the same uuid left empty by a crash is
  // replaced; one that still holds processes is Error(NoIdentity) (the
  // guest is running). On any failure (a refused change, an audit log that
  // must be written and cannot) the new cgroup is removed again and the
  // Error thrown names the cgroup; the records already written stay, as
  // they are true.
  static GuestCgroup create(const GuestCgroupLocation& location,
                            const std::vector<DeviceRule>& rules, AuditLog& log,
                            const AuditGuest& guest);

  // The cgroup an earlier create() made (a later command: exec after
  // prepare, hotplug). Error(Failed, ENOENT) "no cgroup PATH" when absent.
  static GuestCgroup open(const GuestCgroupLocation& location);

  GuestCgroup(GuestCgroup&&) noexcept;
  GuestCgroup& operator=(GuestCgroup&&) noexcept;
  ~GuestCgroup();

  const GuestCgroupLocation& location() const { return location_; }
  std::string path() const { return location_.path(); }

  // Hotplug: one device more, or less, with its one audit record
  // (reason=allow / reason=deny). Throws Error when the kernel refused.
  void allow(const DeviceRule& rule, AuditLog& log, const AuditGuest& guest);
  void deny(const DeviceRule& rule, AuditLog& log, const AuditGuest& guest);

  // cgroup.procs opened O_WRONLY|O_CLOEXEC, for enterCgroup() in the child
  // between clone and execve (cgroup/enter_cgroup.h). Open it before the
  // clone: the child must not allocate or throw.
  UniqueFd openProcsForChild() const;

  // The pids in the cgroup now (cgroup.procs).
  std::vector<pid_t> processes() const;

 private:
  GuestCgroup(GuestCgroupLocation location, UniqueFd directory);
  DeviceAcl& acl();

  GuestCgroupLocation location_;
  UniqueFd directory_;
  std::unique_ptr<DeviceAcl> acl_;  // opened on first use after open()
};

enum class CgroupRemoval {
  Removed,  // it existed and is gone
  Absent,   // there was none (never created, or removed before)
};

// Removes the guest's cgroup once it is empty (rmdir: the kernel frees the
// ACL with it, a v2 program and map included). The parent stays: other
// guests' cgroups live there. A cgroup that still holds processes is
// Error(Failed, EBUSY) "cannot remove cgroup PATH: processes 12 34 are
// still in it": at stop the launcher ends the guest's processes first.
CgroupRemoval removeGuestCgroup(const GuestCgroupLocation& location);

}  // namespace seclabel

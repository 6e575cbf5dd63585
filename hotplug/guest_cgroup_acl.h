// The guest's cgroup device ACL during a hot-plug: a block device attached
// is allowed, one detached denied, each change audited (cgroup/).
//
// The cgroup is the one the guest's start created and the store recorded
// (Store::guestCgroupOf). A guest without a recorded cgroup ([cgroup]
// devices = "off", or a host without a device controller) has no ACL to
// change, and every method does nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alloc/store.h"
#include "cgroup/device_rules.h"

namespace seclabel {

class AuditLog;

// The cgroup path the store recorded for the guest, nullopt when none.
std::optional<std::string> recordedCgroupPath(Store& store, const GuestRecord& record);

class GuestCgroupAcl {
 public:
  GuestCgroupAcl(Store& store, const GuestRecord& record, AuditLog* audit);
  // Undoes every allow() not kept.
  ~GuestCgroupAcl();
  GuestCgroupAcl(const GuestCgroupAcl&) = delete;
  GuestCgroupAcl& operator=(const GuestCgroupAcl&) = delete;

  // Allows the block device at `path` (r, or rw when writable); nothing when
  // it is not a block device or no cgroup is recorded.
  void allow(const std::string& path, bool readonly);
  void deny(const std::string& path);
  // The attach succeeded: the allows stay.
  void keep() { allowed_.clear(); }

 private:
  std::optional<DeviceRule> ruleFor(const std::string& path, bool readonly) const;
  void change(const DeviceRule& rule, bool allow);

  GuestRecord record_;
  AuditLog* audit_;
  std::optional<std::string> cgroupPath_;
  std::vector<DeviceRule> allowed_;
};

}  // namespace seclabel

#include "hotplug/guest_cgroup_acl.h"

#include <sys/stat.h>

#include "audit/audit.h"
#include "cgroup/device_controller.h"
#include "cgroup/guest_cgroup.h"
#include "core/error.h"

namespace seclabel {

std::optional<std::string> recordedCgroupPath(Store& store, const GuestRecord& record) {
  return store.guestCgroupOf(record.uuid);
}

GuestCgroupAcl::GuestCgroupAcl(Store& store, const GuestRecord& record, AuditLog* audit)
    : record_(record), audit_(audit), cgroupPath_(recordedCgroupPath(store, record)) {}

GuestCgroupAcl::~GuestCgroupAcl() {
  for (auto it = allowed_.rbegin(); it != allowed_.rend(); ++it) {
    try {
      change(*it, false);
    } catch (...) {
      // The attach's own error is the one reported.
    }
  }
}

std::optional<DeviceRule> GuestCgroupAcl::ruleFor(const std::string& path, bool readonly) const {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0 || !S_ISBLK(status.st_mode)) return std::nullopt;
  return DeviceRule::forNode(path, DeviceType::Block, status.st_rdev,
                             readonly ? DeviceAccess::read() : DeviceAccess::readWrite());
}

void GuestCgroupAcl::change(const DeviceRule& rule, bool allow) {
  auto controller = detectDeviceController();
  if (!controller) return;
  GuestCgroup cgroup =
      GuestCgroup::open(GuestCgroupLocation::fromPath(*controller, *cgroupPath_, record_.uuid));
  if (!audit_) throw Error(ExitCode::Failed, "cgroup ACL change without an audit log");
  const AuditGuest guest{record_.domainType, record_.name, record_.uuid};
  if (allow) {
    cgroup.allow(rule, *audit_, guest);
  } else {
    cgroup.deny(rule, *audit_, guest);
  }
}

void GuestCgroupAcl::allow(const std::string& path, bool readonly) {
  if (!cgroupPath_) return;
  auto rule = ruleFor(path, readonly);
  if (!rule) return;
  change(*rule, true);
  allowed_.push_back(*rule);
}

void GuestCgroupAcl::deny(const std::string& path) {
  if (!cgroupPath_) return;
  if (auto rule = ruleFor(path, false)) change(*rule, false);
}

}  // namespace seclabel

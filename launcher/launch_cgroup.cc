#include "launcher/launch_cgroup.h"

#include <signal.h>
#include <time.h>

#include <iostream>
#include <map>

#include "audit/audit.h"
#include "core/error.h"

namespace seclabel {
namespace {

// A log that takes every record and keeps none: for a manager without one.
class DiscardingAuditLog final : public AuditLog {
 public:
  void ensureUsable() override {}
  void write(const AuditRecord&) override {}
};

void sleepMilliseconds(long ms) {
  timespec delay{ms / 1000, (ms % 1000) * 1000000L};
  ::nanosleep(&delay, nullptr);
}

}  // namespace

std::optional<DeviceController> guestDeviceController(CgroupDevices mode) {
  // One detection, and at most one warning, per command.
  static std::map<CgroupDevices, std::optional<DeviceController>> selected;
  if (auto found = selected.find(mode); found != selected.end()) return found->second;
  std::optional<DeviceController> controller =
      selectDeviceController(mode, [](const std::string& message) {
        std::cerr << ("seclabel: warning: " + message + "\n") << std::flush;
      });
  selected.emplace(mode, controller);
  return controller;
}

GuestDeviceUse guestDeviceUse(const Domain& live) {
  GuestDeviceUse use;
  for (const Disk& disk : live.disks) {
    if (disk.source && disk.source->kind == DiskSourceKind::Block)
      use.disks.push_back({disk.source->path,
                           disk.readonly ? DeviceAccess::read() : DeviceAccess::readWrite()});
    for (const DiskSource& layer : disk.backingChain)
      if (layer.kind == DiskSourceKind::Block)
        use.disks.push_back({layer.path, DeviceAccess::read()});
  }
  for (const PathResource& chardev : live.chardevs) use.chardevs.push_back(chardev.path);
  bool tap = false, vhost = false;
  for (const Interface& interface : live.interfaces) {
    const bool created = interface.type == InterfaceType::Bridge ||
                         (interface.type == InterfaceType::Ethernet &&
                          interface.tapManagement == TapManagement::Managed);
    tap |= created;
    vhost |= interface.driver != NetDriverName::Qemu;
  }
  if (tap) use.netDevices.push_back("/dev/net/tun");
  if (vhost && !live.interfaces.empty()) use.netDevices.push_back("/dev/vhost-net");
  return use;
}

void setUpGuestCgroup(SecurityManager& manager, const Domain& live) {
  const CgroupConfig& config = manager.config().cgroup;
  std::optional<DeviceController> controller = guestDeviceController(config.devices);
  if (!controller) return;
  const GuestCgroupLocation location =
      GuestCgroupLocation::at(*controller, config.parent, live.uuid);
  manager.store().setGuestCgroup(live.uuid, location.path());
  GuestCgroup::create(location, guestDeviceRules(guestDeviceUse(live), config.deviceAcl),
                      auditLogOrDiscard(manager),
                      AuditGuest{live.type, live.name, live.uuid});
}

AuditLog& auditLogOrDiscard(SecurityManager& manager) {
  static DiscardingAuditLog discard;
  return manager.auditLog() ? *manager.auditLog() : discard;
}

std::optional<GuestCgroup> openRecordedGuestCgroup(SecurityManager& manager,
                                                    const std::string& uuid) {
  std::optional<std::string> path = manager.store().guestCgroupOf(uuid);
  if (!path) return std::nullopt;
  return GuestCgroup::open(GuestCgroupLocation::fromPath(controllerHolding(*path), *path, uuid));
}

DeviceController controllerHolding(const std::string& path) {
  for (CgroupVersion version : {CgroupVersion::V1, CgroupVersion::V2}) {
    std::optional<DeviceController> controller = detectDeviceController(version);
    if (!controller) continue;
    const std::string& mount = controller->mountPoint;
    if (path.size() > mount.size() && path.compare(0, mount.size(), mount) == 0 &&
        path[mount.size()] == '/')
      return *controller;
  }
  throw Error(ExitCode::Failed,
              "cgroup " + path + " is under no device controller mount of this host");
}

bool emptyGuestCgroup(const GuestCgroup& cgroup, int timeoutMs) {
  for (int waited = 0;; waited += 10) {
    std::vector<pid_t> left = cgroup.processes();
    if (left.empty()) return true;
    if (waited >= timeoutMs) return false;
    for (pid_t pid : left) ::kill(pid, SIGKILL);
    sleepMilliseconds(10);
  }
}

void releaseGuestCgroup(Store& store, const std::string& uuid,
                        std::vector<std::string>& warnings) {
  std::optional<std::string> path = store.guestCgroupOf(uuid);
  if (!path) return;
  try {
    removeGuestCgroup(GuestCgroupLocation::fromPath(controllerHolding(*path), *path, uuid));
    store.removeGuestCgroup(uuid);
  } catch (const Error& e) {
    warnings.push_back(e.what());  // stays recorded: a later recover tries again
  }
}

}  // namespace seclabel

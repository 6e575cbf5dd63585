#include "hotplug/qemu_devices.h"

#include <set>

#include "core/error.h"
#include "fdpass/fdset.h"

namespace seclabel {
namespace {

// Undoes one step unless dismissed; an undo that fails is not the error
// worth reporting (the step's own failure is), so it is swallowed.
class Undo {
 public:
  explicit Undo(std::function<void()> undo) : undo_(std::move(undo)) {}
  ~Undo() {
    if (!undo_) return;
    try {
      undo_();
    } catch (...) {
    }
  }
  void dismiss() { undo_ = nullptr; }
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;

 private:
  std::function<void()> undo_;
};

void step(const HotplugStepHook& hook, std::string_view name) {
  if (hook) hook(name);
}

// The path an opaque "rdwr:PATH" / "rdonly:PATH" names, or nullopt.
std::optional<std::string> opaquePath(const std::optional<std::string>& opaque) {
  if (!opaque) return std::nullopt;
  for (std::string_view mode : {"rdwr:", "rdonly:"})
    if (opaque->starts_with(mode)) return opaque->substr(mode.size());
  return std::nullopt;
}

}  // namespace

DiskInQemu attachDiskToQemu(QmpClient& qmp, const DiskForQemu& disk,
                            const HotplugStepHook& beforeStep) {
  DiskInQemu plugged{disk.deviceId, disk.nodeName, std::nullopt};
  std::string filename = disk.path;
  std::optional<Undo> undoFdset;
  if (!disk.fds.empty()) {
    // Only a set this attach created is ever removed: QEMU picks the id
    // and may lie about it (see addDiskFdsToQemu).
    std::set<int> existing;
    for (const QmpFdset& set : qmp.queryFdsets()) existing.insert(set.fdsetId);
    step(beforeStep, "add-fd");
    undoFdset.emplace([&] {
      if (plugged.fdsetId) qmp.removeFd(*plugged.fdsetId);
    });
    for (const QemuDiskFd& fd : disk.fds) {
      QmpAddedFd added = qmp.addFd(fd.fd, plugged.fdsetId, fd.opaque);
      if (!plugged.fdsetId && existing.count(added.fdsetId))
        throw Error(ExitCode::Failed, "QEMU answered add-fd with fd set " +
                                          std::to_string(added.fdsetId) +
                                          ", which existed before: not removing it");
      plugged.fdsetId = added.fdsetId;
    }
    filename = fdsetPath(*plugged.fdsetId);
  }

  step(beforeStep, "blockdev-add");
  nlohmann::json file = {{"driver", disk.blockDevice ? "host_device" : "file"},
                         {"filename", filename}};
  if (disk.readonly) file["read-only"] = true;
  qmp.execute("blockdev-add", {{"node-name", disk.nodeName},
                               {"driver", disk.format},
                               {"read-only", disk.readonly},
                               {"file", file}});
  Undo undoNode([&] { qmp.execute("blockdev-del", {{"node-name", disk.nodeName}}); });

  step(beforeStep, "device_add");
  nlohmann::json device = {
      {"driver", disk.deviceDriver}, {"id", disk.deviceId}, {"drive", disk.nodeName}};
  if (disk.bus) device["bus"] = *disk.bus;
  qmp.execute("device_add", device);

  undoNode.dismiss();
  if (undoFdset) undoFdset->dismiss();
  return plugged;
}

void detachDiskFromQemu(QmpClient& qmp, const std::string& deviceId, const std::string& nodeName,
                        const std::string& path) {
  qmp.deleteDevice(deviceId);
  qmp.execute("blockdev-del", {{"node-name", nodeName}});
  if (path.empty()) return;
  for (const QmpFdset& set : qmp.queryFdsets()) {
    bool ours = !set.fds.empty();
    for (const QmpFdsetFd& fd : set.fds)
      if (opaquePath(fd.opaque) != path) ours = false;
    if (ours) qmp.removeFd(set.fdsetId);
  }
}

void attachNicToQemu(QmpClient& qmp, const NicForQemu& nic, const HotplugStepHook& beforeStep) {
  if (nic.tapFds.empty()) throw Error::invalidInput("interface " + nic.deviceId + " has no tap fd");
  if (!nic.vhostFds.empty() && nic.vhostFds.size() != nic.tapFds.size())
    throw Error::invalidInput("interface " + nic.deviceId +
                              ": one vhost-net fd per queue or none");
  std::vector<std::string> names;  // given to QEMU by getfd, not yet used
  Undo undoNames([&] {
    // netdev_add takes the fds it uses out of QEMU's named list, so after
    // a netdev_add that failed half-way some of these are gone already:
    // each is withdrawn on its own.
    for (const std::string& name : names) {
      try {
        qmp.closeFd(name);
      } catch (const Error&) {
      }
    }
  });
  auto give = [&](int fd, const std::string& name) {
    qmp.getFd(fd, name);
    names.push_back(name);
  };
  std::string tapNames, vhostNames;
  step(beforeStep, "getfd");
  for (std::size_t i = 0; i < nic.tapFds.size(); ++i) {
    std::string name = nic.netdevId + "-fd" + std::to_string(i);
    give(nic.tapFds[i], name);
    tapNames += (i ? ":" : "") + name;
  }
  for (std::size_t i = 0; i < nic.vhostFds.size(); ++i) {
    std::string name = nic.netdevId + "-vhostfd" + std::to_string(i);
    give(nic.vhostFds[i], name);
    vhostNames += (i ? ":" : "") + name;
  }

  step(beforeStep, "netdev_add");
  const bool multiqueue = nic.tapFds.size() > 1;
  nlohmann::json netdev = {{"type", "tap"}, {"id", nic.netdevId}};
  netdev[multiqueue ? "fds" : "fd"] = tapNames;
  if (!nic.vhostFds.empty()) {
    netdev["vhost"] = true;
    netdev[multiqueue ? "vhostfds" : "vhostfd"] = vhostNames;
  }
  qmp.execute("netdev_add", netdev);
  Undo undoNetdev([&] { qmp.execute("netdev_del", {{"id", nic.netdevId}}); });

  step(beforeStep, "device_add");
  nlohmann::json device = {{"driver", nic.deviceDriver},
                           {"id", nic.deviceId},
                           {"netdev", nic.netdevId},
                           {"mac", nic.mac}};
  if (nic.bus) device["bus"] = *nic.bus;
  qmp.execute("device_add", device);

  undoNetdev.dismiss();
  // netdev_add used every named fd (QEMU 7.2 takes them out of its list);
  // the undo's closefd of each, answered "not found", checks that none
  // stays behind in QEMU.
}

void detachNicFromQemu(QmpClient& qmp, const std::string& deviceId,
                       const std::string& netdevId) {
  qmp.deleteDevice(deviceId);
  qmp.execute("netdev_del", {{"id", netdevId}});
}

}  // namespace seclabel

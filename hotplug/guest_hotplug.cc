#include "hotplug/guest_hotplug.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "core/error.h"
#include "fdpass/fdset.h"
#include "hotplug/guest_cgroup_acl.h"

namespace seclabel {
namespace {

// What QEMU calls the disk's parts: the device is the XML's <alias name>
// (else "disk-TARGET"), the block node "seclabel-TARGET".
std::string diskDeviceId(const DeviceElement& device) {
  return device.alias.value_or("disk-" + device.disk.target);
}
std::string diskNodeName(const Disk& disk) { return "seclabel-" + disk.target; }

// libvirt's mapping of <target bus> to a QEMU device; a scsi disk goes on
// controller 0 (its alias scsi0, as libvirt names it).
void chooseDiskDevice(const DeviceElement& device, DiskForQemu& qemu) {
  const Disk& disk = device.disk;
  std::string bus = device.bus;
  if (bus.empty()) bus = disk.target.starts_with("sd") ? "scsi" : "virtio";
  const bool cdrom = disk.device == "cdrom";
  if (bus == "scsi") {
    qemu.deviceDriver = cdrom ? "scsi-cd" : "scsi-hd";
    qemu.bus = "scsi0.0";
  } else if (bus == "virtio" && !cdrom) {
    qemu.deviceDriver = "virtio-blk-pci";
  } else if (bus == "usb" && !cdrom) {
    qemu.deviceDriver = "usb-storage";
  } else {
    throw Error::invalidInput("disk " + disk.target + ": cannot hot-plug a " + disk.device +
                              " on bus '" + bus + "' (scsi, virtio and usb disks can be)");
  }
}

AuditGuest auditGuestOf(const GuestRecord& record) {
  return {record.domainType, record.name, record.uuid};
}

void write(AuditLog* audit, const AuditRecord& record) {
  if (audit) audit->write(record);
}

// The test seam of the crash tests: SECLABEL_TEST_HOTPLUG_STOP_AT=STEP makes
// the process say "stopped at STEP" and wait there for its SIGKILL.
HotplugStepHook withStopHook(const HotplugStepHook& hook) {
  const char* stopAt = std::getenv("SECLABEL_TEST_HOTPLUG_STOP_AT");
  if (!stopAt || !*stopAt) return hook;
  std::string where = stopAt;
  return [hook, where](std::string_view step) {
    if (step == where) {
      std::printf("stopped at %s\n", where.c_str());
      std::fflush(stdout);
      for (;;) ::pause();
    }
    if (hook) hook(step);
  };
}

void attachDisk(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                const DeviceElement& device, const HotplugOptions& options) {
  const Disk& disk = device.disk;
  if (!disk.source)
    throw Error::invalidInput("disk " + disk.target + " has no source: nothing to attach");
  DiskForQemu qemu;
  chooseDiskDevice(device, qemu);
  qemu.deviceId = diskDeviceId(device);
  qemu.nodeName = diskNodeName(disk);
  qemu.format = disk.source->format.value_or("raw");
  qemu.readonly = disk.readonly;
  qemu.blockDevice = disk.source->kind == DiskSourceKind::Block;
  qemu.path = disk.source->path;
  const HotplugStepHook hook = withStopHook(options.beforeStep);

  nlohmann::json payload = {{"kind", "disk"},          {"name", disk.target},
                            {"qmp", options.qmpSocket}, {"deviceId", qemu.deviceId},
                            {"nodeName", qemu.nodeName}, {"path", qemu.path},
                            {"xml", device.xml}};
  SecurityManager::DiskAttach attach = manager.beginDiskAttach(guest, disk, payload.dump());
  const AuditGuest who = auditGuestOf(attach.record);
  try {
    std::vector<OpenedImage> opened;
    if (attach.fdPassed) {
      // Opened as at start: by the rules of every guest path, audited.
      try {
        opened = openDiskImages(attach.fdPassed->path, attach.fdPassed->access);
      } catch (const Error&) {
        write(audit, audit::resourceOpen(who, attach.fdPassed->path, std::nullopt,
                                         disk.readonly ? AuditAccess::ReadOnly
                                                       : AuditAccess::ReadWrite,
                                         AuditOutcome::Failure));
        throw;
      }
      for (const OpenedImage& image : opened) {
        write(audit, audit::resourceOpen(
                         who, attach.fdPassed->path, auditRdevOf(image.fd.get()),
                         image.mode == FdMode::ReadOnly ? AuditAccess::ReadOnly
                                                        : AuditAccess::ReadWrite,
                         AuditOutcome::Success));
        qemu.fds.push_back({image.fd.get(), fdsetOpaque(image.mode, attach.fdPassed->path)});
      }
    }
    GuestCgroupAcl acl(attach.record, audit);
    if (qemu.blockDevice) acl.allow(qemu.path, disk.readonly);
    QmpClient qmp = QmpClient::connect(options.qmpSocket, options.timeout);
    attachDiskToQemu(qmp, qemu, hook);
    if (hook) hook("commit");  // QEMU has it; the store does not know yet
    manager.commitDiskAttach(attach, device.xml);
    acl.keep();
  } catch (const Error&) {
    manager.abortDiskAttach(attach, disk);
    write(audit, audit::diskHotplug(who, AuditDiskChange::Attach, qemu.path,
                                    AuditOutcome::Failure));
    throw;
  }
  write(audit, audit::diskHotplug(who, AuditDiskChange::Attach, qemu.path,
                                  AuditOutcome::Success));
}

void detachDisk(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                const DeviceElement& device, const HotplugOptions& options) {
  const Disk& disk = device.disk;
  GuestRecord record = manager.requireGuest(guest);
  const AuditGuest who = auditGuestOf(record);
  const std::string path = disk.source ? disk.source->path : std::string();
  nlohmann::json payload = {{"kind", "disk"},
                            {"name", disk.target},
                            {"qmp", options.qmpSocket},
                            {"deviceId", diskDeviceId(device)},
                            {"nodeName", diskNodeName(disk)},
                            {"path", path},
                            {"xml", device.xml}};
  int64_t intent = manager.beginDetach(record, payload.dump());
  try {
    QmpClient qmp = QmpClient::connect(options.qmpSocket, options.timeout);
    detachDiskFromQemu(qmp, diskDeviceId(device), diskNodeName(disk), path);
  } catch (const Error& e) {
    // QEMU may still use the image: nothing is restored.
    manager.abandonDetach(intent);
    write(audit, audit::diskHotplug(who, AuditDiskChange::Detach, path, AuditOutcome::Failure));
    if (e.errnum() == ETIMEDOUT)
      throw Error(ExitCode::Failed,
                  std::string(e.what()) + "; guest " + record.name + " still has disk " +
                      disk.target + ", so its image keeps the guest's labels",
                  ETIMEDOUT);
    throw;
  }
  GuestCgroupAcl(record, audit).deny(path);
  manager.finishDiskDetach(record.uuid, disk, intent);
  write(audit, audit::diskHotplug(who, AuditDiskChange::Detach, path, AuditOutcome::Success));
}

}  // namespace

void attachDevice(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                  const DeviceElement& device, const HotplugOptions& options) {
  if (device.kind == DeviceKind::Disk) return attachDisk(manager, audit, guest, device, options);
  throw Error::invalidInput("attaching an <interface> is not supported yet");
}

void detachDevice(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                  const DeviceElement& device, const HotplugOptions& options) {
  if (device.kind == DeviceKind::Disk) return detachDisk(manager, audit, guest, device, options);
  throw Error::invalidInput("detaching an <interface> is not supported yet");
}

DeviceElement deviceFromLiveXml(const GuestRecord& record, const std::string& target,
                                const std::string& alias) {
  if (!target.empty()) return parseDeviceXml(diskElementOf(record.liveXml, target));
  return parseDeviceXml(interfaceElementOf(record.liveXml, alias));
}

bool settleHotplugIntent(const Intent& intent) {
  const nlohmann::json payload = nlohmann::json::parse(intent.payloadJson, nullptr, false);
  auto field = [&](const char* name) {
    auto it = payload.is_object() ? payload.find(name) : payload.end();
    return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::optional<QmpClient> qmp;
  try {
    qmp.emplace(QmpClient::connect(field("qmp"), std::chrono::seconds(30)));
  } catch (const Error& e) {
    // No QEMU listens there any more: it has nothing.
    if (e.errnum() == ENOENT || e.errnum() == ECONNREFUSED) return false;
    throw;
  }
  const std::string deviceId = field("deviceId");
  for (const auto& child : qmp->execute("qom-list", {{"path", "/machine/peripheral"}}))
    if (child.is_object() && child.value("name", "") == deviceId) return true;
  // Not there: take away what a half-done attach left.
  if (field("kind") == "disk") {
    try {
      qmp->execute("blockdev-del", {{"node-name", field("nodeName")}});
    } catch (const Error&) {
    }
    const std::string path = field("path");
    for (const QmpFdset& set : qmp->queryFdsets()) {
      bool ours = !set.fds.empty();
      for (const QmpFdsetFd& fd : set.fds)
        if (fd.opaque != "rdwr:" + path && fd.opaque != "rdonly:" + path) ours = false;
      if (ours) qmp->removeFd(set.fdsetId);
    }
  }
  return false;
}

}  // namespace seclabel

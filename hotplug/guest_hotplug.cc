#include "hotplug/guest_hotplug.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "core/error.h"
#include "core/security_models.h"
#include "fdpass/fdset.h"
#include "hotplug/guest_cgroup_acl.h"
#include "net/bridge_acl.h"
#include "net/net_device.h"
#include "net/rtnetlink.h"
#include "xml/interfaces.h"
#include "xml/xml.h"

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

// The test seam of the MAC tests: SECLABEL_TEST_HOTPLUG_MAC_TAILS="000001
// 000002" (six hex digits each) are the tails of the MACs an attach draws,
// in turn and over again, instead of random ones, so a test can make it
// draw a taken one first (or only taken ones).
RandomBytes macRandomBytes() {
  const char* tails = std::getenv("SECLABEL_TEST_HOTPLUG_MAC_TAILS");
  if (!tails || !*tails) return systemRandomBytes();
  auto next = std::make_shared<std::istringstream>(tails);
  return [next](std::span<std::uint8_t> out) {
    std::string tail;
    if (!(*next >> tail)) {
      next->clear();
      next->seekg(0);
      *next >> tail;
    }
    if (tail.size() != 2 * out.size())
      throw Error(ExitCode::Failed, "SECLABEL_TEST_HOTPLUG_MAC_TAILS: '" + tail +
                                        "' is not six hex digits");
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<std::uint8_t>(std::stoul(tail.substr(2 * i, 2), nullptr, 16));
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
  bool qemuKeepsIt = false;
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
    GuestCgroupAcl acl(manager.store(), attach.record, audit);
    if (qemu.blockDevice) acl.allow(qemu.path, disk.readonly);
    QmpClient qmp = QmpClient::connect(options.qmpSocket, options.timeout);
    attachDiskToQemu(qmp, qemu, hook);
    if (hook) hook("commit");  // QEMU has it; the store does not know yet
    try {
      manager.commitDiskAttach(attach, device.xml);
    } catch (const Error& e) {
      // The store cannot record it: QEMU must not keep a disk whose labels
      // are about to be taken back.
      try {
        detachDiskFromQemu(qmp, qemu.deviceId, qemu.nodeName, qemu.path);
      } catch (const Error& stuck) {
        // QEMU keeps it: so do the labels. The intent stays pending, and
        // recover, finding QEMU has the disk, records it.
        qemuKeepsIt = true;
        throw Error(ExitCode::Failed,
                    std::string(e.what()) + "; QEMU keeps disk " + disk.target + " (" +
                        stuck.what() + "): run seclabel recover to record it");
      }
      throw;
    }
    acl.keep();
  } catch (const Error&) {
    if (!qemuKeepsIt) manager.abortDiskAttach(attach, disk);
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
  const HotplugStepHook hook = withStopHook(options.beforeStep);
  int64_t intent = manager.beginDetach(record, payload.dump());
  try {
    QmpClient qmp = QmpClient::connect(options.qmpSocket, options.timeout);
    if (hook) hook("device_del");
    detachDiskFromQemu(qmp, diskDeviceId(device), diskNodeName(disk), path);
    if (hook) hook("restore");  // QEMU let go; nothing is restored yet
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
  GuestCgroupAcl(manager.store(), record, audit).deny(path);
  manager.finishDiskDetach(record.uuid, disk, intent);
  write(audit, audit::diskHotplug(who, AuditDiskChange::Detach, path, AuditOutcome::Success));
}

// libvirt's <model type> to QEMU's device; no model: virtio, as libvirt.
std::string nicDeviceDriver(const Interface& interface) {
  const std::string model = interface.model.value_or("virtio");
  if (model == "virtio") return "virtio-net-pci";
  if (model == "usb-net" || model == "e1000" || model == "e1000e" || model == "rtl8139" ||
      model == "vmxnet3")
    return model;
  throw Error::invalidInput("interface model '" + model + "' cannot be hot-plugged "
                            "(virtio, usb-net, e1000, e1000e, rtl8139, vmxnet3 can)");
}

std::string netdevIdFor(const std::string& alias) { return "host" + alias; }

// The first netN no interface of the guest uses (libvirt's rule).
std::string freeAlias(const Domain& live) {
  for (unsigned n = 0;; ++n) {
    std::string alias = "net" + std::to_string(n);
    if (!live.interfaceByAlias(alias)) return alias;
  }
}

NetDevice openInterfaceDevice(const SecurityManager& manager, const Interface& interface,
                              NetContext& context, const NetInterfaceSpec& spec) {
  switch (interface.type) {
    case InterfaceType::Bridge:
      return NetDevice::createBridgeTap(context, spec, *interface.bridge,
                                        BridgeAcl::load(manager.config().network.bridgeAcl));
    case InterfaceType::Ethernet:
      if (interface.tapManagement == TapManagement::Unmanaged)
        return NetDevice::attachExistingTap(context, spec);
      return NetDevice::createEthernetTap(context, spec);
    case InterfaceType::Direct:
      return NetDevice::createMacvtap(context, spec, *interface.sourceDev, interface.macvtapMode,
                                      manager.config().network.directDevices);
    default:
      throw Error::invalidInput(std::string("interface type '") + toString(interface.type) +
                                "' cannot be hot-plugged (bridge, direct and ethernet can)");
  }
}

void attachInterface(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                     const DeviceElement& device, const HotplugOptions& options) {
  GuestRecord record = manager.requireGuest(guest);
  const Domain live = parseDomainXml(record.liveXml, XmlForm::Live);
  const Interface& interface = device.interface;
  const std::string alias = device.alias.value_or(freeAlias(live));
  if (live.interfaceByAlias(alias))
    throw Error::invalidInput("guest " + record.name + " already has an interface " + alias);
  // A generated MAC is new to every guest of the store, as prepare's are.
  const bool generatedMac = !interface.mac;
  auto taken = [&](const MacAddress& candidate) {
    for (const Interface& other : live.interfaces)
      if (other.mac == candidate) return true;
    return manager.macTakenByAnotherGuest(candidate, record.uuid);
  };
  const MacAddress mac =
      generatedMac ? generateMacAddress(macRandomBytes(), taken) : *interface.mac;
  NicForQemu nic;
  nic.deviceId = alias;
  nic.netdevId = netdevIdFor(alias);
  nic.mac = mac.format();
  nic.deviceDriver = nicDeviceDriver(interface);
  const AuditGuest who = auditGuestOf(record);
  const HotplugStepHook hook = withStopHook(options.beforeStep);

  // The devices are opened as at start, for the guest's identity.
  ProcessLabels labels = manager.processLabels(live);
  Rtnetlink rtnetlink = Rtnetlink::open();
  NetContext context;
  context.rtnetlink = &rtnetlink;
  context.selinux = &manager.selinuxHost();
  if (labels.dac) {
    context.uid = labels.dac->uid;
    context.gid = labels.dac->gid;
  }
  if (const Seclabel* selinux = live.seclabelFor(kSelinuxModel))
    context.imageLabel = selinux->imagelabel;
  context.audit = audit;
  context.auditGuest = who;
  NetInterfaceSpec spec;
  spec.mac = mac;
  spec.name = interface.target;
  spec.queues = interface.queueCount();
  spec.vhost = interface.driver == NetDriverName::Qemu   ? VhostRequest::Off
               : interface.driver == NetDriverName::Vhost ? VhostRequest::Required
                                                          : VhostRequest::Auto;
  spec.linkAlias = linkAliasFor(record.uuid, alias);

  nlohmann::json payload = {{"kind", "interface"}, {"name", alias},
                            {"qmp", options.qmpSocket}, {"deviceId", nic.deviceId},
                            {"netdevId", nic.netdevId}, {"linkAlias", spec.linkAlias},
                            {"queues", spec.queues}};
  std::optional<int64_t> intent;
  bool qemuKeepsIt = false;
  try {
    std::optional<NetDevice> opened;
    opened.emplace(openInterfaceDevice(manager, interface, context, spec));
    for (const UniqueFd& fd : opened->queueFds()) nic.tapFds.push_back(fd.get());
    for (const UniqueFd& fd : opened->vhostFds()) nic.vhostFds.push_back(fd.get());
    const std::string liveXml =
        interfaceXmlWith(device.xml, nic.mac, alias, opened->link().name);
    payload["xml"] = liveXml;
    intent = manager.beginInterfaceAttach(record, payload.dump(), nic.mac, generatedMac);
    QmpClient qmp = QmpClient::connect(options.qmpSocket, options.timeout);
    attachNicToQemu(qmp, nic, hook);
    if (hook) hook("commit");
    try {
      manager.commitInterfaceAttach(record.uuid, *intent, liveXml);
    } catch (const Error& e) {
      try {
        detachNicFromQemu(qmp, nic.deviceId, nic.netdevId);  // as for a disk
      } catch (const Error& stuck) {
        qemuKeepsIt = true;  // the intent stays for recover, the link with QEMU
        opened->commit();
        throw Error(ExitCode::Failed,
                    std::string(e.what()) + "; QEMU keeps interface " + alias + " (" +
                        stuck.what() + "): run seclabel recover to record it");
      }
      throw;
    }
    // QEMU has the fds: the link lives as long as QEMU holds them (a tap)
    // or until the detach deletes it (a macvtap).
    opened->commit();
    opened->closeFds();
  } catch (const Error&) {
    // The intent completes and the MAC is free again: the link goes with
    // `opened`, QEMU took nothing.
    if (intent && !qemuKeepsIt) manager.abortInterfaceAttach(record.uuid, *intent);
    write(audit, audit::netInterface(who, AuditNetChange::Attach, nic.mac, AuditOutcome::Failure));
    throw;
  }
  write(audit, audit::netInterface(who, AuditNetChange::Attach, nic.mac, AuditOutcome::Success));
}

// Deletes the links seclabel created for this interface (found by their tag);
// a tap is usually gone already, with QEMU's last fd.
void deleteInterfaceLinks(const std::string& linkAlias) {
  Rtnetlink rtnetlink = Rtnetlink::open();
  for (const LinkInfo& link : findLinksByAlias(rtnetlink, linkAlias))
    deleteCreatedLink(rtnetlink, CreatedLink{link.ifindex, link.name, link.kind, link.alias,
                                             std::nullopt, std::nullopt});
}

void detachInterface(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                     const DeviceElement& device, const HotplugOptions& options) {
  GuestRecord record = manager.requireGuest(guest);
  const AuditGuest who = auditGuestOf(record);
  if (!device.alias) throw Error::invalidInput("the interface has no alias to detach it by");
  const std::string alias = *device.alias;
  const std::string mac = device.interface.mac ? device.interface.mac->format() : "?";
  nlohmann::json payload = {{"kind", "interface"}, {"name", alias},
                            {"qmp", options.qmpSocket}, {"deviceId", alias},
                            {"netdevId", netdevIdFor(alias)},
                            {"linkAlias", linkAliasFor(record.uuid, alias)},
                            {"xml", device.xml}};
  const HotplugStepHook hook = withStopHook(options.beforeStep);
  int64_t intent = manager.beginDetach(record, payload.dump());
  try {
    QmpClient qmp = QmpClient::connect(options.qmpSocket, options.timeout);
    if (hook) hook("device_del");
    detachNicFromQemu(qmp, alias, netdevIdFor(alias));
    if (hook) hook("restore");
  } catch (const Error&) {
    manager.abandonDetach(intent);
    write(audit, audit::netInterface(who, AuditNetChange::Detach, mac, AuditOutcome::Failure));
    throw;
  }
  deleteInterfaceLinks(linkAliasFor(record.uuid, alias));
  manager.finishInterfaceDetach(record.uuid, alias, intent);
  write(audit, audit::netInterface(who, AuditNetChange::Detach, mac, AuditOutcome::Success));
}

}  // namespace

void attachDevice(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                  const DeviceElement& device, const HotplugOptions& options) {
  if (device.kind == DeviceKind::Disk) return attachDisk(manager, audit, guest, device, options);
  attachInterface(manager, audit, guest, device, options);
}

void detachDevice(SecurityManager& manager, AuditLog* audit, const std::string& guest,
                  const DeviceElement& device, const HotplugOptions& options) {
  if (device.kind == DeviceKind::Disk) return detachDisk(manager, audit, guest, device, options);
  detachInterface(manager, audit, guest, device, options);
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
  } else if (field("kind") == "interface") {
    try {
      qmp->execute("netdev_del", {{"id", field("netdevId")}});
    } catch (const Error&) {
    }
    const unsigned queues = payload.value("queues", 1u);
    for (unsigned i = 0; i < queues && i < kMaxNetQueues; ++i) {
      for (const char* kind : {"-fd", "-vhostfd"}) {
        try {
          qmp->closeFd(field("netdevId") + kind + std::to_string(i));
        } catch (const Error&) {
        }
      }
    }
    deleteInterfaceLinks(field("linkAlias"));
  }
  return false;
}

}  // namespace seclabel

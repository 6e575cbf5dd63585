// SecurityManager's part of hot-plug: the labels and the store. The QMP part
// (and the order of the two) is hotplug/; docs/hotplug.md has the whole.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "audit/audit.h"
#include "secdriver/guest_resources.h"
#include "secdriver/manager.h"
#include "secdriver/planned_resource.h"
#include "core/process_liveness.h"
#include "core/security_models.h"
#include "secdriver/safe_file.h"
#include "xml/device.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

// The intent's payload: the caller's description of the device and how to
// reach QEMU, plus who works on it (the pid and start time recover checks,
// as for every intent).
std::string hotplugPayload(const std::string& payloadJson) {
  nlohmann::json payload = nlohmann::json::parse(payloadJson, nullptr, false);
  if (!payload.is_object()) payload = nlohmann::json::object();
  payload["pid"] = ::getpid();
  payload["start"] = processStartTime(::getpid()).value_or(0);
  return payload.dump();
}

// The domain that holds just `disk`, with the guest's labels: what
// guestResources and planResources work on.
Domain domainWithOnly(const Domain& live, const Disk& disk) {
  Domain one;
  one.type = live.type;
  one.name = live.name;
  one.uuid = live.uuid;
  one.seclabels = live.seclabels;
  one.disks = {disk};
  return one;
}

std::string stringField(const nlohmann::json& payload, const char* field) {
  auto it = payload.find(field);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

SecurityManager::DiskAttach SecurityManager::beginDiskAttach(const std::string& nameOrUuid,
                                                             const Disk& disk,
                                                             const std::string& payloadJson) {
  requireAuditBeforeChanges();
  DiskAttach attach;
  attach.record = requireGuest(nameOrUuid);
  Domain live = parseDomainXml(attach.record.liveXml, XmlForm::Live);
  if (live.diskByTarget(disk.target))
    throw Error::invalidInput("guest " + attach.record.name + " already has a disk " + disk.target);
  Domain one = domainWithOnly(live, disk);
  Owner owner{attach.record.uuid, attach.record.name, attach.record.host};

  // As in prepare: one durable commit holds the intent and every original
  // before any file changes; a refusal in here (a file another guest holds
  // privately, a path that leads where it must not) rolls it all back.
  std::vector<PlannedResource> planned;
  {
    auto transaction = store_.begin();
    attach.intent =
        store_.recordIntent(attach.record.uuid, IntentKind::Attach, hotplugPayload(payloadJson));
    planned = planResources(one, owner);
    transaction->commit();
  }
  try {
    labelResources(one, owner, planned);
  } catch (const Error&) {
    abortDiskAttach(attach, disk);
    throw;
  }
  for (const FdPassedDisk& passed : store_.fdPassedDisksOf(attach.record.uuid))
    if (passed.target == disk.target) attach.fdPassed = passed;
  return attach;
}

void SecurityManager::commitDiskAttach(const DiskAttach& attach, const std::string& deviceXml) {
  auto transaction = store_.begin();
  GuestRecord record = requireGuest(attach.record.uuid);
  Domain live = parseDomainXml(domainXmlWithDevice(record.liveXml, deviceXml), XmlForm::Live);
  record.liveXml = formatDomainXml(live, XmlForm::Live);
  store_.updateGuest(record);
  store_.completeIntent(attach.intent);
  transaction->commit();
}

void SecurityManager::abortDiskAttach(const DiskAttach& attach, const Disk& disk) {
  std::vector<std::string> warnings;
  std::vector<Error> failures;
  {
    auto transaction = store_.begin();
    failures = releaseDiskLocked(attach.record.uuid, disk, warnings);
    store_.completeIntent(attach.intent);
    transaction->commit();
  }
  if (warn_) {
    for (const auto& warning : warnings) warn_(warning);
    for (const auto& failure : failures)
      warn_(std::string("not restored (the guest's restore tries again): ") + failure.what());
  }
}

int64_t SecurityManager::beginDetach(const GuestRecord& record, const std::string& payloadJson) {
  requireAuditBeforeChanges();
  return store_.recordIntent(record.uuid, IntentKind::Detach, hotplugPayload(payloadJson));
}

void SecurityManager::abandonDetach(int64_t intent) { store_.completeIntent(intent); }

void SecurityManager::recordLiveMacsLocked(const std::string& uuid, const Domain& live,
                                           const std::optional<std::string>& extra) {
  std::vector<std::string> macs;
  for (const Interface& interface : live.interfaces)
    if (interface.mac) macs.push_back(interface.mac->format());
  if (extra) macs.push_back(*extra);
  store_.recordGuestMacs(uuid, macs);
}

bool SecurityManager::macTakenByAnotherGuest(const MacAddress& mac, const std::string& exceptUuid) {
  return store_.macAddressTaken(mac.format(), exceptUuid);
}

int64_t SecurityManager::beginInterfaceAttach(const GuestRecord& record,
                                              const std::string& payloadJson,
                                              const std::string& mac, bool generatedMac) {
  requireAuditBeforeChanges();
  auto transaction = store_.begin();
  const GuestRecord current = requireGuest(record.uuid);
  if (generatedMac && store_.macAddressTaken(mac, record.uuid))
    throw Error::conflict("MAC " + mac + " was given to another guest meanwhile: "
                          "attach again for a new one");
  int64_t intent =
      store_.recordIntent(record.uuid, IntentKind::Attach, hotplugPayload(payloadJson));
  recordLiveMacsLocked(record.uuid, parseDomainXml(current.liveXml, XmlForm::Live), mac);
  transaction->commit();
  return intent;
}

void SecurityManager::abortInterfaceAttach(const std::string& uuid, int64_t intent) {
  auto transaction = store_.begin();
  if (auto record = store_.findGuest(uuid))
    recordLiveMacsLocked(uuid, parseDomainXml(record->liveXml, XmlForm::Live));
  store_.completeIntent(intent);
  transaction->commit();
}

void SecurityManager::commitInterfaceAttach(const std::string& uuid, int64_t intent,
                                            const std::string& deviceXml) {
  auto transaction = store_.begin();
  GuestRecord record = requireGuest(uuid);
  Domain live = parseDomainXml(domainXmlWithDevice(record.liveXml, deviceXml), XmlForm::Live);
  record.liveXml = formatDomainXml(live, XmlForm::Live);
  store_.updateGuest(record);
  recordLiveMacsLocked(uuid, live);
  store_.completeIntent(intent);
  transaction->commit();
}

void SecurityManager::finishInterfaceDetach(const std::string& uuid, const std::string& alias,
                                            int64_t intent) {
  auto transaction = store_.begin();
  GuestRecord record = requireGuest(uuid);
  Domain live =
      parseDomainXml(domainXmlWithoutInterface(record.liveXml, alias), XmlForm::Live);
  record.liveXml = formatDomainXml(live, XmlForm::Live);
  store_.updateGuest(record);
  recordLiveMacsLocked(uuid, live);
  store_.completeIntent(intent);
  transaction->commit();
}

void SecurityManager::finishDiskDetach(const std::string& uuid, const Disk& disk,
                                       int64_t intent) {
  std::vector<std::string> warnings;
  std::vector<Error> failures;
  {
    auto transaction = store_.begin();
    GuestRecord record = requireGuest(uuid);
    failures = releaseDiskLocked(uuid, disk, warnings);
    Domain live =
        parseDomainXml(domainXmlWithoutDisk(record.liveXml, disk.target), XmlForm::Live);
    record.liveXml = formatDomainXml(live, XmlForm::Live);
    store_.updateGuest(record);
    store_.completeIntent(intent);
    transaction->commit();
  }
  if (warn_)
    for (const auto& warning : warnings) warn_(warning);
  if (!failures.empty())
    throw Error(ExitCode::Failed,
                "disk " + disk.target + " is detached but not restored: " +
                    failures.front().what() +
                    "; its original stays remembered and the guest's restore tries again",
                failures.front().errnum());
}

std::vector<Error> SecurityManager::releaseDiskLocked(const std::string& uuid, const Disk& disk,
                                                      std::vector<std::string>& warnings) {
  AuditGuest guest{kFallbackDomainType, uuid, uuid};
  if (auto record = store_.findGuest(uuid)) guest = {record->domainType, record->name, uuid};
  std::vector<Error> failures;
  Domain one;
  one.disks = {disk};
  for (const GuestResource& resource : guestResources(one)) {
    // The file itself when it can still be found (by the rules every path
    // of the guest is found by), else the path it was remembered under.
    std::optional<std::pair<uint64_t, uint64_t>> key;
    try {
      SafeFile file = SafeFile::open(resource.path, guestObjectOf(resource));
      key.emplace(file.status().st_dev, file.status().st_ino);
    } catch (const Error&) {
    }
    for (const HeldResource& held : store_.resourcesOf(uuid)) {
      const RememberedResource& original = held.original;
      const bool match = key ? original.dev == key->first && original.ino == key->second
                             : original.path == resource.path;
      if (!match) continue;
      // Another disk of this guest, or another guest, still uses it: only
      // this reference goes.
      bool last = held.references == 1;
      for (const auto& holder : store_.holdersOf(original.dev, original.ino))
        if (holder.guestUuid != uuid) last = false;
      if (last) {
        try {
          restoreRemembered(guest, original, warnings);
        } catch (const AuditUnavailable&) {
          throw;
        } catch (const Error& e) {
          failures.push_back(e);  // its original stays remembered
          break;
        }
      }
      store_.forget(original.dev, original.ino, uuid);
      break;
    }
  }
  store_.removeFdPassedDisk(uuid, disk.target);
  return failures;
}

std::vector<Error> SecurityManager::recoverHotplugLocked(const Intent& intent,
                                                         std::vector<std::string>& report,
                                                         std::vector<std::string>& warnings) {
  if (!hotplugSettle_) return {};  // left pending: this recover cannot ask QEMU
  const nlohmann::json payload = nlohmann::json::parse(intent.payloadJson, nullptr, false);
  auto record = store_.findGuest(intent.guestUuid);
  if (!record || !payload.is_object()) {
    store_.completeIntent(intent.id);
    return {};
  }
  const std::string xml = stringField(payload, "xml");
  const std::string what = stringField(payload, "kind") + " " + stringField(payload, "name");
  bool qemuHasIt = false;
  try {
    qemuHasIt = hotplugSettle_(intent);
  } catch (const Error& e) {
    warnings.push_back("cannot settle the interrupted " + std::string(intentKindName(intent.kind)) +
                       " of " + what + " of guest " + record->name + ": " + e.what());
    return {};
  }
  DeviceElement device = parseDeviceXml(xml);
  std::vector<Error> failures;
  if (intent.kind == IntentKind::Attach) {
    if (qemuHasIt) {
      Domain live = parseDomainXml(domainXmlWithDevice(record->liveXml, xml), XmlForm::Live);
      record->liveXml = formatDomainXml(live, XmlForm::Live);
      store_.updateGuest(*record);
      recordLiveMacsLocked(record->uuid, live);
      report.push_back("kept the interrupted attach of " + what + " of guest " + record->name +
                       ": QEMU has it");
    } else {
      if (device.kind == DeviceKind::Disk)
        failures = releaseDiskLocked(record->uuid, device.disk, warnings);
      else  // the MAC the attach reserved is free again
        recordLiveMacsLocked(record->uuid, parseDomainXml(record->liveXml, XmlForm::Live));
      report.push_back("undid the interrupted attach of " + what + " of guest " + record->name);
    }
  } else {
    if (qemuHasIt) {
      report.push_back("left " + what + " with guest " + record->name +
                       ": QEMU still has it after an interrupted detach");
    } else {
      if (device.kind == DeviceKind::Disk)
        failures = releaseDiskLocked(record->uuid, device.disk, warnings);
      Domain live = parseDomainXml(record->liveXml, XmlForm::Live);
      const bool listed = device.kind == DeviceKind::Disk
                              ? live.diskByTarget(device.disk.target) != nullptr
                              : device.alias && live.interfaceByAlias(*device.alias) != nullptr;
      if (listed) {
        std::string without = device.kind == DeviceKind::Disk
                                  ? domainXmlWithoutDisk(record->liveXml, device.disk.target)
                                  : domainXmlWithoutInterface(record->liveXml, *device.alias);
        const Domain remaining = parseDomainXml(without, XmlForm::Live);
        record->liveXml = formatDomainXml(remaining, XmlForm::Live);
        store_.updateGuest(*record);
        recordLiveMacsLocked(record->uuid, remaining);
      }
      report.push_back("finished the interrupted detach of " + what + " of guest " +
                       record->name);
    }
  }
  store_.completeIntent(intent.id);
  return failures;
}

}  // namespace seclabel

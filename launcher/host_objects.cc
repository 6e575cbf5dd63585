#include "launcher/host_objects.h"

#include <sys/stat.h>

#include "audit/audit.h"
#include "core/error.h"
#include "launcher/launch_cgroup.h"
#include "net/rtnetlink.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

CreatedLink createdLinkOf(const GuestLinkRecord& record) {
  CreatedLink link;
  link.ifindex = static_cast<int>(record.ifindex.value_or(0));
  link.name = record.name;
  link.kind = record.kind;
  link.alias = record.tag;
  if (record.parentIndex) link.parentIndex = static_cast<int>(*record.parentIndex);
  if (record.parentAddress) link.parentAddress = MacAddress::parse(*record.parentAddress).bytes();
  return link;
}

void releaseGuestLinks(Store& store, AuditLog* log, const AuditGuest& guest,
                       std::vector<std::string>& warnings) {
  std::vector<GuestLinkRecord> records = store.guestLinksOf(guest.uuid);
  if (records.empty()) return;
  std::optional<Rtnetlink> rtnetlink;
  for (const GuestLinkRecord& record : records) {
    try {
      if (record.kind != "existing") {
        if (!rtnetlink) rtnetlink.emplace(Rtnetlink::open());
        if (record.ifindex) {
          deleteCreatedLink(*rtnetlink, createdLinkOf(record));
        } else {
          // Killed between the intent and learning what the kernel made:
          // the tag finds it.
          for (const LinkInfo& found : findLinksByAlias(*rtnetlink, record.tag)) {
            GuestLinkRecord seen = record;
            seen.ifindex = found.ifindex;
            seen.name = found.name;
            seen.kind = found.kind;
            deleteCreatedLink(*rtnetlink, createdLinkOf(seen));
          }
        }
      }
      // Given to the guest (the ifindex is recorded once the device is
      // made): taken back now.
      if (record.ifindex && log)
        log->write(audit::netInterface(guest, AuditNetChange::Stop, record.mac,
                                       AuditOutcome::Success));
      store.removeGuestLink(guest.uuid, record.tag);
    } catch (const AuditUnavailable&) {
      throw;
    } catch (const Error& e) {
      warnings.push_back("cannot delete link " +
                         (record.name.empty() ? record.tag : record.name) + ": " + e.what());
    }
  }
}

}  // namespace

void checkHostObjectInput(const Domain& domain, const std::vector<std::string>& argvTemplate) {
  checkNetPlaceholders(domain, argvTemplate);
}

std::unique_ptr<LaunchHostObjects> openLaunchHostObjects(
    SecurityManager& manager, GuestRecord& record, Domain& live, bool preparedHere,
    const std::vector<std::string>& argvTemplate) {
  auto objects = std::make_unique<LaunchHostObjects>();
  if (preparedHere) setUpGuestCgroup(manager, live);
  objects->network = GuestNetwork::open(manager, live, argvTemplate);
  if (!objects->network->guestFds().empty()) {
    // The live XML names the links made (<target dev>).
    record.liveXml = formatDomainXml(live, XmlForm::Live);
    manager.store().updateGuest(record);
  }
  objects->cgroup = openRecordedGuestCgroup(manager, live.uuid);
  if (objects->cgroup) {
    // A macvtap's node exists only now: allowed as a hotplug is.
    for (const std::string& node : objects->network->macvtapNodes()) {
      std::optional<NodeInfo> info = statNode(node);
      if (!info || info->type != S_IFCHR) continue;
      objects->cgroup->allow(
          DeviceRule::forNode(node, DeviceType::Char, info->rdev, DeviceAccess::readWrite()),
          auditLogOrDiscard(manager),
          AuditGuest{live.type, live.name, live.uuid});
    }
    objects->cgroupProcs = objects->cgroup->openProcsForChild();
  }
  return objects;
}

HostObjectRelease hostObjectRelease(Store& store, AuditLog* log) {
  return [&store, log](const AuditGuest& guest, std::vector<std::string>& warnings) {
    releaseGuestLinks(store, log, guest, warnings);
    releaseGuestCgroup(store, guest.uuid, warnings);
  };
}

}  // namespace seclabel

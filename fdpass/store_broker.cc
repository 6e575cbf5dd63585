#include "fdpass/store_broker.h"

#include <string_view>

#include "core/security_models.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

AuditAccess auditAccess(DiskAccess access) {
  return access == DiskAccess::ReadOnly ? AuditAccess::ReadOnly : AuditAccess::ReadWrite;
}

AuditPeer auditPeer(const PeerCredentials& peer) { return {peer.uid, peer.pid}; }

std::string_view limitWord(ConnectionLimit limit) {
  switch (limit) {
    case ConnectionLimit::PerUid: return "per-uid";
    case ConnectionLimit::AllUids: return "all-uids";
    case ConnectionLimit::FileDescriptors: return "fds";
  }
  return "?";
}

}  // namespace

std::optional<BrokerGuest> StoreGuestDirectory::find(const std::string& nameOrUuid) {
  auto record = store_.findGuest(nameOrUuid);
  if (!record || record->liveXml.empty()) return std::nullopt;
  Domain live = parseDomainXml(record->liveXml, XmlForm::Live);
  BrokerGuest guest{record->uuid, record->name, std::nullopt, {}};
  if (const Seclabel* dac = live.seclabelFor(kDacModel); dac && dac->label)
    guest.uid = DacLabel::parse(*dac->label).uid;
  for (const Disk& disk : live.disks)
    if (disk.source && !disk.target.empty())
      guest.disks[disk.target] = {disk.source->path,
                                  disk.readonly ? DiskAccess::ReadOnly : DiskAccess::ReadWrite};
  return guest;
}

void AuditingBrokerAuditor::fdPassed(const PeerCredentials& peer, const BrokerGuest& guest,
                                     const std::string&, const std::string& path,
                                     std::optional<dev_t> blockDevice, DiskAccess access,
                                     bool success) {
  log_.write(audit::brokerOpen(guestOf(guest.uuid, guest.name), path, blockDevice,
                               auditAccess(access), auditPeer(peer),
                               success ? AuditOutcome::Success : AuditOutcome::Failure));
}

void AuditingBrokerAuditor::denied(const PeerCredentials& peer, const std::string& guest,
                                   const std::string& disk, DiskAccess access,
                                   const std::string&) {
  auto record = store_.findGuest(guest);
  AuditGuest audited = record ? guestOf(record->uuid, record->name)
                              : AuditGuest{kFallbackDomainType, guest, "?"};
  std::string path = disk;
  if (record && !record->liveXml.empty()) {
    // Kept in a variable: the Disk pointer points into it.
    const Domain live = parseDomainXml(record->liveXml, XmlForm::Live);
    if (const Disk* d = live.diskByTarget(disk); d && d->source) path = d->source->path;
  }
  log_.write(audit::brokerOpen(audited, path, std::nullopt, auditAccess(access),
                               auditPeer(peer), AuditOutcome::Failure));
}

void AuditingBrokerAuditor::connectionRefused(const PeerCredentials& peer,
                                              ConnectionLimit limit) {
  log_.write(audit::brokerConnectionRefused(auditPeer(peer), limitWord(limit)));
}

void AuditingBrokerAuditor::refusalsSuppressed(const SuppressedRefusals& summary) {
  log_.write(audit::brokerRefusalsSuppressed(summary.uid, summary.count, summary.uids));
}

AuditGuest AuditingBrokerAuditor::guestOf(const std::string& uuid, const std::string& name) {
  auto record = store_.findGuest(uuid);
  return {record ? record->domainType : kFallbackDomainType, name, uuid};
}

BrokerLimits brokerLimits(const BrokerConfig& config) {
  BrokerLimits limits;
  limits.maxConnectionsPerUid = config.maxConnectionsPerUid;
  limits.maxConnections = config.maxConnections;
  limits.idleTimeout = std::chrono::seconds(config.idleTimeoutSeconds);
  limits.refusalAudit.ratePerSecond = config.refusalAuditRate;
  limits.refusalAudit.burst = config.refusalAuditBurst;
  return limits;
}

}  // namespace seclabel

#include "fdpass/broker_authorization.h"

namespace seclabel {
namespace {

BrokerDecision refuse(ExitCode code, std::string reason) {
  BrokerDecision decision;
  decision.refusalCode = code;
  decision.refusalReason = std::move(reason);
  return decision;
}

}  // namespace

BrokerDecision authorizeBrokerRequest(const BrokerRequest& request,
                                      const PeerCredentials& peer,
                                      const std::optional<BrokerGuest>& guest) {
  const bool callerIsRoot = peer.uid == 0;
  const bool callerOwnsGuest = guest && guest->uid && *guest->uid == peer.uid;
  if (!callerIsRoot && !callerOwnsGuest) {
    return refuse(ExitCode::PermissionDenied,
                  "uid " + std::to_string(peer.uid) + " may not open disks of guest " +
                      request.guest);
  }
  if (!guest) {
    return refuse(ExitCode::InvalidInput, "no guest " + request.guest);
  }
  auto disk = guest->disks.find(request.disk);
  if (disk == guest->disks.end()) {
    return refuse(ExitCode::PermissionDenied,
                  "guest " + guest->name + " has no disk " + request.disk);
  }
  if (request.access == DiskAccess::ReadWrite &&
      disk->second.access == DiskAccess::ReadOnly) {
    return refuse(ExitCode::PermissionDenied, "disk " + request.disk + " of guest " +
                                                  guest->name + " is read-only");
  }
  BrokerDecision decision;
  decision.granted = true;
  decision.disk = &disk->second;
  return decision;
}

}  // namespace seclabel

// The broker's one decision: may this caller have this disk with this access?
//
//   - root (uid 0) may ask for any guest;
//   - the guest's own DAC uid only for that guest;
//   - anyone else is refused, with the same words whether or not the guest
//     exists (a stranger learns nothing about which guests are defined);
//   - the disk must be one recorded for the guest;
//   - "rw" only for a disk that is not read-only.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "fdpass/broker_directory.h"
#include "fdpass/broker_protocol.h"

namespace seclabel {

struct BrokerDecision {
  bool granted = false;
  const BrokerDisk* disk = nullptr;  // into the guest, when granted
  ExitCode refusalCode = ExitCode::PermissionDenied;
  std::string refusalReason;
};

// `guest` is what the directory found for request.guest (nullopt if none).
BrokerDecision authorizeBrokerRequest(const BrokerRequest& request,
                                      const PeerCredentials& peer,
                                      const std::optional<BrokerGuest>& guest);

}  // namespace seclabel

// The broker's wire protocol (docs/fdpass.md is the reference).
//
// One request per SOCK_SEQPACKET record, one reply record per request:
//   request  {"op":"open","guest":"NAME|UUID","disk":"TARGET","access":"ro"|"rw"}
//   granted  {"ok":true,"guest":NAME,"uuid":UUID,"disk":TARGET,"path":PATH,
//             "access":"ro"|"rw","fdset":[{"mode":"rdwr","opaque":"rdwr:PATH"},
//                                         {"mode":"rdonly","opaque":"rdonly:PATH"}]}
//            with the fds attached by SCM_RIGHTS in the order of "fdset"
//   refused  {"ok":false,"code":"denied"|"invalid"|"failed","error":REASON}
//
// The request parser is strict, because anyone on the host may write to the
// socket: size limit, a single JSON object, exactly the four fields, each a
// string of bounded length without control characters, no duplicate keys.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "fdpass/fdset.h"

namespace seclabel {

inline constexpr std::size_t kMaxBrokerRequestBytes = 4096;
// Guest names (libvirt allows long ones), disk targets ("vda", "sdb", "hdc").
inline constexpr std::size_t kMaxBrokerGuestLength = 1024;
inline constexpr std::size_t kMaxBrokerDiskLength = 64;
// Replies carry paths: allow PATH_MAX twice over plus the JSON around it.
inline constexpr std::size_t kMaxBrokerReplyBytes = 16384;

struct BrokerRequest {
  std::string guest;  // name or UUID
  std::string disk;   // target dev, e.g. "vda"
  DiskAccess access;
};

// Parses one request; InvalidInput Error with a short reason otherwise.
BrokerRequest parseBrokerRequest(std::string_view text);
std::string formatBrokerRequest(const BrokerRequest& request);

// One fd of a granted reply, in the order the fds are attached.
struct BrokerFdDescription {
  FdMode mode;
  std::string opaque;
};

struct BrokerGrantDescription {
  std::string guestName;
  std::string guestUuid;
  std::string disk;
  std::string path;
  DiskAccess access;
  std::vector<BrokerFdDescription> fdset;
};

std::string formatBrokerGrant(const BrokerGrantDescription& grant);
// "denied" for PermissionDenied, "invalid" for InvalidInput, else "failed".
std::string formatBrokerRefusal(ExitCode code, std::string_view reason);

// A parsed reply: either a grant or a refusal (code + reason).
struct BrokerReply {
  bool ok = false;
  BrokerGrantDescription grant;  // when ok
  ExitCode refusalCode = ExitCode::Failed;
  std::string refusalReason;
};
// Client side; a malformed reply is a Failed Error.
BrokerReply parseBrokerReply(std::string_view text);

}  // namespace seclabel

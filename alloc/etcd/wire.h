// The JSON bodies of etcd's v3 gateway: requests out, replies in.
//
// The gateway maps etcd's protocol messages to JSON the protobuf way: field
// names in snake_case, bytes (keys, values) in base64, 64-bit integers as
// decimal strings, enums by name, and fields at their default value (0,
// false, empty) left out. Replies are checked, not trusted: a reply that is
// not what etcd sends (bad JSON, a wrong type, bad base64, a transaction
// result that does not match the branch it claims ran) is a MalformedReply.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "alloc/etcd/types.h"

namespace seclabel::etcd::wire {

// A reply that is not a valid answer to the request; what() says why, naming
// the field ("kvs[2].key: not valid base64").
class MalformedReply : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Deepest nesting of JSON arrays and objects a reply may have; the deepest
// etcd reply (a transaction's range result) has 5 levels.
inline constexpr int kMaxReplyDepth = 16;

std::string encodeRange(const RangeRequest& request);
std::string encodePut(const PutRequest& request);
std::string encodeDelete(const DeleteRequest& request);
std::string encodeTxn(const TxnRequest& request);
std::string encodeLeaseGrant(int64_t ttlSeconds);
std::string encodeLeaseKeepAlive(int64_t id);
std::string encodeStatus();

// An error etcd answered with instead of a result: its gRPC status code
// (14 Unavailable, 3 InvalidArgument, ...) and message.
struct ErrorReply {
  int code = 0;
  std::string message;
};

// The error in `body`, when it is one: {"error": "...", "code": N, ...} for a
// plain call, {"error": {"grpc_code": N, "message": "..."}} in a stream
// (lease keep-alive). nullopt when the body is no error reply (it may still be
// malformed: the decoders below say so).
std::optional<ErrorReply> decodeError(std::string_view body);

// Each throws MalformedReply when `body` is not such a reply.
RangeResult decodeRange(std::string_view body);
PutResult decodePut(std::string_view body);
DeleteResult decodeDelete(std::string_view body);
// The result must carry one response per op of the branch it says ran
// (`request`'s success or failure ops), each of that op's type.
TxnResult decodeTxn(std::string_view body, const TxnRequest& request);
LeaseGrantResult decodeLeaseGrant(std::string_view body);
LeaseKeepAliveResult decodeLeaseKeepAlive(std::string_view body);
MemberStatus decodeStatus(std::string_view body);

}  // namespace seclabel::etcd::wire

// How an etcd call fails: a seclabel::Error (exit code 1, one line naming the
// endpoints and the reason) that also says which kind of failure it was,
// because the caller must act differently on each.
#pragma once

#include <string>

#include "core/error.h"

namespace seclabel::etcd {

enum class EtcdFailure {
  // No endpoint could be reached before the deadline; nothing was sent
  // anywhere, or what was sent was a read. Safe to try again later.
  Unavailable,
  // The deadline passed while an endpoint was still working on a read (or on
  // a write that had not been sent). Safe to try again later.
  Timeout,
  // A write (put, delete, txn) was sent and then the answer was lost: the
  // connection broke, the deadline passed, etcd itself said it timed out, or
  // the reply was unreadable. It may or may not have been applied. Never send
  // it again blindly: read back the keys it writes and decide from what is
  // there (a txn guarded by create_revision == 0 on a unique key tells by the
  // key's value whether it was this one that landed).
  OutcomeUnknown,
  // etcd answered with an error that means the request was not applied
  // (invalid argument, compacted revision, no space, ...). grpcCode() says which.
  Rejected,
  // An endpoint answered a read with something that is not an etcd reply
  // (bad JSON, wrong types, bad base64, too large).
  BadReply,
};

const char* etcdFailureName(EtcdFailure failure);

// Catch it as EtcdError where the kind matters (an OutcomeUnknown must be
// read back); Error::withContext returns a plain Error without the kind.
class EtcdError : public Error {
 public:
  // Exit code Failed (1) for every kind.
  EtcdError(EtcdFailure failure, const std::string& message, int grpcCode = 0);

  EtcdFailure failure() const noexcept { return failure_; }
  // etcd's gRPC status code for Rejected (3 InvalidArgument, 11 OutOfRange,
  // ...), 0 otherwise.
  int grpcCode() const noexcept { return grpcCode_; }

 private:
  EtcdFailure failure_;
  int grpcCode_;
};

}  // namespace seclabel::etcd

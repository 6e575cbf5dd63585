#include "alloc/etcd/etcd_error.h"

namespace seclabel::etcd {

const char* etcdFailureName(EtcdFailure failure) {
  switch (failure) {
    case EtcdFailure::Unavailable: return "unavailable";
    case EtcdFailure::Timeout: return "timeout";
    case EtcdFailure::OutcomeUnknown: return "outcome unknown";
    case EtcdFailure::Rejected: return "rejected";
    case EtcdFailure::BadReply: return "bad reply";
  }
  return "unknown";
}

EtcdError::EtcdError(EtcdFailure failure, const std::string& message, int grpcCode)
    : Error(ExitCode::Failed, message), failure_(failure), grpcCode_(grpcCode) {}

}  // namespace seclabel::etcd

// A store transaction that lost a race with another host: nothing of it was
// applied, and the same unit of work, started again from the beginning, may
// well succeed (the next free identity is another one).
//
// Only a store shared by several hosts (the etcd backend) throws it, from
// StoreTransaction::commit(); SecurityManager::prepare starts the prepare
// again a bounded number of times. Exit code 3 (NoIdentity) when it escapes.
#pragma once

#include <string>

#include "core/error.h"

namespace seclabel {

class StoreConflict : public Error {
 public:
  explicit StoreConflict(const std::string& message) : Error(ExitCode::NoIdentity, message) {}
};

}  // namespace seclabel

// What a command that uses the store opens: config, store, SELinux host and
// the stacked manager, wired together.
#pragma once

#include <memory>

#include "alloc/store.h"
#include "secdriver/audit.h"
#include "secdriver/manager.h"
#include "secdriver/selinux_host.h"
#include "tools/global_options.h"

namespace seclabel::tools {

struct Session {
  Config config;
  std::unique_ptr<Store> store;
  std::unique_ptr<SelinuxHost> selinux;
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<SecurityManager> manager;
};

enum class SessionKind {
  ReadOnly,  // list, dominfo: no recovery run
  Mutating,  // prepare, restore, exec, run: `recover` runs first
};

// Warnings go to stderr as "seclabel: warning: ...".
Session openSession(const GlobalOptions& global, SessionKind kind);

void printWarning(const std::string& message);

}  // namespace seclabel::tools

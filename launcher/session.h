// Everything a guest operation needs, opened and wired together: the config,
// the state store, the SELinux host, the audit log and the stacked manager.
// The `seclabel` command and C++ launchers both start here.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "alloc/guest_claims.h"
#include "alloc/store.h"
#include "core/config.h"
#include "audit/audit.h"
#include "core/export.h"
#include "secdriver/manager.h"
#include "secdriver/selinux_host.h"

namespace seclabel {

struct SessionOptions {
  std::string configPath = kDefaultConfigPath;
  // A missing config file means defaults (true for the default path only).
  bool configMayBeMissing = true;
  std::string stateDir = kDefaultStateDir;
  // One-line warnings; default: stderr "seclabel: warning: ...".
  std::function<void(const std::string&)> warn;
};

enum class SessionKind {
  ReadOnly,  // list, dominfo, broker: no recovery, audit checked lazily
  Mutating,  // prepare, restore, exec, run: audit checked, `recover` first
};

struct Session {
  Config config;
  std::unique_ptr<SelinuxHost> selinux;
  std::unique_ptr<AuditLog> audit;
  // The verified state directory (alloc/store.h openStateDirectory): open
  // anything else kept there relative to it, never by path.
  std::shared_ptr<const TrustedDirectory> stateDirectory;
  std::unique_ptr<Store> store;
  // Which guests this process owns right now (guests.lock in the state
  // directory). Mutating sessions always have it; read-only ones when the
  // state directory lets it be created.
  std::unique_ptr<GuestClaims> claims;
  std::unique_ptr<SecurityManager> manager;
  // What `recover` did when the session opened (Mutating only).
  std::vector<std::string> recovered;
};

// Throws Error: a bad config (InvalidInput), an unusable required audit log,
// a store that cannot be opened.
SECLABEL_API Session openSession(const SessionOptions& options, SessionKind kind);

}  // namespace seclabel

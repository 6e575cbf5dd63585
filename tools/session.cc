#include "tools/session.h"

#include <iostream>

namespace seclabel::tools {

void printWarning(const std::string& message) {
  std::cerr << "seclabel: warning: " << message << "\n";
}

Session openSession(const GlobalOptions& global, SessionKind kind) {
  Session session;
  session.config = global.loadConfig();
  session.selinux = makeSystemSelinuxHost();
  session.audit = makeAuditLog(session.config.audit, printWarning);
  // [audit] required = true: an unusable audit log stops us before the
  // first change, not half-way.
  if (kind == SessionKind::Mutating) session.audit->ensureUsable();
  session.store = openSqliteStore(global.stateDir);
  session.manager = std::make_unique<SecurityManager>(session.config, *session.store,
                                                      *session.selinux, printWarning);
  session.manager->setAudit(session.audit.get());
  if (kind == SessionKind::Mutating) {
    // Whatever a crashed seclabel left half done is undone before new work.
    for (const auto& line : session.manager->recover()) std::cerr << "seclabel: recover: " << line << "\n";
  }
  return session;
}

}  // namespace seclabel::tools

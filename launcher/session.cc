#include "launcher/session.h"

#include <iostream>

#include "alloc/etcd/etcd_store.h"
#include "launcher/host_objects.h"
#include "core/error.h"

namespace seclabel {

Session openSession(const SessionOptions& options, SessionKind kind) {
  auto warn = options.warn ? options.warn : [](const std::string& message) {
    // One write, so concurrent seclabel processes never interleave a line.
    std::cerr << ("seclabel: warning: " + message + "\n") << std::flush;
  };
  Session session;
  session.selinux = makeSystemSelinuxHost();
  session.config = Config::load(options.configPath, options.configMayBeMissing,
                                session.selinux->enabled());
  session.audit = makeAuditLog(session.config.audit, warn);
  // [audit] required = true: an unusable audit log stops us before the
  // first change, not half-way.
  if (kind == SessionKind::Mutating) session.audit->ensureUsable();
  session.stateDirectory = openStateDirectory(options.stateDir);
  // The etcd backend (and libcurl, loaded by it on first use) only when
  // configured: docs/store.md, "The etcd backend".
  if (session.config.store.backend == StoreBackend::Etcd)
    session.store = openEtcdStore(session.config.store, session.stateDirectory);
  else
    session.store = openSqliteStore(session.stateDirectory);
  session.manager =
      std::make_unique<SecurityManager>(session.config, *session.store, *session.selinux, warn);
  session.manager->setAudit(session.audit.get());
  // Opened after every --keep-fd was checked (as the store is), O_CLOEXEC:
  // never a number the caller named, never inherited by a guest.
  if (kind == SessionKind::Mutating) {
    session.claims = GuestClaims::open(*session.stateDirectory);
  } else {
    try {
      session.claims = GuestClaims::open(*session.stateDirectory);
    } catch (const Error&) {
      // list and dominfo on a read-only state directory: nothing to claim.
    }
  }
  session.manager->setClaims(session.claims.get());
  // Restore and recover remove the guest's cgroup and links too.
  session.manager->setHostObjectRelease(hostObjectRelease(*session.store, session.audit.get()));
  // Whatever a crashed seclabel left half done is undone before new work:
  // the in-flight prepares and restores, found through an index. Guests
  // whose process died are settled lazily (secdriver/recover_candidates.h).
  if (kind == SessionKind::Mutating)
    session.recovered = session.manager->recover(RecoverScope::inFlight());
  return session;
}

}  // namespace seclabel

// The fd-passing broker: a root daemon on a SOCK_SEQPACKET unix socket.
//
// One thread, one epoll loop, level-triggered, one request per ready client
// per round (a flooding client cannot starve the others; root's clients are
// served first in each round). Every client is non-blocking; a client whose
// socket buffer is full because it does not read its replies is disconnected
// (the broker never queues replies, so its memory stays bounded). A refusal
// is always a reply with a reason, never a dropped connection; malformed,
// oversized and fd-carrying requests are refused the same way. Nothing a
// client does ends the loop or leaks an fd.
//
// Anyone on the host may connect, so connections are rationed (BrokerLimits)
// and no user can lock another out: each uid may hold a few connections, all
// non-root uids together a larger number, and root's connections are counted
// apart, so root always has its own share. The loop accepts every pending
// connection at once (never leaving them in the listen backlog, where root's
// would wait behind everyone else's) and closes at once, with a reason, one
// that is over a limit; a connection that sends no request for idleTimeout is
// closed. Refusal audit records of non-root callers are rate limited per uid
// (fdpass/refusal_audit_limiter.h).
//
// Opening runs on the loop thread: an image on a hung NFS server stalls the
// broker until the open returns (as it would stall QEMU).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/unique_fd.h"
#include "fdpass/broker_directory.h"
#include "fdpass/refusal_audit_limiter.h"

namespace seclabel {

inline constexpr const char* kDefaultBrokerSocket = "/run/seclabel/broker.sock";

struct BrokerLimits {
  // Connections one uid may hold at once. Root too, but root's are counted
  // apart from everyone else's (see maxConnections).
  std::size_t maxConnectionsPerUid = 64;
  // Connections all non-root uids may hold together. When it is reached, a
  // uid that holds fewer than the uid holding the most takes the place of
  // that uid's longest idle connection; otherwise it is refused.
  std::size_t maxConnections = 4096;
  // A connection that has sent no request for this long (since it was
  // accepted, or since its last reply) is closed.
  std::chrono::milliseconds idleTimeout = std::chrono::seconds(10);
  RefusalAuditLimits refusalAudit;
};

class BrokerServer {
 public:
  // `listenSocket` is a listening SOCK_SEQPACKET unix socket (see
  // listenOnBrokerSocket, brokerSocketFromSystemd). The directory and the
  // auditor must outlive the server.
  //
  // Raises this process's RLIMIT_NOFILE soft limit to its hard limit, and
  // lowers limits.maxConnections (never the per-uid share) so that every
  // connection it may hold, root's share and its own files fit under it: an
  // accept can then never fail for want of an fd. An fd limit too small for
  // root's share and a little more is an Error.
  BrokerServer(UniqueFd listenSocket, BrokerGuestDirectory& directory,
               BrokerAuditor& auditor, BrokerLimits limits = {});
  ~BrokerServer();
  BrokerServer(const BrokerServer&) = delete;
  BrokerServer& operator=(const BrokerServer&) = delete;

  // Serves until stop(), then writes the refusal summaries still pending.
  // Throws if epoll itself fails, or what the auditor throws (an audit log
  // that is required and cannot be written).
  void run();
  // Makes run() return soon. Safe from any thread and from a signal handler.
  void stop() noexcept;

  // Connected clients right now (for tests). Safe from any thread.
  std::size_t clientCount() const noexcept;
  // The limits in force, after the fd limit had its say.
  const BrokerLimits& limits() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Binds and listens on `path` for everyone: creates the parent directory
// (0755) if missing, replaces a stale socket (but nothing else: a regular
// file there is an Error), and makes the socket 0666, because authorization
// is by peer credentials, not by file mode.
UniqueFd listenOnBrokerSocket(const std::string& path);

// The socket systemd passed (LISTEN_PID is us, LISTEN_FDS=1, fd 3), checked
// to be a listening SOCK_SEQPACKET unix socket; nullopt when not
// socket-activated. Unsets the LISTEN_* variables, as sd_listen_fds does.
std::optional<UniqueFd> brokerSocketFromSystemd();

}  // namespace seclabel

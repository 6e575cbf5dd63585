// The fd-passing broker: a root daemon on a SOCK_SEQPACKET unix socket.
//
// One thread, one epoll loop, level-triggered, one request per ready client
// per round (a flooding client cannot starve the others). Every client is
// non-blocking; a client whose socket buffer is full because it does not
// read its replies is disconnected (the broker never queues replies, so its
// memory stays bounded). A refusal is always a reply with a reason, never a
// dropped connection; malformed, oversized and fd-carrying requests are
// refused the same way. Nothing a client does ends the loop or leaks an fd.
//
// Opening runs on the loop thread: an image on a hung NFS server stalls the
// broker until the open returns (as it would stall QEMU).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "core/unique_fd.h"
#include "fdpass/broker_directory.h"

namespace seclabel {

inline constexpr const char* kDefaultBrokerSocket = "/run/seclabel/broker.sock";

struct BrokerLimits {
  std::size_t maxClients = 1024;  // beyond this, new connections wait in the backlog
};

class BrokerServer {
 public:
  // `listenSocket` is a listening SOCK_SEQPACKET unix socket (see
  // listenOnBrokerSocket, brokerSocketFromSystemd). The directory and the
  // auditor must outlive the server.
  BrokerServer(UniqueFd listenSocket, BrokerGuestDirectory& directory,
               BrokerAuditor& auditor, BrokerLimits limits = {});
  ~BrokerServer();
  BrokerServer(const BrokerServer&) = delete;
  BrokerServer& operator=(const BrokerServer&) = delete;

  // Serves until stop(). Throws only if epoll itself fails.
  void run();
  // Makes run() return soon. Safe from any thread and from a signal handler.
  void stop() noexcept;

  // Connected clients right now (for tests).
  std::size_t clientCount() const noexcept;

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

// A NETLINK_ROUTE socket that sends one request at a time and collects its
// replies: every request asks for an acknowledgement, carries its own
// sequence number, and only messages from the kernel with that number are
// taken as its answer. Receives go into a bounded buffer; a message the
// buffer cannot hold is an Error, never a silent truncation.
//
// Not thread-safe: one socket per thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "net/netlink_message.h"

namespace seclabel::netlink {

// One reply message, whole (nlmsghdr included).
using Reply = std::vector<std::uint8_t>;

class Socket {
 public:
  // NETLINK_ROUTE, SOCK_CLOEXEC, bound to a kernel-chosen port, with
  // extended acks (the kernel's reason text is added to errors).
  static Socket openRoute();

  // Sends `request` (NLM_F_REQUEST|NLM_F_ACK added) and returns the replies
  // that are not the acknowledgement. A negative acknowledgement throws
  // Error "<what>: <strerror>[ (<kernel's text>)]" with its errno; a reply
  // that does not come within 10 s throws too.
  std::vector<Reply> transact(Request& request, const std::string& what);

 private:
  explicit Socket(UniqueFd fd, std::uint32_t port) : fd_(std::move(fd)), port_(port) {}
  UniqueFd fd_;
  std::uint32_t port_;
  std::uint32_t sequence_ = 0;
};

}  // namespace seclabel::netlink

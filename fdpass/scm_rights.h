// Sending and receiving file descriptors over unix sockets (SCM_RIGHTS).
//
// The kernel installs every fd a peer attaches into our table the moment we
// call recvmsg(), whether we wanted them or not. So every received fd is
// wrapped in a UniqueFd before anything else is checked, and every error path
// (truncated control data, too many fds, an oversized or short message, a
// control message of the wrong type) closes all of them before throwing.
// Received fds are close-on-exec from birth (MSG_CMSG_CLOEXEC): a concurrent
// fork+exec elsewhere in the process must not inherit them.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/unique_fd.h"

namespace seclabel {

// The kernel refuses more than SCM_MAX_FD (253) fds in one message.
inline constexpr std::size_t kMaxFdsPerMessage = 253;

struct ReceivedMessage {
  std::string payload;
  std::vector<UniqueFd> fds;
};

// Sends `payload` with `fds` attached (none is fine). The payload must not be
// empty: on a stream socket the fds ride on the first byte. On SOCK_SEQPACKET
// the message is one record; on SOCK_STREAM a partial write is completed
// without the fds (they went with the first part). Never raises SIGPIPE: a
// closed peer is an Error with errno EPIPE. EAGAIN on a non-blocking socket
// before anything was sent is an Error with errno EAGAIN.
void sendWithFds(int socket, std::string_view payload, std::span<const int> fds);

// Receives one record from a SOCK_SEQPACKET (or SOCK_DGRAM) socket.
// Returns nullopt when the peer has closed the connection (a zero-length
// read). Errors, with every received fd closed:
//   - a record longer than maxPayload ("oversized", the rest is discarded);
//   - more than maxFds fds, or control data cut short (MSG_CTRUNC);
//   - a control message that is not SCM_RIGHTS.
// On a non-blocking socket with nothing to read: Error with errno EAGAIN.
std::optional<ReceivedMessage> receiveRecordWithFds(int socket,
                                                    std::size_t maxPayload,
                                                    std::size_t maxFds);

// Receives exactly `size` bytes from a SOCK_STREAM socket, collecting the fds
// attached to any part of them (at most maxFds in total). The peer closing
// before `size` bytes arrived is a "short message" Error (errno 0), as is
// any of the errors of receiveRecordWithFds.
ReceivedMessage receiveExactWithFds(int socket, std::size_t size,
                                    std::size_t maxFds);

}  // namespace seclabel

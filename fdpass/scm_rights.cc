#include "fdpass/scm_rights.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace seclabel {
namespace {

// Control buffer big enough for maxFds fds. Sized in ints and aligned for
// cmsghdr, as CMSG_* expect.
struct ControlBuffer {
  explicit ControlBuffer(std::size_t maxFds)
      : words((CMSG_SPACE(sizeof(int) * (maxFds == 0 ? 1 : maxFds)) +
               sizeof(cmsghdr) - 1) /
              sizeof(cmsghdr)) {}
  void* data() { return words.data(); }
  std::size_t size() const { return words.size() * sizeof(cmsghdr); }
  std::vector<cmsghdr> words;
};

struct ReceivedChunk {
  std::size_t bytes = 0;
  int flags = 0;
};

// One recvmsg(). Whatever fds the kernel installed are appended to `fds`
// (so they are owned) before any check can throw.
ReceivedChunk receiveChunk(int socket, char* buffer, std::size_t length,
                           std::size_t maxFds, std::vector<UniqueFd>& fds) {
  ControlBuffer control(maxFds);
  iovec iov{buffer, length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();

  ssize_t received;
  do {
    received = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < 0) throw Error::fromErrno("cannot receive from unix socket", errno);

  const std::size_t fdsBefore = fds.size();
  bool foreignControl = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* data = CMSG_DATA(c);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
        fds.emplace_back(fd);
      }
    } else {
      // e.g. SCM_CREDENTIALS when someone enabled SO_PASSCRED: not ours.
      foreignControl = true;
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    throw Error::invalidInput(
        "unix socket message carried more file descriptors than allowed (" +
        std::to_string(maxFds) + ") or truncated control data");
  }
  if (foreignControl) {
    throw Error::invalidInput("unix socket message carried unexpected control data");
  }
  if (fds.size() - fdsBefore > maxFds) {
    throw Error::invalidInput("unix socket message carried " +
                              std::to_string(fds.size() - fdsBefore) +
                              " file descriptors, at most " +
                              std::to_string(maxFds) + " allowed");
  }
  return {static_cast<std::size_t>(received), msg.msg_flags};
}

}  // namespace

void sendWithFds(int socket, std::string_view payload, std::span<const int> fds) {
  if (payload.empty()) throw Error::invalidInput("cannot send an empty message");
  if (fds.size() > kMaxFdsPerMessage) {
    throw Error::invalidInput("cannot send " + std::to_string(fds.size()) +
                              " file descriptors in one message (at most " +
                              std::to_string(kMaxFdsPerMessage) + ")");
  }
  ControlBuffer control(fds.size());
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }

  std::size_t sent = 0;
  while (sent < payload.size()) {
    ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::fromErrno("cannot send on unix socket", errno);
    }
    sent += static_cast<std::size_t>(n);
    // A stream socket may take part of the payload; the fds went with it.
    iov.iov_base = const_cast<char*>(payload.data()) + sent;
    iov.iov_len = payload.size() - sent;
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
  }
}

std::optional<ReceivedMessage> receiveRecordWithFds(int socket,
                                                    std::size_t maxPayload,
                                                    std::size_t maxFds) {
  ReceivedMessage message;
  // One byte more than allowed, so "exactly maxPayload" is not mistaken for
  // oversized even on sockets that do not report MSG_TRUNC.
  message.payload.resize(maxPayload + 1);
  ReceivedChunk chunk = receiveChunk(socket, message.payload.data(),
                                     message.payload.size(), maxFds, message.fds);
  if (chunk.bytes == 0) return std::nullopt;  // peer closed; fds (if any) closed here
  if ((chunk.flags & MSG_TRUNC) || chunk.bytes > maxPayload) {
    throw Error::invalidInput("unix socket message larger than " +
                              std::to_string(maxPayload) + " bytes");
  }
  message.payload.resize(chunk.bytes);
  return message;
}

ReceivedMessage receiveExactWithFds(int socket, std::size_t size, std::size_t maxFds) {
  ReceivedMessage message;
  message.payload.resize(size);
  std::size_t received = 0;
  while (received < size) {
    std::size_t room = maxFds - std::min(maxFds, message.fds.size());
    ReceivedChunk chunk = receiveChunk(socket, message.payload.data() + received,
                                       size - received, room, message.fds);
    if (chunk.bytes == 0) {
      throw Error(ExitCode::Failed,
                  "short message on unix socket: peer closed after " +
                      std::to_string(received) + " of " + std::to_string(size) +
                      " bytes");
    }
    received += chunk.bytes;
  }
  return message;
}

}  // namespace seclabel

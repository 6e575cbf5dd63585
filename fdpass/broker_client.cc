#include "fdpass/broker_client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "fdpass/scm_rights.h"

namespace seclabel {
namespace {

// A disk never needs more than one fd per access mode.
constexpr std::size_t kMaxReplyFds = 2;

FdMode accessModeOf(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw Error::fromErrno("broker reply: fcntl", errno);
  switch (flags & O_ACCMODE) {
    case O_RDONLY: return FdMode::ReadOnly;
    case O_RDWR: return FdMode::ReadWrite;
    default: throw Error(ExitCode::Failed, "broker reply carries a write-only fd");
  }
}

}  // namespace

BrokerConnection BrokerConnection::connect(const std::string& socketPath,
                                           std::chrono::milliseconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socketPath.size() >= sizeof(address.sun_path)) {
    throw Error::invalidInput("broker socket path too long: " + socketPath);
  }
  std::memcpy(address.sun_path, socketPath.c_str(), socketPath.size() + 1);
  UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!socket) throw Error::fromErrno("cannot create a unix socket", errno);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw Error::fromErrno("cannot connect to the broker at " + socketPath, errno);
  }
  return BrokerConnection(std::move(socket));
}

BrokerDiskFds BrokerConnection::openDisk(const std::string& guest, const std::string& disk,
                                         DiskAccess access) {
  try {
    sendWithFds(socket_.get(), formatBrokerRequest({guest, disk, access}), {});
  } catch (const Error& e) {
    // The broker closes a connection it will not serve (too many from this
    // uid) right after saying why: that reason beats "Broken pipe". The
    // peer is gone, so the receive does not wait.
    if (e.errnum() != EPIPE && e.errnum() != ECONNRESET) throw e.withContext("broker");
    if (std::optional<BrokerReply> why = pendingRefusal(); why && !why->ok) {
      throw Error(why->refusalCode, "broker: " + why->refusalReason);
    }
    throw e.withContext("broker");
  }
  std::optional<ReceivedMessage> message;
  try {
    message = receiveRecordWithFds(socket_.get(), kMaxBrokerReplyBytes, kMaxReplyFds);
  } catch (const Error& e) {
    if (e.errnum() == EAGAIN) {
      throw Error(ExitCode::Failed, "broker: no reply", ETIMEDOUT);
    }
    // The broker closed a connection it would not serve while our request
    // was unread: the kernel reports the reset before the record that says
    // why, which a second receive still finds.
    if (e.errnum() != ECONNRESET) throw e.withContext("broker");
    if (std::optional<BrokerReply> why = pendingRefusal(); why && !why->ok) {
      throw Error(why->refusalCode, "broker: " + why->refusalReason);
    }
    throw e.withContext("broker");
  }
  if (!message) throw Error(ExitCode::Failed, "broker closed the connection");

  BrokerReply reply = parseBrokerReply(message->payload);
  if (!reply.ok) {
    throw Error(reply.refusalCode, "broker: " + reply.refusalReason);
  }
  const BrokerGrantDescription& grant = reply.grant;
  if (grant.fdset.size() != message->fds.size() || grant.fdset.empty()) {
    throw Error(ExitCode::Failed, "broker reply describes " +
                                      std::to_string(grant.fdset.size()) + " fds but carries " +
                                      std::to_string(message->fds.size()));
  }
  BrokerDiskFds result{grant.guestName, grant.guestUuid, grant.disk, grant.path,
                       grant.access,    {}};
  for (std::size_t i = 0; i < grant.fdset.size(); ++i) {
    if (accessModeOf(message->fds[i].get()) != grant.fdset[i].mode) {
      throw Error(ExitCode::Failed, "broker reply: fd " + std::to_string(i) +
                                        " is not opened " +
                                        std::string(fdModeName(grant.fdset[i].mode)));
    }
    result.fds.push_back(
        {grant.fdset[i].mode, grant.fdset[i].opaque, std::move(message->fds[i])});
  }
  return result;
}

std::optional<BrokerReply> BrokerConnection::pendingRefusal() {
  // The peer is gone: these receives return at once. Two, because a reset
  // may still be reported once before the record.
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      auto record = receiveRecordWithFds(socket_.get(), kMaxBrokerReplyBytes, 0);
      if (!record) return std::nullopt;
      return parseBrokerReply(record->payload);
    } catch (const Error&) {
      // The reset, or nothing readable: try once more, then give up.
    }
  }
  return std::nullopt;
}

BrokerDiskFds requestDiskFds(const std::string& socketPath, const std::string& guest,
                             const std::string& disk, DiskAccess access) {
  return BrokerConnection::connect(socketPath).openDisk(guest, disk, access);
}

}  // namespace seclabel

#include "net/netlink_socket.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/error.h"

namespace seclabel::netlink {
namespace {

// The kernel sends at most 32 KiB per datagram (netlink dumps); twice that
// holds any reply, and anything larger is refused as truncated.
constexpr std::size_t kReceiveBuffer = 64 * 1024;
constexpr int kReplyTimeoutSeconds = 10;

// The kernel's extended-ack reason (NLMSGERR_ATTR_MSG), if it sent one.
std::string extendedAckText(const nlmsghdr& header, std::span<const std::uint8_t> message) {
  if (!(header.nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  // With NETLINK_CAP_ACK the error carries only the request's header.
  std::size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(header.nlmsg_flags & NLM_F_CAPPED)) {
    nlmsgerr error;
    std::memcpy(&error, message.data() + NLMSG_HDRLEN, sizeof error);
    offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int) + error.msg.nlmsg_len);
  }
  if (offset >= message.size()) return {};
  auto text = Attributes::parse(message.subspan(offset)).string(NLMSGERR_ATTR_MSG);
  return text ? *text : std::string();
}

}  // namespace

Socket Socket::openRoute() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) throw Error::fromErrno("cannot open a NETLINK_ROUTE socket", errno);
  int on = 1;
  // Both are optional kernel features: without them errors lose the
  // kernel's text or carry the whole request back, nothing worse.
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  timeval timeout{kReplyTimeoutSeconds, 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0)
    throw Error::fromErrno("cannot set a timeout on the netlink socket", errno);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    throw Error::fromErrno("cannot bind the netlink socket", errno);
  socklen_t length = sizeof local;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &length) != 0)
    throw Error::fromErrno("cannot read the netlink socket's port", errno);
  return Socket(std::move(fd), local.nl_pid);
}

std::vector<Reply> Socket::transact(Request& request, const std::string& what) {
  // Sequence numbers start from the clock so that a reply left over from
  // an earlier socket with this port can never match.
  if (sequence_ == 0) sequence_ = static_cast<std::uint32_t>(std::time(nullptr)) | 1;
  std::uint32_t sequence = ++sequence_;
  std::span<const std::uint8_t> bytes = request.finish(sequence);
  {
    nlmsghdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    header.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    std::vector<std::uint8_t> out(bytes.begin(), bytes.end());
    std::memcpy(out.data(), &header, sizeof header);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent = ::sendto(fd_.get(), out.data(), out.size(), 0,
                            reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (sent < 0) throw Error::fromErrno(what + ": cannot send the netlink request", errno);
    if (static_cast<std::size_t>(sent) != out.size())
      throw Error(ExitCode::Failed, what + ": netlink request sent short");
  }

  std::vector<Reply> replies;
  std::vector<std::uint8_t> buffer(kReceiveBuffer);
  for (;;) {
    sockaddr_nl from{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    ssize_t received = ::recvmsg(fd_.get(), &message, 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      throw Error::fromErrno(what + ": no netlink reply" +
                                 (err == EAGAIN ? std::string(" within ") +
                                                      std::to_string(kReplyTimeoutSeconds) + " s"
                                                : std::string()),
                             err);
    }
    if (message.msg_flags & MSG_TRUNC)
      throw Error(ExitCode::Failed, what + ": netlink reply larger than the receive buffer");
    if (from.nl_pid != 0) continue;  // only the kernel answers requests

    std::span<const std::uint8_t> datagram(buffer.data(), static_cast<std::size_t>(received));
    std::size_t offset = 0;
    while (datagram.size() - offset >= NLMSG_HDRLEN) {
      nlmsghdr header;
      std::memcpy(&header, datagram.data() + offset, sizeof header);
      if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > datagram.size() - offset)
        throw Error(ExitCode::Failed, what + ": malformed netlink reply");
      std::span<const std::uint8_t> one = datagram.subspan(offset, header.nlmsg_len);
      offset += NLMSG_ALIGN(header.nlmsg_len);
      if (header.nlmsg_seq != sequence || header.nlmsg_pid != port_) continue;  // stale

      if (header.nlmsg_type == NLMSG_ERROR) {
        if (one.size() < NLMSG_HDRLEN + sizeof(nlmsgerr))
          throw Error(ExitCode::Failed, what + ": short netlink acknowledgement");
        nlmsgerr error;
        std::memcpy(&error, one.data() + NLMSG_HDRLEN, sizeof error);
        if (error.error == 0) return replies;
        std::string kernelText = extendedAckText(header, one);
        std::string reason = what + ": " + std::strerror(-error.error);
        if (!kernelText.empty()) reason += " (" + kernelText + ")";
        throw Error(ExitCode::Failed, reason, -error.error);
      }
      if (header.nlmsg_type == NLMSG_DONE) {
        int status = 0;
        if (one.size() >= NLMSG_HDRLEN + sizeof status)
          std::memcpy(&status, one.data() + NLMSG_HDRLEN, sizeof status);
        if (status < 0)
          throw Error(ExitCode::Failed, what + ": " + std::strerror(-status), -status);
        return replies;
      }
      replies.emplace_back(one.begin(), one.end());
    }
  }
}

}  // namespace seclabel::netlink

#include "fdpass/broker_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "fdpass/broker_authorization.h"
#include "fdpass/broker_protocol.h"
#include "fdpass/scm_rights.h"

namespace seclabel {
namespace {

// A request carries no fds; we accept room for one so a client that attaches
// some gets "malformed" (after the kernel-installed fds are closed) rather
// than a silent truncation.
constexpr std::size_t kRequestFdAllowance = 1;

struct Client {
  UniqueFd socket;
  PeerCredentials peer;
};

// What to record once the reply is on its way (or failed to be).
struct PendingAudit {
  BrokerGuest guest;
  std::string disk;
  std::string path;
  std::optional<dev_t> blockDevice;
  DiskAccess access;
};

struct Answer {
  std::string reply;
  std::vector<OpenedImage> images;  // attached to the reply, closed after sending
  std::optional<PendingAudit> audit;
};

}  // namespace

struct BrokerServer::Impl {
  UniqueFd listenSocket;
  UniqueFd epoll;
  UniqueFd wakeup;  // eventfd written by stop()
  BrokerGuestDirectory& directory;
  BrokerAuditor& auditor;
  BrokerLimits limits;
  std::unordered_map<int, Client> clients;
  bool accepting = false;

  Impl(UniqueFd listen, BrokerGuestDirectory& d, BrokerAuditor& a, BrokerLimits l)
      : listenSocket(std::move(listen)), directory(d), auditor(a), limits(l) {}

  void watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      throw Error::fromErrno("broker: epoll_ctl", errno);
    }
  }

  void setAccepting(bool on) {
    if (on == accepting) return;
    if (on) {
      watch(listenSocket.get());
    } else {
      ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, listenSocket.get(), nullptr);
    }
    accepting = on;
  }

  void dropClient(int fd) {
    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    clients.erase(fd);  // closes it
  }

  // Returns false when accept() could not proceed (no fds left, etc.): the
  // caller pauses accepting so a full fd table does not spin the loop.
  bool acceptOne() {
    UniqueFd socket(::accept4(listenSocket.get(), nullptr, nullptr,
                              SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!socket) {
      return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
             errno == ECONNABORTED;
    }
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(socket.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
      return true;  // cannot know who it is: not served (closed here)
    }
    int fd = socket.get();
    clients.emplace(fd, Client{std::move(socket),
                               {credentials.pid, credentials.uid, credentials.gid}});
    try {
      watch(fd);
    } catch (const Error&) {
      clients.erase(fd);
    }
    return true;
  }

  Answer answer(std::string_view requestText, const PeerCredentials& peer) {
    BrokerRequest request;
    try {
      request = parseBrokerRequest(requestText);
    } catch (const Error& e) {
      return {formatBrokerRefusal(e.code(), e.what()), {}, std::nullopt};
    }

    std::optional<BrokerGuest> guest;
    try {
      guest = directory.find(request.guest);
    } catch (const std::exception& e) {
      return {formatBrokerRefusal(ExitCode::Failed,
                                  std::string("cannot look up guest: ") + e.what()),
              {}, std::nullopt};
    }

    BrokerDecision decision = authorizeBrokerRequest(request, peer, guest);
    if (!decision.granted) {
      auditor.denied(peer, request.guest, request.disk, request.access,
                     decision.refusalReason);
      return {formatBrokerRefusal(decision.refusalCode, decision.refusalReason), {},
              std::nullopt};
    }

    const BrokerDisk& disk = *decision.disk;
    PendingAudit audit{*guest, request.disk, disk.path, std::nullopt, request.access};
    Answer result;
    try {
      result.images = openDiskImages(disk.path, request.access);
    } catch (const Error& e) {
      auditor.fdPassed(peer, *guest, request.disk, disk.path, std::nullopt,
                       request.access, false);
      return {formatBrokerRefusal(e.code(), e.what()), {}, std::nullopt};
    }
    if (result.images.front().isBlockDevice()) {
      audit.blockDevice = result.images.front().status.st_rdev;
    }
    BrokerGrantDescription grant{guest->name, guest->uuid, request.disk,
                                 disk.path,   request.access, {}};
    for (const OpenedImage& image : result.images) {
      grant.fdset.push_back({image.mode, fdsetOpaque(image.mode, disk.path)});
    }
    result.reply = formatBrokerGrant(grant);
    result.audit = std::move(audit);
    return result;
  }

  // One request from one client, start to end.
  void serveOne(int fd) {
    auto found = clients.find(fd);
    if (found == clients.end()) return;
    const PeerCredentials peer = found->second.peer;

    std::optional<ReceivedMessage> request;
    std::string replyToProblem;
    try {
      request = receiveRecordWithFds(fd, kMaxBrokerRequestBytes, kRequestFdAllowance);
      if (!request) {  // the client hung up
        dropClient(fd);
        return;
      }
      if (!request->fds.empty()) {
        request->fds.clear();
        replyToProblem = "malformed request: requests carry no file descriptors";
      }
    } catch (const Error& e) {
      if (e.errnum() == EAGAIN || e.errnum() == EWOULDBLOCK || e.errnum() == EINTR) return;
      if (e.errnum() != 0) {  // the socket itself failed (ECONNRESET, ...)
        dropClient(fd);
        return;
      }
      replyToProblem = e.what();  // oversized, too many fds, foreign control data
    }

    Answer result = replyToProblem.empty()
                        ? answer(request->payload, peer)
                        : Answer{formatBrokerRefusal(ExitCode::InvalidInput, replyToProblem),
                                 {}, std::nullopt};

    std::vector<int> fds;
    for (const OpenedImage& image : result.images) fds.push_back(image.fd.get());
    bool sent = true;
    try {
      sendWithFds(fd, result.reply, fds);
    } catch (const Error&) {
      // Gone, or not reading its replies (EAGAIN): either way, let it go.
      sent = false;
      dropClient(fd);
    }
    if (result.audit) {
      const PendingAudit& a = *result.audit;
      auditor.fdPassed(peer, a.guest, a.disk, a.path, a.blockDevice, a.access, sent);
    }
    // result.images close here: the kernel keeps its own references in flight.
  }
};

BrokerServer::BrokerServer(UniqueFd listenSocket, BrokerGuestDirectory& directory,
                           BrokerAuditor& auditor, BrokerLimits limits)
    : impl_(std::make_unique<Impl>(std::move(listenSocket), directory, auditor, limits)) {
  int flags = ::fcntl(impl_->listenSocket.get(), F_GETFL);
  if (flags < 0 || ::fcntl(impl_->listenSocket.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    throw Error::fromErrno("broker: cannot make the listening socket non-blocking", errno);
  }
  impl_->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!impl_->epoll) throw Error::fromErrno("broker: epoll_create1", errno);
  impl_->wakeup.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl_->wakeup) throw Error::fromErrno("broker: eventfd", errno);
  impl_->watch(impl_->wakeup.get());
  impl_->setAccepting(true);
}

BrokerServer::~BrokerServer() = default;

void BrokerServer::stop() noexcept {
  std::uint64_t one = 1;
  // write() is async-signal-safe; a full counter still wakes the loop.
  [[maybe_unused]] ssize_t ignored = ::write(impl_->wakeup.get(), &one, sizeof one);
}

std::size_t BrokerServer::clientCount() const noexcept { return impl_->clients.size(); }

void BrokerServer::run() {
  Impl& s = *impl_;
  std::uint64_t drained;
  while (::read(s.wakeup.get(), &drained, sizeof drained) > 0) {
  }
  std::vector<epoll_event> events(64);
  while (true) {
    // Paused accepting (fd table full) is retried every 100 ms.
    int timeout = s.accepting ? -1 : 100;
    int ready = ::epoll_wait(s.epoll.get(), events.data(),
                             static_cast<int>(events.size()), timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw Error::fromErrno("broker: epoll_wait", errno);
    }
    if (!s.accepting && s.clients.size() < s.limits.maxClients) s.setAccepting(true);
    for (int i = 0; i < ready; ++i) {
      int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == s.wakeup.get()) return;
      if (fd == s.listenSocket.get()) {
        if (!s.acceptOne() || s.clients.size() >= s.limits.maxClients) {
          s.setAccepting(false);
        }
        continue;
      }
      // EPOLLHUP/EPOLLERR: the receive sees the hang-up or the error.
      s.serveOne(fd);
    }
  }
}

UniqueFd listenOnBrokerSocket(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    throw Error::invalidInput("broker socket path too long or empty: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);

  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && ::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
    throw Error::fromErrno("cannot create " + parent.string(), errno);
  }
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) {
    if (!S_ISSOCK(existing.st_mode)) {
      throw Error::invalidInput("refusing to replace " + path + ": not a socket");
    }
    if (::unlink(path.c_str()) != 0) throw Error::fromErrno("cannot remove " + path, errno);
  }

  UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!socket) throw Error::fromErrno("cannot create the broker socket", errno);
  if (::bind(socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw Error::fromErrno("cannot bind " + path, errno);
  }
  // Everyone may connect; SO_PEERCRED decides what they get.
  if (::chmod(path.c_str(), 0666) != 0) throw Error::fromErrno("cannot chmod " + path, errno);
  if (::listen(socket.get(), SOMAXCONN) != 0) {
    throw Error::fromErrno("cannot listen on " + path, errno);
  }
  return socket;
}

std::optional<UniqueFd> brokerSocketFromSystemd() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* count = std::getenv("LISTEN_FDS");
  if (pid == nullptr || count == nullptr) return std::nullopt;
  const bool forUs = std::strtol(pid, nullptr, 10) == ::getpid();
  const long fds = std::strtol(count, nullptr, 10);
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!forUs) return std::nullopt;
  if (fds != 1) {
    throw Error::invalidInput("systemd passed " + std::to_string(fds) +
                              " sockets; the broker takes exactly one");
  }
  constexpr int kFirstSystemdFd = 3;  // SD_LISTEN_FDS_START
  int type = 0, listening = 0;
  socklen_t length = sizeof type;
  if (::getsockopt(kFirstSystemdFd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 ||
      type != SOCK_SEQPACKET) {
    throw Error::invalidInput("the socket systemd passed is not SOCK_SEQPACKET");
  }
  length = sizeof listening;
  if (::getsockopt(kFirstSystemdFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 ||
      !listening) {
    throw Error::invalidInput("the socket systemd passed is not listening");
  }
  ::fcntl(kFirstSystemdFd, F_SETFD, FD_CLOEXEC);
  return UniqueFd(kFirstSystemdFd);
}

}  // namespace seclabel

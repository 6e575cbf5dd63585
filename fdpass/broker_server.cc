#include "fdpass/broker_server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
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

using Clock = std::chrono::steady_clock;

// A request carries no fds; we accept room for one so a client that attaches
// some gets "malformed" (after the kernel-installed fds are closed) rather
// than a silent truncation.
constexpr std::size_t kRequestFdAllowance = 1;

// Fds the broker needs besides its clients: stdio, the listening socket,
// epoll, the eventfd, the spare fd, the store (database, WAL, shm), the audit
// socket or file, the two image fds of a request in flight, libc's own.
constexpr rlim_t kFdsForTheBrokerItself = 64;

// Accepts per loop round: a connect flood cannot keep the loop from serving
// the clients it has (the listening socket stays readable, the next round
// accepts more).
constexpr int kAcceptsPerRound = 64;

struct Client {
  UniqueFd socket;
  PeerCredentials peer;
  Clock::time_point lastActive;  // accepted, or last request answered
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

// Raises the soft fd limit to the hard one and returns it.
rlim_t raiseFdLimitToHard() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    throw Error::fromErrno("broker: getrlimit(RLIMIT_NOFILE)", errno);
  }
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised{limit.rlim_max, limit.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit.rlim_cur = limit.rlim_max;
  }
  return limit.rlim_cur;
}

BrokerLimits fitIntoFdLimit(BrokerLimits limits, rlim_t fdLimit) {
  if (limits.maxConnectionsPerUid < 1 || limits.maxConnections < 1) {
    throw Error::invalidInput("broker: connection limits must be at least 1");
  }
  if (limits.idleTimeout <= std::chrono::milliseconds(0)) {
    throw Error::invalidInput("broker: the idle timeout must be above 0");
  }
  const rlim_t rootShare = limits.maxConnectionsPerUid;
  if (fdLimit == RLIM_INFINITY) return limits;
  if (fdLimit < kFdsForTheBrokerItself + rootShare + 1) {
    throw Error(ExitCode::Failed,
                "broker: RLIMIT_NOFILE is " + std::to_string(fdLimit) + ", too low for " +
                    std::to_string(rootShare) + " connections per uid (at least " +
                    std::to_string(kFdsForTheBrokerItself + rootShare + 1) + " needed)");
  }
  const rlim_t room = fdLimit - kFdsForTheBrokerItself - rootShare;
  if (limits.maxConnections > room) limits.maxConnections = static_cast<std::size_t>(room);
  return limits;
}

}  // namespace

struct BrokerServer::Impl {
  UniqueFd listenSocket;
  UniqueFd epoll;
  UniqueFd wakeup;  // eventfd written by stop()
  // /dev/null, held so that when accept() fails with EMFILE we can close it,
  // accept the connection, tell it why, and close it: a level-triggered
  // listening socket that cannot be accepted would spin the loop.
  UniqueFd spare;
  BrokerGuestDirectory& directory;
  BrokerAuditor& auditor;
  BrokerLimits limits;
  RefusalAuditLimiter refusals;
  std::unordered_map<int, Client> clients;
  std::unordered_map<uid_t, std::size_t> connectionsOf;  // by uid, root included
  std::size_t nonRootConnections = 0;
  std::atomic<std::size_t> clientCount{0};
  Clock::time_point nextIdleSweep{};

  Impl(UniqueFd listen, BrokerGuestDirectory& d, BrokerAuditor& a, BrokerLimits l)
      : listenSocket(std::move(listen)),
        directory(d),
        auditor(a),
        limits(l),
        refusals(l.refusalAudit) {}

  void watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      throw Error::fromErrno("broker: epoll_ctl", errno);
    }
  }

  std::size_t connectionCount(uid_t uid) const {
    auto found = connectionsOf.find(uid);
    return found == connectionsOf.end() ? 0 : found->second;
  }

  // Forgets client `fd` and hands back its socket (still open).
  UniqueFd releaseClient(int fd) {
    auto found = clients.find(fd);
    if (found == clients.end()) return {};
    const uid_t uid = found->second.peer.uid;
    ::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, fd, nullptr);
    UniqueFd socket = std::move(found->second.socket);
    clients.erase(found);
    if (--connectionsOf[uid] == 0) connectionsOf.erase(uid);
    if (uid != 0) --nonRootConnections;
    clientCount.store(clients.size(), std::memory_order_relaxed);
    return socket;
  }

  void dropClient(int fd) { releaseClient(fd); }  // the socket closes here

  // ---- refusal audit records, rate limited for non-root callers ----------

  bool mayAuditRefusalOf(uid_t uid) { return refusals.admit(uid, Clock::now()); }

  void writeDueSummaries(Clock::time_point now) {
    for (const SuppressedRefusals& summary : refusals.takeDueSummaries(now)) {
      auditor.refusalsSuppressed(summary);
    }
  }

  // ---- connections ---------------------------------------------------------

  static std::string limitReason(ConnectionLimit limit, const PeerCredentials& peer,
                                 const BrokerLimits& limits) {
    switch (limit) {
      case ConnectionLimit::PerUid:
        return "too many connections: uid " + std::to_string(peer.uid) + " already holds " +
               std::to_string(limits.maxConnectionsPerUid) + ", the most one uid may hold";
      case ConnectionLimit::AllUids:
        return "too many connections: the broker holds the most it takes from users other "
               "than root (" +
               std::to_string(limits.maxConnections) + ")";
      case ConnectionLimit::FileDescriptors:
        return "the broker is out of file descriptors";
    }
    return "too many connections";
  }

  // Tells the client why (one refusal record, if its buffer takes it; never
  // waits) and closes the connection; audits it within the rate limit.
  void refuseConnection(UniqueFd socket, const PeerCredentials& peer, ConnectionLimit limit) {
    try {
      sendWithFds(socket.get(),
                  formatBrokerRefusal(ExitCode::Failed, limitReason(limit, peer, limits)), {});
    } catch (const Error&) {
      // Gone already, or not reading: closing says enough.
    }
    socket.reset();
    if (mayAuditRefusalOf(peer.uid)) auditor.connectionRefused(peer, limit);
  }

  // The pool of non-root connections is full and `uid` wants one more: the
  // uid holding the most gives up its longest idle connection, if it holds
  // at least as many as `uid` would. Fair however many uids the connections
  // come from (a user with a range of subordinate uids has thousands).
  bool makeRoomFor(uid_t uid) {
    std::size_t most = 0;
    for (const auto& [holder, count] : connectionsOf) {
      if (holder != 0) most = std::max(most, count);
    }
    if (most < connectionCount(uid) + 1) return false;
    int victim = -1;
    Clock::time_point oldest = Clock::time_point::max();
    for (const auto& [fd, client] : clients) {
      const uid_t holder = client.peer.uid;
      if (holder == 0 || connectionCount(holder) != most) continue;
      if (client.lastActive < oldest) {
        oldest = client.lastActive;
        victim = fd;
      }
    }
    if (victim < 0) return false;
    const PeerCredentials peer = clients.at(victim).peer;
    refuseConnection(releaseClient(victim), peer, ConnectionLimit::AllUids);
    return true;
  }

  void admit(UniqueFd socket) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(socket.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
      return;  // cannot know who it is: not served (closed here)
    }
    const PeerCredentials peer{credentials.pid, credentials.uid, credentials.gid};
    if (connectionCount(peer.uid) >= limits.maxConnectionsPerUid) {
      refuseConnection(std::move(socket), peer, ConnectionLimit::PerUid);
      return;
    }
    if (peer.uid != 0 && nonRootConnections >= limits.maxConnections &&
        !makeRoomFor(peer.uid)) {
      refuseConnection(std::move(socket), peer, ConnectionLimit::AllUids);
      return;
    }
    const int fd = socket.get();
    try {
      watch(fd);
    } catch (const Error&) {
      return;  // epoll cannot take it (ENOMEM, ENOSPC): closed, nothing counted
    }
    clients.emplace(fd, Client{std::move(socket), peer, Clock::now()});
    ++connectionsOf[peer.uid];
    if (peer.uid != 0) ++nonRootConnections;
    clientCount.store(clients.size(), std::memory_order_relaxed);
  }

  // Out of fds after all (someone else's fds in this process): let go of the
  // spare, take the connection, tell it, close it, take the spare back.
  void refuseWithSpareFd() {
    spare.reset();
    UniqueFd socket(::accept4(listenSocket.get(), nullptr, nullptr,
                              SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (socket) {
      ucred credentials{};
      socklen_t length = sizeof credentials;
      PeerCredentials peer{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
      if (::getsockopt(socket.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0) {
        peer = {credentials.pid, credentials.uid, credentials.gid};
      }
      refuseConnection(std::move(socket), peer, ConnectionLimit::FileDescriptors);
    }
    spare.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }

  // Empties the listen backlog (up to kAcceptsPerRound): every connection is
  // taken or refused now, none waits where root's would queue behind it.
  void acceptPending() {
    for (int i = 0; i < kAcceptsPerRound; ++i) {
      UniqueFd socket(::accept4(listenSocket.get(), nullptr, nullptr,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!socket) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if ((errno == EMFILE || errno == ENFILE) && spare) {
          refuseWithSpareFd();
          continue;
        }
        return;  // EAGAIN: backlog empty (or an error the next round retries)
      }
      // What the auditor throws (a required audit log that cannot be
      // written) ends the loop, as for every other record.
      admit(std::move(socket));
    }
  }

  void closeIdleClients(Clock::time_point now) {
    if (now < nextIdleSweep) return;
    // A quarter of the timeout between sweeps: a connection lives at most
    // 1.25 times the timeout without a request, and the sweep is cheap.
    nextIdleSweep = now + std::max<Clock::duration>(limits.idleTimeout / 4,
                                                    std::chrono::milliseconds(10));
    std::vector<int> idle;
    for (const auto& [fd, client] : clients) {
      if (now - client.lastActive >= limits.idleTimeout) idle.push_back(fd);
    }
    for (int fd : idle) dropClient(fd);
  }

  // How long epoll may sleep: until the next idle sweep (if anyone is
  // connected) or the next refusal summary, whichever comes first.
  int waitTimeoutMs(Clock::time_point now) const {
    std::optional<Clock::time_point> wake = refusals.nextSummaryDue();
    if (!clients.empty()) wake = wake ? std::min(*wake, nextIdleSweep) : nextIdleSweep;
    if (!wake) return -1;
    if (*wake <= now) return 0;
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count();
    return static_cast<int>(std::min<long long>(ms, 60'000));
  }

  // ---- requests ------------------------------------------------------------

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
      if (mayAuditRefusalOf(peer.uid)) {
        auditor.denied(peer, request.guest, request.disk, request.access,
                       decision.refusalReason);
      }
      return {formatBrokerRefusal(decision.refusalCode, decision.refusalReason), {},
              std::nullopt};
    }

    const BrokerDisk& disk = *decision.disk;
    PendingAudit audit{*guest, request.disk, disk.path, std::nullopt, request.access};
    Answer result;
    try {
      result.images = openDiskImages(disk.path, request.access);
    } catch (const Error& e) {
      // Nothing was handed out: a refusal like the others, rate limited
      // alike (the guest's own uid could otherwise flood with it).
      if (mayAuditRefusalOf(peer.uid)) {
        auditor.fdPassed(peer, *guest, request.disk, disk.path, std::nullopt,
                         request.access, false);
      }
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
    found->second.lastActive = Clock::now();

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
    if (auto still = clients.find(fd); still != clients.end()) {
      still->second.lastActive = Clock::now();
    }
    if (result.audit) {
      // A grant: root opened a file for a guest. Always recorded, sent or not.
      const PendingAudit& a = *result.audit;
      auditor.fdPassed(peer, a.guest, a.disk, a.path, a.blockDevice, a.access, sent);
    }
    // result.images close here: the kernel keeps its own references in flight.
  }

  bool isRootClient(int fd) const {
    auto found = clients.find(fd);
    return found != clients.end() && found->second.peer.uid == 0;
  }
};

BrokerServer::BrokerServer(UniqueFd listenSocket, BrokerGuestDirectory& directory,
                           BrokerAuditor& auditor, BrokerLimits limits)
    : impl_(std::make_unique<Impl>(std::move(listenSocket), directory, auditor,
                                   fitIntoFdLimit(limits, raiseFdLimitToHard()))) {
  int flags = ::fcntl(impl_->listenSocket.get(), F_GETFL);
  if (flags < 0 || ::fcntl(impl_->listenSocket.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    throw Error::fromErrno("broker: cannot make the listening socket non-blocking", errno);
  }
  impl_->epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!impl_->epoll) throw Error::fromErrno("broker: epoll_create1", errno);
  impl_->wakeup.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl_->wakeup) throw Error::fromErrno("broker: eventfd", errno);
  impl_->spare.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!impl_->spare) throw Error::fromErrno("broker: cannot open /dev/null", errno);
  impl_->watch(impl_->wakeup.get());
  impl_->watch(impl_->listenSocket.get());
}

BrokerServer::~BrokerServer() = default;

void BrokerServer::stop() noexcept {
  std::uint64_t one = 1;
  // write() is async-signal-safe; a full counter still wakes the loop.
  [[maybe_unused]] ssize_t ignored = ::write(impl_->wakeup.get(), &one, sizeof one);
}

std::size_t BrokerServer::clientCount() const noexcept {
  return impl_->clientCount.load(std::memory_order_relaxed);
}

const BrokerLimits& BrokerServer::limits() const noexcept { return impl_->limits; }

void BrokerServer::run() {
  Impl& s = *impl_;
  std::uint64_t drained;
  while (::read(s.wakeup.get(), &drained, sizeof drained) > 0) {
  }
  std::vector<epoll_event> events(256);
  std::vector<int> others;
  bool stopping = false;
  while (!stopping) {
    int ready = ::epoll_wait(s.epoll.get(), events.data(), static_cast<int>(events.size()),
                             s.waitTimeoutMs(Clock::now()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw Error::fromErrno("broker: epoll_wait", errno);
    }
    // Root's requests first, then everyone else's, one each.
    others.clear();
    bool listenReady = false;
    for (int i = 0; i < ready; ++i) {
      const int fd = events[static_cast<std::size_t>(i)].data.fd;
      if (fd == s.wakeup.get()) {
        stopping = true;
      } else if (fd == s.listenSocket.get()) {
        listenReady = true;
      } else if (s.isRootClient(fd)) {
        s.serveOne(fd);  // EPOLLHUP/EPOLLERR: the receive sees the hang-up or error
      } else {
        others.push_back(fd);
      }
    }
    if (stopping) break;
    if (listenReady) s.acceptPending();
    for (int fd : others) s.serveOne(fd);
    const Clock::time_point now = Clock::now();
    s.closeIdleClients(now);
    s.writeDueSummaries(now);
  }
  for (const SuppressedRefusals& summary : s.refusals.takeAllSummaries()) {
    s.auditor.refusalsSuppressed(summary);
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

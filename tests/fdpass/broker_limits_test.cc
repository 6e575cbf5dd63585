// The broker when someone tries to lock everyone else out or to flood the
// audit log: connection shares per uid, the pool of all non-root uids with
// root's share apart, the idle timeout, the fd limit, and the rate limit on
// refusal records. Real sockets, a server thread, clients forked as other
// uids; the guest directory and the auditor are the in-memory fakes.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/broker_client.h"
#include "fdpass/broker_server.h"
#include "fdpass/scm_rights.h"
#include "tests/fdpass/broker_fakes.h"
#include "tests/fdpass/test_support.h"

namespace seclabel {
namespace {

using testing::kGuestUid;
using testing::kStrangerUid;
using testing::RecordingAuditor;
using testing::runAsUid;
using testing::TableDirectory;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

// A request that must be answered; it is not a timing assertion, only the
// point where a starved client gives up so the test fails instead of hanging.
constexpr auto kPatience = std::chrono::seconds(20);

// Exit codes of forked clients.
constexpr int kOk = 0, kNoReply = 20, kWrongReply = 21, kNotClosed = 22, kNoConnect = 23;

// A unix connect() waits while the listen backlog is full (net.core.somaxconn);
// a broker that stopped accepting must make it fail, not hang the test.
UniqueFd connectTo(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  timeval patience{std::chrono::seconds(kPatience).count(), 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.c_str());
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return {};
  }
  return fd;
}

// Waits (kPatience at most) until `fd` is readable or hung up.
bool waitReadable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kPatience).count())) == 1;
}

// True when the broker has closed `fd` (what it said before is skipped).
bool closedByBroker(int fd) {
  while (waitReadable(fd)) {
    char buffer[kMaxBrokerReplyBytes];
    ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN) return errno == ECONNRESET;
  }
  return false;
}

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

class BrokerLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::runningAsRoot()) GTEST_SKIP() << "needs root: clients run as other uids";
    image_ = testing::makeImage(dir_.file("web.qcow2"));
    ASSERT_EQ(::chmod(image_.c_str(), 0600), 0);
    directory_.guests = {{"11111111-1111-1111-1111-111111111111",
                          "web",
                          kGuestUid,
                          {{"vda", {image_, DiskAccess::ReadWrite}}}}};
    socket_ = dir_.file("broker.sock");
  }

  void start(BrokerLimits limits = {}) {
    server_ = std::make_unique<BrokerServer>(listenOnBrokerSocket(socket_), directory_,
                                             auditor_, limits);
    thread_ = std::thread([this] { server_->run(); });
  }

  // Stops the server; it writes the pending summaries on its way out.
  void stop() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  void TearDown() override { stop(); }

  // As `uid`: one connection, one request for web's vda; 0 when granted,
  // else the Error's exit code.
  int askAs(uid_t uid) {
    return runAsUid(uid, [&] {
      try {
        return BrokerConnection::connect(socket_, kPatience)
                       .openDisk("web", "vda", DiskAccess::ReadOnly)
                       .fds.size() == 1
                   ? kOk
                   : kWrongReply;
      } catch (const Error& e) {
        return e.exitCode();
      }
    });
  }

  TempDir dir_;
  std::string image_, socket_;
  TableDirectory directory_;
  RecordingAuditor auditor_;
  std::unique_ptr<BrokerServer> server_;
  std::thread thread_;
};

// A child of uid `uid` that opens `count` connections and holds them until
// release(); then reports how many the broker had left open.
class ConnectionHolder {
 public:
  ConnectionHolder(uid_t uid, const std::string& socket, int count) {
    int toParent[2], fromParent[2];
    if (::pipe2(toParent, O_CLOEXEC) != 0 || ::pipe2(fromParent, O_CLOEXEC) != 0) {
      throw std::runtime_error("pipe2");
    }
    report_.reset(toParent[0]);
    release_.reset(fromParent[1]);
    UniqueFd reportEnd(toParent[1]), releaseEnd(fromParent[0]);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ > 0) return;
    // The child: not the parent's ends (its copy of the release end would
    // keep the read below from ever seeing the parent let go).
    report_.reset();
    release_.reset();
    // Room for the connections, then drop to `uid`.
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(uid, uid, uid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      ::_exit(98);
    }
    std::vector<UniqueFd> held;
    for (int i = 0; i < count; ++i) {
      UniqueFd fd = connectTo(socket);
      if (!fd) break;
      held.push_back(std::move(fd));
    }
    int connected = static_cast<int>(held.size());
    if (::write(reportEnd.get(), &connected, sizeof connected) != sizeof connected) ::_exit(97);
    char go;
    if (::read(releaseEnd.get(), &go, 1) < 0) ::_exit(96);
    // Still open = neither readable nor hung up.
    int open = 0;
    for (const UniqueFd& fd : held) {
      pollfd p{fd.get(), POLLIN, 0};
      open += ::poll(&p, 1, 0) == 0;
    }
    if (::write(reportEnd.get(), &open, sizeof open) != sizeof open) ::_exit(97);
    ::_exit(0);
  }
  ~ConnectionHolder() {
    release_.reset();
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

  // How many connect() calls succeeded (blocks until the child is done).
  int connected() { return readInt(); }
  // Lets the child go; returns how many of its connections were still open.
  int releaseAndCountOpen() {
    char go = 'x';
    if (::write(release_.get(), &go, 1) != 1) return -1;
    return readInt();
  }

 private:
  int readInt() {
    int value = -1;
    if (::read(report_.get(), &value, sizeof value) != sizeof value) return -1;
    return value;
  }
  pid_t pid_ = -1;
  UniqueFd report_, release_;
};

TEST_F(BrokerLimitsTest, OneUidHoldingTwoThousandIdleConnectionsLocksOutNeitherRootNorAGuest) {
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max < 2100) GTEST_SKIP() << "RLIMIT_NOFILE hard limit below 2100";
  BrokerLimits limits;  // the documented defaults ...
  limits.idleTimeout = std::chrono::hours(1);  // ... but a slow machine must not idle them out
  start(limits);
  const std::size_t share = server_->limits().maxConnectionsPerUid;

  ConnectionHolder attacker(kStrangerUid, socket_, 2000);
  // Every connect completes: the broker takes each from the backlog at once.
  EXPECT_EQ(attacker.connected(), 2000);

  // Root's and a guest's requests are answered while the attacker holds on.
  Clock::time_point t = Clock::now();
  BrokerConnection root = BrokerConnection::connect(socket_, kPatience);
  EXPECT_EQ(root.openDisk("web", "vda", DiskAccess::ReadWrite).fds.size(), 2u);
  const double rootMs = millisecondsSince(t);
  t = Clock::now();
  EXPECT_EQ(askAs(kGuestUid), kOk);
  const double guestMs = millisecondsSince(t);
  std::cout << "[ figures  ] with 2000 idle connections of one uid: root's request "
            << rootMs << " ms, the guest's (fork included) " << guestMs << " ms\n";

  // The attacker kept its share and not one connection more.
  EXPECT_EQ(attacker.releaseAndCountOpen(), static_cast<int>(share));
  EXPECT_GE(auditor_.count("connection", kStrangerUid), 1u);
}

TEST_F(BrokerLimitsTest, ConnectionsBeyondAUidsShareAreClosedAtOnceWithTheReason) {
  BrokerLimits limits;
  limits.maxConnectionsPerUid = 3;
  start(limits);
  int status = runAsUid(kStrangerUid, [&] {
    std::vector<UniqueFd> within;
    for (int i = 0; i < 3; ++i) within.push_back(connectTo(socket_));
    for (int i = 0; i < 2; ++i) {
      UniqueFd beyond = connectTo(socket_);
      if (!beyond) return kNoConnect;
      if (!waitReadable(beyond.get())) return kNoReply;
      auto reply = receiveRecordWithFds(beyond.get(), kMaxBrokerReplyBytes, 0);
      if (!reply || parseBrokerReply(reply->payload).refusalReason.find(
                        "too many connections: uid 61235 already holds 3") == std::string::npos)
        return kWrongReply;
      if (!closedByBroker(beyond.get())) return kNotClosed;
    }
    // The client library says why, not "Broken pipe".
    try {
      BrokerConnection::connect(socket_, kPatience).openDisk("web", "vda", DiskAccess::ReadOnly);
      return kWrongReply;
    } catch (const Error& e) {
      if (std::string(e.what()).find("too many connections") == std::string::npos) {
        return kWrongReply;
      }
    }
    // The three within the share are served (refused as a stranger, by reply).
    for (const UniqueFd& fd : within) {
      sendWithFds(fd.get(), formatBrokerRequest({"web", "vda", DiskAccess::ReadOnly}), {});
      if (!waitReadable(fd.get())) return kNoReply;
      auto reply = receiveRecordWithFds(fd.get(), kMaxBrokerReplyBytes, 0);
      if (!reply || parseBrokerReply(reply->payload).refusalCode != ExitCode::PermissionDenied)
        return kWrongReply;
    }
    return kOk;
  });
  EXPECT_EQ(status, kOk) << "20: no reply, 21: wrong reply, 22: not closed, 23: no connect";
  EXPECT_EQ(auditor_.count("connection", kStrangerUid), 3u);
}

TEST_F(BrokerLimitsTest, RootKeepsItsShareAndAGuestGetsInWhenOtherUidsFillThePool) {
  BrokerLimits limits;
  limits.maxConnectionsPerUid = 4;
  limits.maxConnections = 8;
  limits.idleTimeout = std::chrono::hours(1);
  start(limits);
  // Two uids fill the pool of non-root connections.
  ConnectionHolder first(kStrangerUid, socket_, 4), second(kStrangerUid + 100, socket_, 4);
  ASSERT_EQ(first.connected(), 4);
  ASSERT_EQ(second.connected(), 4);

  // Root: its own four, whatever the others hold; a fifth is over its share.
  std::vector<BrokerConnection> rootConnections;
  for (int i = 0; i < 4; ++i) rootConnections.push_back(BrokerConnection::connect(socket_, kPatience));
  for (BrokerConnection& c : rootConnections) {
    EXPECT_EQ(c.openDisk("web", "vda", DiskAccess::ReadOnly).fds.size(), 1u);
  }
  try {
    BrokerConnection::connect(socket_, kPatience).openDisk("web", "vda", DiskAccess::ReadOnly);
    ADD_FAILURE() << "root's fifth connection was served";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("too many connections: uid 0"), std::string::npos)
        << e.what();
  }

  // The guest holds none: the uid holding the most gives up an idle one.
  EXPECT_EQ(askAs(kGuestUid), kOk);
  EXPECT_EQ(first.releaseAndCountOpen() + second.releaseAndCountOpen(), 7);
}

TEST_F(BrokerLimitsTest, AUidAsLargeAsAnyOtherIsRefusedWhenThePoolIsFull) {
  BrokerLimits limits;
  limits.maxConnectionsPerUid = 4;
  limits.maxConnections = 4;
  limits.idleTimeout = std::chrono::hours(1);
  start(limits);
  ConnectionHolder holder(kStrangerUid, socket_, 2);
  ASSERT_EQ(holder.connected(), 2);
  // Two fit; a third would make this uid hold more than the other: refused.
  ConnectionHolder other(kStrangerUid + 100, socket_, 4);
  ASSERT_EQ(other.connected(), 4);
  // Root's request is behind all of them in the backlog: once answered,
  // the broker has decided about every one.
  EXPECT_EQ(BrokerConnection::connect(socket_, kPatience)
                .openDisk("web", "vda", DiskAccess::ReadOnly)
                .fds.size(),
            1u);
  EXPECT_EQ(other.releaseAndCountOpen(), 2);
  EXPECT_EQ(holder.releaseAndCountOpen(), 2);
}

TEST_F(BrokerLimitsTest, ConnectionWithoutARequestIsClosedAfterTheIdleTimeout) {
  BrokerLimits limits;
  limits.idleTimeout = std::chrono::milliseconds(200);
  start(limits);
  UniqueFd silent = connectTo(socket_);
  ASSERT_TRUE(silent);
  EXPECT_TRUE(closedByBroker(silent.get()));

  // Idle after its last reply counts the same.
  UniqueFd once = connectTo(socket_);
  sendWithFds(once.get(), formatBrokerRequest({"web", "vda", DiskAccess::ReadOnly}), {});
  ASSERT_TRUE(waitReadable(once.get()));
  auto reply = receiveRecordWithFds(once.get(), kMaxBrokerReplyBytes, 2);
  ASSERT_TRUE(reply.has_value());
  EXPECT_TRUE(parseBrokerReply(reply->payload).ok);
  EXPECT_TRUE(closedByBroker(once.get()));
  EXPECT_EQ(server_->clientCount(), 0u);
}

TEST_F(BrokerLimitsTest, RefusalFloodIsRateLimitedPerUidAndSummarizedWhileGrantsAndRootAreAlwaysAudited) {
  BrokerLimits limits;
  limits.refusalAudit = {0.001, 5, std::chrono::seconds(3600)};  // no refill during the test
  start(limits);
  constexpr int kFlood = 2000;
  int flooded = runAsUid(kStrangerUid, [&] {
    BrokerConnection connection = BrokerConnection::connect(socket_, kPatience);
    for (int i = 0; i < kFlood; ++i) {
      try {
        connection.openDisk("web", "vda", DiskAccess::ReadOnly);
        return kWrongReply;
      } catch (const Error& e) {
        if (e.code() != ExitCode::PermissionDenied) return kWrongReply;
      }
    }
    return kOk;
  });
  ASSERT_EQ(flooded, kOk);
  // The guest's own refusals have their own bucket; its grants are not limited.
  int guest = runAsUid(kGuestUid, [&] {
    BrokerConnection connection = BrokerConnection::connect(socket_, kPatience);
    for (int i = 0; i < 8; ++i) {
      try {
        connection.openDisk("web", "vdz", DiskAccess::ReadOnly);
        return kWrongReply;
      } catch (const Error&) {
      }
    }
    for (int i = 0; i < 30; ++i) connection.openDisk("web", "vda", DiskAccess::ReadOnly);
    return kOk;
  });
  ASSERT_EQ(guest, kOk);
  // Root's refusals are root-side actions: every one is written.
  BrokerConnection root = BrokerConnection::connect(socket_, kPatience);
  for (int i = 0; i < 50; ++i) {
    EXPECT_THROW(root.openDisk("nosuchguest", "vda", DiskAccess::ReadOnly), Error);
  }
  stop();  // writes the summaries still pending

  EXPECT_EQ(auditor_.count("denied", kStrangerUid), 5u);
  EXPECT_EQ(auditor_.suppressedFor(kStrangerUid), static_cast<std::uint64_t>(kFlood - 5));
  EXPECT_EQ(auditor_.count("denied", kGuestUid), 5u);
  EXPECT_EQ(auditor_.suppressedFor(kGuestUid), 3u);
  EXPECT_EQ(auditor_.count("fd", kGuestUid), 30u);
  EXPECT_EQ(auditor_.count("denied", 0), 50u);
  EXPECT_EQ(auditor_.suppressedFor(0), 0u);
}

// ---- the fd limit (changed in a child, so the test process keeps its own) ---

template <typename Body>
int inChild(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
    }
    ::_exit(code);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(BrokerLimitsTest, StartRaisesTheSoftFdLimitToTheHardOne) {
  int result = inChild([&] {
    rlimit low{256, 1024};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return 1;
    BrokerServer server(listenOnBrokerSocket(socket_), directory_, auditor_);
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    return now.rlim_cur == 1024 ? 0 : 2;
  });
  EXPECT_EQ(result, 0);
}

TEST_F(BrokerLimitsTest, SharedPoolShrinksToFitTheFdLimitAndRootsShareDoesNot) {
  int result = inChild([&] {
    rlimit low{300, 300};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return 1;
    BrokerServer server(listenOnBrokerSocket(socket_), directory_, auditor_);
    // 300 fds: 64 for the broker itself, 64 for root's share, the rest shared.
    if (server.limits().maxConnectionsPerUid != 64) return 2;
    return server.limits().maxConnections == 300 - 64 - 64 ? 0 : 3;
  });
  EXPECT_EQ(result, 0);
}

}  // namespace
}  // namespace seclabel

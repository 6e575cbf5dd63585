// SCM_RIGHTS: what arrives, and what never leaks, including when the peer is
// hostile (too many fds, oversized records, foreign control data, hang-ups).
#include "fdpass/scm_rights.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "tests/fdpass/test_support.h"

namespace seclabel {
namespace {

using testing::countOpenFds;

struct SocketPair {
  explicit SocketPair(int type) {
    int fds[2];
    if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
  UniqueFd a, b;
};

UniqueFd openDevNull() { return UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }

bool sameFile(int x, int y) {
  struct stat sx {}, sy {};
  ::fstat(x, &sx);
  ::fstat(y, &sy);
  return sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
}

// Sends raw fds without going through sendWithFds (to play a hostile peer).
void sendRawFds(int socket, const std::string& payload, const std::vector<int>& fds) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  iovec iov{const_cast<char*>(payload.data()), payload.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  ASSERT_EQ(::sendmsg(socket, &msg, 0), static_cast<ssize_t>(payload.size()));
}

TEST(ScmRights, SeqpacketRecordCarriesPayloadAndFds) {
  SocketPair pair(SOCK_SEQPACKET);
  UniqueFd first = openDevNull();
  UniqueFd second = openDevNull();
  int fds[] = {first.get(), second.get()};
  sendWithFds(pair.a.get(), "hello", fds);

  auto message = receiveRecordWithFds(pair.b.get(), 64, 2);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->payload, "hello");
  ASSERT_EQ(message->fds.size(), 2u);
  EXPECT_TRUE(sameFile(message->fds[0].get(), first.get()));
  EXPECT_NE(message->fds[0].get(), first.get());
}

TEST(ScmRights, ReceivedFdsAreCloseOnExec) {
  SocketPair pair(SOCK_SEQPACKET);
  UniqueFd file = openDevNull();
  int fds[] = {file.get()};
  sendWithFds(pair.a.get(), "x", fds);
  auto message = receiveRecordWithFds(pair.b.get(), 64, 1);
  ASSERT_TRUE(message.has_value());
  ASSERT_EQ(message->fds.size(), 1u);
  EXPECT_TRUE(::fcntl(message->fds[0].get(), F_GETFD) & FD_CLOEXEC);
}

TEST(ScmRights, StreamMessageCarriesPayloadAndFds) {
  SocketPair pair(SOCK_STREAM);
  UniqueFd file = openDevNull();
  int fds[] = {file.get()};
  sendWithFds(pair.a.get(), "0123456789", fds);
  ReceivedMessage message = receiveExactWithFds(pair.b.get(), 10, 1);
  EXPECT_EQ(message.payload, "0123456789");
  ASSERT_EQ(message.fds.size(), 1u);
  EXPECT_TRUE(sameFile(message.fds[0].get(), file.get()));
}

TEST(ScmRights, StreamLargePayloadArrivesWhole) {
  SocketPair pair(SOCK_STREAM);
  std::string big(1 << 20, 'q');  // larger than a socket buffer: partial writes
  UniqueFd file = openDevNull();
  int fds[] = {file.get()};
  std::thread sender([&] { sendWithFds(pair.a.get(), big, fds); });
  ReceivedMessage message = receiveExactWithFds(pair.b.get(), big.size(), 1);
  sender.join();
  EXPECT_EQ(message.payload, big);
  EXPECT_EQ(message.fds.size(), 1u);
}

TEST(ScmRights, PeerClosingIsReportedAsNoMessage) {
  SocketPair pair(SOCK_SEQPACKET);
  pair.a.reset();
  EXPECT_FALSE(receiveRecordWithFds(pair.b.get(), 64, 1).has_value());
}

TEST(ScmRights, StreamPeerClosingMidMessageIsShort) {
  SocketPair pair(SOCK_STREAM);
  sendWithFds(pair.a.get(), "abc", {});
  pair.a.reset();
  try {
    receiveExactWithFds(pair.b.get(), 10, 1);
    FAIL() << "a short message was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("short message"), std::string::npos) << e.what();
  }
}

TEST(ScmRights, StreamShortMessageClosesFdsThatCame) {
  SocketPair pair(SOCK_STREAM);
  UniqueFd file = openDevNull();
  int before = countOpenFds();
  int fds[] = {file.get()};
  sendWithFds(pair.a.get(), "abc", fds);
  pair.a.reset();
  EXPECT_THROW(receiveExactWithFds(pair.b.get(), 10, 1), Error);
  EXPECT_EQ(countOpenFds(), before - 1);  // only pair.a went away
}

TEST(ScmRights, OversizedRecordIsAnErrorAndLeaksNothing) {
  SocketPair pair(SOCK_SEQPACKET);
  UniqueFd file = openDevNull();
  int fds[] = {file.get()};
  sendWithFds(pair.a.get(), std::string(100, 'x'), fds);
  int before = countOpenFds();
  EXPECT_THROW(receiveRecordWithFds(pair.b.get(), 50, 1), Error);
  EXPECT_EQ(countOpenFds(), before);
}

TEST(ScmRights, RecordOfExactlyTheLimitIsAccepted) {
  SocketPair pair(SOCK_SEQPACKET);
  sendWithFds(pair.a.get(), std::string(50, 'x'), {});
  auto message = receiveRecordWithFds(pair.b.get(), 50, 0);
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->payload.size(), 50u);
}

TEST(ScmRights, TooManyFdsIsAnErrorAndLeaksNothing) {
  SocketPair pair(SOCK_SEQPACKET);
  std::vector<UniqueFd> files;
  std::vector<int> raw;
  for (int i = 0; i < 10; ++i) {
    files.push_back(openDevNull());
    raw.push_back(files.back().get());
  }
  sendRawFds(pair.a.get(), "x", raw);
  int before = countOpenFds();
  try {
    receiveRecordWithFds(pair.b.get(), 64, 2);
    FAIL() << "10 fds accepted where 2 were allowed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
  }
  EXPECT_EQ(countOpenFds(), before);
}

TEST(ScmRights, TruncatedControlDataIsAnError) {
  SocketPair pair(SOCK_SEQPACKET);
  UniqueFd file = openDevNull();
  int before = countOpenFds();
  sendRawFds(pair.a.get(), "x", {file.get(), file.get(), file.get()});
  // Room for none: the kernel sets MSG_CTRUNC.
  EXPECT_THROW(receiveRecordWithFds(pair.b.get(), 64, 0), Error);
  EXPECT_EQ(countOpenFds(), before);
}

TEST(ScmRights, ForeignControlMessageIsAnError) {
  SocketPair pair(SOCK_SEQPACKET);
  int on = 1;
  ASSERT_EQ(::setsockopt(pair.b.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
  sendWithFds(pair.a.get(), "x", {});
  EXPECT_THROW(receiveRecordWithFds(pair.b.get(), 64, 1), Error);
}

TEST(ScmRights, EmptyPayloadIsRefused) {
  SocketPair pair(SOCK_SEQPACKET);
  EXPECT_THROW(sendWithFds(pair.a.get(), "", {}), Error);
}

TEST(ScmRights, SendingToAClosedPeerIsAnErrorNotASignal) {
  SocketPair pair(SOCK_SEQPACKET);
  pair.b.reset();
  try {
    sendWithFds(pair.a.get(), "x", {});
    FAIL() << "send to a closed peer succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EPIPE);
  }
}

TEST(ScmRights, NonBlockingReceiveWithNothingQueuedSaysEagain) {
  SocketPair pair(SOCK_SEQPACKET);
  ::fcntl(pair.b.get(), F_SETFL, O_NONBLOCK);
  try {
    receiveRecordWithFds(pair.b.get(), 64, 1);
    FAIL() << "received from an empty socket";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EAGAIN);
  }
}

TEST(ScmRights, ThousandsOfHostileRecordsLeakNothing) {
  SocketPair pair(SOCK_SEQPACKET);
  UniqueFd file = openDevNull();
  int before = countOpenFds();
  for (int i = 0; i < 2000; ++i) {
    sendRawFds(pair.a.get(), std::string(i % 2 ? 200 : 10, 'x'),
               {file.get(), file.get(), file.get()});
    EXPECT_THROW(receiveRecordWithFds(pair.b.get(), 100, 2), Error);
  }
  EXPECT_EQ(countOpenFds(), before);
}

}  // namespace
}  // namespace seclabel

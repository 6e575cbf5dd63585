// Where the broker's listening socket comes from: bound by the broker, or
// handed over by systemd socket activation (packaging/seclabel-broker.socket).
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fdpass/broker_server.h"
#include "tests/fdpass/test_support.h"

namespace seclabel {
namespace {

using testing::TempDir;

TEST(ListenOnBrokerSocket, SocketIsOpenToEveryoneAndParentIsCreated) {
  TempDir dir;
  std::string path = dir.file("run/seclabel/broker.sock");
  ::mkdir(dir.file("run").c_str(), 0755);
  UniqueFd socket = listenOnBrokerSocket(path);
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_TRUE(S_ISSOCK(status.st_mode));
  EXPECT_EQ(status.st_mode & 07777, 0666u);
  int type = 0;
  socklen_t length = sizeof type;
  ::getsockopt(socket.get(), SOL_SOCKET, SO_TYPE, &type, &length);
  EXPECT_EQ(type, SOCK_SEQPACKET);
}

TEST(ListenOnBrokerSocket, ReplacesAStaleSocket) {
  TempDir dir;
  std::string path = dir.file("broker.sock");
  { UniqueFd first = listenOnBrokerSocket(path); }  // closed, file left behind
  EXPECT_NO_THROW(listenOnBrokerSocket(path));
}

TEST(ListenOnBrokerSocket, RefusesToReplaceSomethingElse) {
  TempDir dir;
  std::string path = dir.file("broker.sock");
  std::ofstream(path) << "not a socket";
  EXPECT_THROW(listenOnBrokerSocket(path), Error);
  EXPECT_TRUE(std::ifstream(path).good());
}

// Runs `body` in a child whose fd 3 is a listening SOCK_SEQPACKET socket and
// whose LISTEN_* variables are set as systemd sets them; returns its status.
int inActivatedChild(const TempDir& dir, bool forThisPid, int (*body)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    UniqueFd socket = listenOnBrokerSocket(dir.file("activated.sock"));
    if (::dup2(socket.get(), 3) != 3) ::_exit(90);
    ::setenv("LISTEN_PID", std::to_string(forThisPid ? ::getpid() : 1).c_str(), 1);
    ::setenv("LISTEN_FDS", "1", 1);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(BrokerSocketFromSystemd, TakesFdThreeWhenActivatedForUs) {
  TempDir dir;
  EXPECT_EQ(inActivatedChild(dir, true, [] {
              auto socket = brokerSocketFromSystemd();
              if (!socket || socket->get() != 3) return 1;
              if (std::getenv("LISTEN_FDS") != nullptr) return 2;  // consumed
              return 0;
            }),
            0);
}

TEST(BrokerSocketFromSystemd, IgnoresVariablesMeantForAnotherProcess) {
  TempDir dir;
  EXPECT_EQ(inActivatedChild(dir, false,
                             [] { return brokerSocketFromSystemd().has_value() ? 1 : 0; }),
            0);
}

TEST(BrokerSocketFromSystemd, NothingWithoutActivation) {
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  EXPECT_FALSE(brokerSocketFromSystemd().has_value());
}

}  // namespace
}  // namespace seclabel

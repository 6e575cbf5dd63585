// Guest claims (alloc/guest_claims.h): OFD locks on guests.lock in the
// state directory. Two holders never hold one guest; a claim ends with its
// holder, whatever way it ends.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "alloc/guest_claims.h"
#include "alloc/store.h"
#include "tests/alloc/temp_state_dir.h"

namespace seclabel {
namespace {

using testing::TempStateDir;

class GuestClaimsTest : public ::testing::Test {
 protected:
  std::unique_ptr<GuestClaims> open() {
    if (!directory_) directory_ = openStateDirectory(state_.stateDir());
    return GuestClaims::open(*directory_);
  }
  TempStateDir state_;
  std::shared_ptr<const TrustedDirectory> directory_;
  const std::string uuid_ = "6f1c3c3e-3f0a-4a57-9d1e-0123456789ab";
};

TEST_F(GuestClaimsTest, OneHolderAtATimePerUuidAndPerName) {
  auto a = open(), b = open();
  ASSERT_TRUE(a->tryClaim(uuid_, "g1"));
  EXPECT_TRUE(a->holds(uuid_));
  EXPECT_FALSE(b->tryClaim(uuid_, "g1"));
  EXPECT_FALSE(b->tryClaim(uuid_, "other-name")) << "same uuid, another name";
  EXPECT_FALSE(b->tryClaim("11111111-2222-3333-4444-555555555555", "g1"))
      << "same name, another uuid";
  EXPECT_FALSE(b->holds(uuid_));
  // A failed claim took nothing: another guest is free for b.
  EXPECT_TRUE(b->tryClaim("11111111-2222-3333-4444-555555555555", "g2"));
  a->release(uuid_, "g1");
  EXPECT_TRUE(b->tryClaim(uuid_, "g1"));
  EXPECT_FALSE(a->tryClaim(uuid_, "g1"));
}

TEST_F(GuestClaimsTest, ClaimsAreCountedAndReleaseAllEndsThem) {
  auto a = open(), b = open();
  ASSERT_TRUE(a->tryClaim(uuid_, "g1"));
  ASSERT_TRUE(a->tryClaim(uuid_, "g1"));
  a->release(uuid_, "g1");
  EXPECT_FALSE(b->tryClaim(uuid_, "g1")) << "one of two claims given back ended both";
  a->releaseAll(uuid_, "g1");
  EXPECT_TRUE(b->tryClaim(uuid_, "g1"));
}

TEST_F(GuestClaimsTest, UuidBytesAndNameBytesNeverMeet) {
  std::set<off_t> offsets;
  for (int i = 0; i < 1000; ++i) {
    const std::string text = "guest-" + std::to_string(i);
    EXPECT_EQ(GuestClaims::uuidOffset(text) % 2, 0);
    EXPECT_EQ(GuestClaims::nameOffset(text) % 2, 1);
    offsets.insert(GuestClaims::uuidOffset(text));
    offsets.insert(GuestClaims::nameOffset(text));
    EXPECT_GE(GuestClaims::uuidOffset(text), 0);
  }
  EXPECT_EQ(offsets.size(), 2000u);
}

// Killed, exited or exec'd: the kernel ends the holder's claims.
TEST_F(GuestClaimsTest, AClaimEndsWithItsHoldingProcess) {
  auto mine = open();
  for (const char* how : {"kill", "exit", "exec"}) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto claims = open();
      if (!claims->tryClaim(uuid_, "g1")) ::_exit(2);
      if (::write(ready[1], "c", 1) != 1) ::_exit(3);
      if (std::string(how) == "exit") ::_exit(0);
      if (std::string(how) == "exec") {
        // The lock file is O_CLOEXEC: the new program holds nothing.
        ::execl("/bin/sleep", "sleep", "30", nullptr);
        ::_exit(127);
      }
      for (;;) ::pause();
    }
    ::close(ready[1]);
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1) << how;
    ::close(ready[0]);
    if (std::string(how) == "kill") {
      EXPECT_FALSE(mine->tryClaim(uuid_, "g1")) << "held by a live child";
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    } else if (std::string(how) == "exit") {
      ::waitpid(pid, nullptr, 0);
    } else {
      // Wait for the exec: its comm becomes "sleep".
      for (int i = 0; i < 2000; ++i) {
        char comm[32] = {};
        int fd = ::open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_RDONLY);
        ssize_t n = fd >= 0 ? ::read(fd, comm, sizeof comm - 1) : -1;
        if (fd >= 0) ::close(fd);
        if (n > 0 && std::string(comm) == "sleep\n") break;
        ::usleep(1000);
      }
    }
    EXPECT_TRUE(mine->tryClaim(uuid_, "g1")) << how;
    mine->releaseAll(uuid_, "g1");
    if (std::string(how) == "exec") {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
}

TEST_F(GuestClaimsTest, TheLockFileIsPrivateAndNotInherited) {
  auto claims = open();
  struct stat status {};
  ASSERT_EQ(::stat((state_.stateDir() + "/guests.lock").c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u);
  EXPECT_EQ(status.st_uid, ::geteuid());
}

}  // namespace
}  // namespace seclabel

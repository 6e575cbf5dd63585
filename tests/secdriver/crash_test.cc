// A prepare killed with SIGKILL half-way through many disks: `seclabel
// recover` (or the next mutating command) brings every file back.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kDisks = 40;
constexpr std::size_t kKillAfter = 17;  // resources labeled before the kill: 0..17

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SECLABEL_REQUIRE_ROOT();
    config = scratch.path("seclabel.toml");
    writeTextFile(config, configToml({"selinux", "dac"}, "never"));
    for (int i = 0; i < kDisks; ++i) {
      Original look = original;
      // Modes vary so each file's own comes back (a writable image may not
      // be setuid or setgid at all).
      look.mode = (i % 2) ? 0750 : 0640;
      if (i % 3 == 0) look.selinux = std::nullopt;
      std::string name = "disk" + std::to_string(i) + ".img";
      disks.push_back({scratch.makeFile(name, look), "vd" + std::to_string(i)});
      before.push_back(fileState(disks.back().path));
    }
  }

  // Runs the prepare in a forked child (its own store connection) that
  // SIGKILLs itself right after resource `kKillAfter` was labeled.
  void prepareAndDieHalfWay() {
    std::string xml = domainXml("crashy", uuidFor(1), disks);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        Harness child(scratch);
        child.manager->setHooks({.afterResourceLabeled = [](std::size_t index) {
          if (index == kKillAfter) ::raise(SIGKILL);
        }});
        child.prepare(xml);
      } catch (...) {
      }
      ::_exit(0);  // not reached when the kill happens
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  }

  // Runs the restore of guest 1 in a forked child (its own store
  // connection) that SIGKILLs itself right after resource `kKillAfter` was
  // put back.
  void restoreAndDieHalfWay() {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        Harness child(scratch);
        child.manager->setHooks({.afterResourceRestored = [](std::size_t index) {
          if (index == kKillAfter) ::raise(SIGKILL);
        }});
        child.manager->restore(uuidFor(1));
      } catch (...) {
      }
      ::_exit(0);  // not reached when the kill happens
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  }

  // The pid of a child that has exited and been reaped.
  static pid_t exitedProcess() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
  }

  void expectHalfDone() {
    for (int i = 0; i < kDisks; ++i) {
      if (static_cast<std::size_t>(i) <= kKillAfter)
        EXPECT_NE(fileState(disks[i].path), before[i]) << disks[i].path << " was labeled";
      else
        EXPECT_EQ(fileState(disks[i].path), before[i]) << disks[i].path << " was not reached";
    }
  }

  void expectEveryFileAsBefore() {
    for (int i = 0; i < kDisks; ++i) EXPECT_EQ(fileState(disks[i].path), before[i]) << disks[i].path;
  }

  Scratch scratch;
  const Original original;
  std::string config;
  std::vector<DiskSpec> disks;
  std::vector<FileState> before;
};

TEST_F(CrashTest, RecoverRestoresEveryFileOfAPrepareKilledHalfWay) {
  prepareAndDieHalfWay();
  expectHalfDone();

  CommandResult result = runSeclabel(config, scratch.stateDir(), {"recover"});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("undid the interrupted prepare of guest crashy"));
  expectEveryFileAsBefore();
  Harness after(scratch);
  EXPECT_TRUE(storeHoldsNothingFor(*after.store, uuidFor(1)));
}

TEST_F(CrashTest, TheNextMutatingCommandRecoversFirst) {
  prepareAndDieHalfWay();
  std::string other = scratch.makeFile("other.img", original);
  std::string xmlPath = scratch.path("other.xml");
  writeTextFile(xmlPath, domainXml("other", uuidFor(2), {{other, "vda"}}));

  CommandResult result = runSeclabel(config, scratch.stateDir(), {"prepare", xmlPath});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_THAT(result.err,
              HasSubstr("seclabel: recover: undid the interrupted prepare of guest crashy"));
  expectEveryFileAsBefore();
  Harness after(scratch);
  EXPECT_TRUE(after.store->identitiesOf(uuidFor(1)).empty());
  ASSERT_EQ(after.store->listGuests().size(), 1u);
  EXPECT_EQ(after.store->listGuests()[0].name, "other");
}

// The restore of a guest whose process has exited is one transaction: killed
// half-way, the store still says "running, pid gone" with every original,
// which is exactly what recover restores.
TEST_F(CrashTest, RecoverFinishesARestoreKilledHalfWay) {
  {
    Harness harness(scratch);
    harness.prepare(domainXml("crashy", uuidFor(1), disks));
    harness.manager->markRunning(uuidFor(1), exitedProcess());
  }
  restoreAndDieHalfWay();
  {
    Harness between(scratch);
    auto guest = between.store->findGuest(uuidFor(1));
    ASSERT_TRUE(guest.has_value()) << "the interrupted restore rolled back";
    EXPECT_EQ(guest->state, GuestState::Running);
    EXPECT_EQ(between.store->resourcesOf(uuidFor(1)).size(), std::size_t(kDisks));
    EXPECT_TRUE(between.store->pendingIntentsOf(uuidFor(1)).empty())
        << "a running guest whose process is gone needs no restore intent";
  }

  CommandResult result = runSeclabel(config, scratch.stateDir(), {"recover"});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("restored guest crashy: its process"));
  expectEveryFileAsBefore();
  Harness after(scratch);
  EXPECT_TRUE(storeHoldsNothingFor(*after.store, uuidFor(1)));
}

// A guest that was prepared but never ran has nothing else marking it for
// recover, so its restore commits a Restore intent before the first file.
TEST_F(CrashTest, RecoverFinishesTheKilledRestoreOfAGuestThatNeverRan) {
  {
    Harness harness(scratch);
    harness.prepare(domainXml("crashy", uuidFor(1), disks));
  }
  restoreAndDieHalfWay();
  {
    Harness between(scratch);
    auto intents = between.store->pendingIntentsOf(uuidFor(1));
    ASSERT_EQ(intents.size(), 1u);
    EXPECT_EQ(intents[0].kind, IntentKind::Restore);
  }

  CommandResult result = runSeclabel(config, scratch.stateDir(), {"recover"});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("finished the interrupted restore of guest crashy"));
  expectEveryFileAsBefore();
  Harness after(scratch);
  EXPECT_TRUE(storeHoldsNothingFor(*after.store, uuidFor(1)));
}

TEST_F(CrashTest, RecoverWithNothingToDoSaysSoAndChangesNothing) {
  CommandResult result = runSeclabel(config, scratch.stateDir(), {"recover"});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.out, "nothing to recover\n");
  expectEveryFileAsBefore();
}

}  // namespace
}  // namespace seclabel::testing

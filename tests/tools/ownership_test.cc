// One live process owns a guest while it prepares, starts, runs or stops it
// (alloc/guest_claims.h): every other command on that guest fails at once
// with exit 3 and changes nothing. The interleavings are made with the
// SECLABEL_TEST_STOP_AT seam (core/process_liveness.h): the command under test
// stops itself at a named point, the test acts, then resumes it. No sleeps.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/process_liveness.h"
#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

std::vector<std::string> operator+(std::vector<std::string> head,
                                   const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

// The state letter of /proc/PID/stat (after the last ')').
char processState(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return '?';
  return stat[close + 2];
}

// A seclabel command started with SECLABEL_TEST_STOP_AT=point, stopped there.
class StoppedAt {
 public:
  StoppedAt(const std::vector<std::string>& argv, const std::string& point) {
    ::setenv("SECLABEL_TEST_STOP_AT", point.c_str(), 1);
    child_ = std::make_unique<Child>(argv);
    ::unsetenv("SECLABEL_TEST_STOP_AT");
    stopped_ = eventually([&] { return processState(child_->pid()) == 'T'; });
  }
  bool stopped() const { return stopped_; }
  Child& child() { return *child_; }
  Finished resume() {
    ::kill(child_->pid(), SIGCONT);
    return child_->wait();
  }

 private:
  std::unique_ptr<Child> child_;
  bool stopped_ = false;
};

class Ownership : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: seclabel chowns images and changes uids";
    writeConfig(config_, {});
    makeImage(image_);
    writeDomain(xml_, "owned-guest", uuid_, {{image_, "vda"}});
  }
  Finished seclabel(const std::vector<std::string>& args) {
    return runSeclabel(config_, state_, args);
  }
  std::vector<std::string> argv(const std::vector<std::string>& args) {
    return seclabelArgv(config_, state_, args);
  }
  nlohmann::json list() { return listGuests(config_, state_); }
  nlohmann::json guest() { return findGuest(list(), uuid_); }
  void expectImageUntouched() {
    Owner o = ownerOf(image_);
    EXPECT_EQ(o.uid, 0u);
    EXPECT_EQ(o.gid, 0u);
    EXPECT_EQ(o.mode, 0600u);
  }

  TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string image_ = dir_ / "guest.qcow2";
  std::string xml_ = dir_ / "guest.xml";
  std::string uuid_ = freshUuid();
};

// The prepare has committed (guest, identities, originals) and not yet
// chowned: a restore now would forget what the prepare is about to label.
TEST_F(Ownership, RestoreDuringPrepareIsExit3AndTheGuestEndsLabeledAndListed) {
  StoppedAt prepare(argv({"prepare", xml_}), "prepare-committed");
  ASSERT_TRUE(prepare.stopped());
  ASSERT_FALSE(guest().is_null()) << "the first commit is not there";

  for (const std::string& name : {uuid_, std::string("owned-guest")}) {
    Finished restore = seclabel({"restore", name});
    EXPECT_EQ(restore.code(), 3) << restore.err;
    EXPECT_NE(restore.err.find("another seclabel process"), std::string::npos) << restore.err;
  }
  expectImageUntouched();

  Finished prepared = prepare.resume();
  ASSERT_EQ(prepared.code(), 0) << prepared.err;
  nlohmann::json g = guest();
  ASSERT_FALSE(g.is_null());
  EXPECT_EQ(g["state"], "prepared");
  auto [uid, gid] = dacIds(g);
  EXPECT_EQ(ownerOf(image_).uid, uid);
  EXPECT_EQ(ownerOf(image_).gid, gid);

  // Once the preparer is done, the guest is anybody's to restore.
  Finished restore = seclabel({"restore", uuid_});
  EXPECT_EQ(restore.code(), 0) << restore.err;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

TEST_F(Ownership, RecoverDuringPrepareLeavesItAlone) {
  StoppedAt prepare(argv({"prepare", xml_}), "prepare-committed");
  ASSERT_TRUE(prepare.stopped());
  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_EQ(recover.out, "nothing to recover\n");

  Finished prepared = prepare.resume();
  ASSERT_EQ(prepared.code(), 0) << prepared.err;
  nlohmann::json g = guest();
  ASSERT_FALSE(g.is_null());
  EXPECT_EQ(ownerOf(image_).uid, dacIds(g).first);
  EXPECT_EQ(seclabel({"restore", uuid_}).code(), 0);
  expectImageUntouched();
}

// The first run has prepared and not yet started its guest (the window in
// which a second run used to take the prepared guest and start it too).
TEST_F(Ownership, TwoRunsOfOneDomainTheLoserExits3AtOnceAndChangesNothing) {
  StoppedAt first(argv({"run", xml_, "--", "/bin/sh", "-c", "echo first-ran"}), "prepared");
  ASSERT_TRUE(first.stopped());
  nlohmann::json before = guest();
  ASSERT_FALSE(before.is_null());
  const Owner labeled = ownerOf(image_);

  Finished second = seclabel({"run", xml_, "--", "/bin/sh", "-c", "echo second-ran"});
  EXPECT_EQ(second.code(), 3) << second.err;
  EXPECT_EQ(second.out.find("second-ran"), std::string::npos);
  // exec is refused the same way.
  Finished exec = seclabel({"exec", xml_, "--", "/bin/true"});
  EXPECT_EQ(exec.code(), 3) << exec.err;
  EXPECT_EQ(guest(), before) << "the loser changed the guest";
  EXPECT_EQ(ownerOf(image_).uid, labeled.uid);
  EXPECT_EQ(ownerOf(image_).gid, labeled.gid);

  Finished won = first.resume();
  EXPECT_EQ(won.code(), 0) << won.err;
  EXPECT_NE(won.out.find("first-ran"), std::string::npos);
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

// A run whose guest has exited and which has not restored it yet (also a
// launcher stopped there by anyone: SIGSTOP): nobody else restores the
// guest, or prepares the uuid again under it; the launcher then restores
// its own instance.
TEST_F(Ownership, RestoreAndPrepareDuringRunAreExit3UntilTheLauncherRestoredItsOwn) {
  StoppedAt run(argv({"run", xml_, "--", "/bin/true"}), "guest-exited");
  ASSERT_TRUE(run.stopped());
  nlohmann::json before = guest();
  ASSERT_FALSE(before.is_null());
  EXPECT_EQ(before["state"], "running");

  Finished restore = seclabel({"restore", uuid_});
  EXPECT_EQ(restore.code(), 3) << restore.err;
  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_EQ(recover.out, "nothing to recover\n");
  Finished prepare = seclabel({"prepare", xml_});
  EXPECT_EQ(prepare.code(), 3) << prepare.err;
  EXPECT_EQ(guest(), before);

  Finished ran = run.resume();
  EXPECT_EQ(ran.code(), 0) << ran.err;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
  // The uuid is free again.
  Finished again = seclabel({"prepare", xml_});
  EXPECT_EQ(again.code(), 0) << again.err;
  EXPECT_EQ(seclabel({"restore", uuid_}).code(), 0);
}

// SIGKILL of `run` after the prepare committed and before the guest was
// marked running: recover must find and undo it.
TEST_F(Ownership, RunKilledBetweenPrepareAndStartIsUndoneByRecover) {
  StoppedAt run(argv({"run", xml_, "--", "/bin/true"}), "prepared");
  ASSERT_TRUE(run.stopped());
  ASSERT_FALSE(guest().is_null());
  ASSERT_NE(ownerOf(image_).uid, 0u);
  ::kill(run.child().pid(), SIGKILL);
  EXPECT_EQ(run.child().wait().code(), 128 + SIGKILL);

  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_NE(recover.out.find("undid the interrupted prepare of guest owned-guest"),
            std::string::npos)
      << recover.out;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

// The same kill during a plain `prepare` after its first commit.
TEST_F(Ownership, PrepareKilledAfterItsCommitIsUndoneByRecover) {
  StoppedAt prepare(argv({"prepare", xml_}), "prepare-committed");
  ASSERT_TRUE(prepare.stopped());
  ::kill(prepare.child().pid(), SIGKILL);
  EXPECT_EQ(prepare.child().wait().code(), 128 + SIGKILL);
  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_NE(recover.out.find("undid the interrupted prepare"), std::string::npos) << recover.out;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

// A guest cannot make its running process look dead: renamed with a
// newline and a fake ") Z " in its name, it is still running for restore
// and for the recover every mutating command starts with.
TEST_F(Ownership, AGuestThatRenamesItselfIsStillRunningForRestoreAndRecover) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs python3 (prctl)";
  const char* rename =
      "import ctypes, sys, time\n"
      "ctypes.CDLL(None).prctl(15, b'q\\n) Z 1 2 3', 0, 0, 0)\n"
      "print('renamed', flush=True)\n"
      "time.sleep(60)\n";
  Child exec(std::vector<std::string>{"/usr/bin/setsid", "-w"} +
             argv({"exec", xml_, "--", "/usr/bin/python3", "-c", rename}));
  ASSERT_TRUE(exec.waitForLine("renamed"));
  nlohmann::json g = guest();
  ASSERT_FALSE(g.is_null());
  const pid_t pid = g["pid"].get<pid_t>();
  ASSERT_EQ(readFile("/proc/" + std::to_string(pid) + "/comm"), "q\n) Z 1 2 3\n");
  const Owner labeled = ownerOf(image_);

  Finished restore = seclabel({"restore", uuid_});
  EXPECT_EQ(restore.code(), 1) << restore.err;
  EXPECT_NE(restore.err.find("is still running"), std::string::npos) << restore.err;
  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.out, "nothing to recover\n");
  EXPECT_EQ(guest()["state"], "running");
  EXPECT_EQ(ownerOf(image_).uid, labeled.uid);

  ::kill(pid, SIGKILL);
  exec.wait();
  Finished late = seclabel({"recover"});
  EXPECT_NE(late.out.find("restored guest owned-guest"), std::string::npos) << late.out;
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

// A uid is never released while a process runs with it: the guest's setsid
// grandchild outlives the guest's own process, and `run` ends it before it
// gives the uid back.
TEST_F(Ownership, RunEndsEveryProcessOfTheGuestUidBeforeReleasingIt) {
  Child run(argv({"run", xml_, "--", "/bin/sh", "-c",
                  "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo leftover=$!; "
                  "echo uid=$(id -u); echo ready"}));
  ASSERT_TRUE(run.waitForLine("ready"));
  Finished ran = run.wait();
  EXPECT_EQ(ran.code(), 0) << ran.err;
  const auto at = ran.out.find("leftover="), uidAt = ran.out.find("uid=");
  ASSERT_NE(at, std::string::npos) << ran.out;
  ASSERT_NE(uidAt, std::string::npos) << ran.out;
  const pid_t leftover = std::stoi(ran.out.substr(at + 9));
  const uid_t uid = static_cast<uid_t>(std::stoul(ran.out.substr(uidAt + 4)));
  ASSERT_NE(uid, 0u);
  // By the time `run` has released the uid, nothing runs with it (a zombie
  // waiting for init to reap it runs nothing).
  EXPECT_TRUE(processesOfUid(uid).empty()) << "the guest's grandchild still runs";
  EXPECT_TRUE(eventually([&] { return !processExists(leftover); }, 5000));
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

// The same for a guest whose launcher was killed: recover ends what is
// left of the guest before it releases the uid.
TEST_F(Ownership, RecoverEndsTheProcessesOfAGuestWhoseLauncherDied) {
  Child run(argv({"run", xml_, "--", "/bin/sh", "-c",
                  "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo leftover=$!; "
                  "echo ready; exec sleep 300"}));
  ASSERT_TRUE(run.waitForLine("ready"));
  ASSERT_TRUE(eventually([&] { return guest().value("state", "") == "running"; }));
  const pid_t guestPid = guest()["pid"].get<pid_t>();
  const uid_t uid = dacIds(guest()).first;
  ::kill(run.pid(), SIGKILL);
  run.wait();
  // The guest itself ends; its grandchild does not.
  ::kill(guestPid, SIGKILL);
  ASSERT_TRUE(eventually([&] { return !processExists(guestPid); }, 5000));
  std::vector<pid_t> left = processesOfUid(uid);
  ASSERT_FALSE(left.empty()) << "nothing of the guest survived to test with";

  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_TRUE(processesOfUid(uid).empty());
  EXPECT_TRUE(list().empty());
  expectImageUntouched();
}

}  // namespace
}  // namespace seclabel::e2e

// spawnWithIdentity: the guest command runs only when every step held, and
// the caller learns which step failed. Commands here write their output to
// a pipe the identity keeps, or leave a side-effect file in a world-writable
// directory, so "no exec" is visible as "no file".
#include "process/process_spawn.h"

#include <cap-ng.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/unique_fd.h"
#include "tests/process/test_support.h"

namespace seclabel {
namespace {

using testing::FakeSelinuxHost;
using testing::guestIdentity;
using testing::runInChild;
using testing::statusField;

const std::string kGuestIds4 =
    "1879113700 1879113700 1879113700 1879113700";
const std::string kNoCaps = "0000000000000000";

// A sticky world-writable directory, so the guest uid can create the
// side-effect file when (and only when) its command runs.
class SpawnedCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/seclabel-spawn-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);
    marker_ = dir_ + "/command-ran";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> touchMarker() const {
    return {"/bin/sh", "-c", "touch " + marker_};
  }
  bool markerExists() const { return std::filesystem::exists(marker_); }
  static ProcessIdentity guestWithExecContext() {
    ProcessIdentity identity = guestIdentity();
    identity.execContext = "system_u:system_r:svirt_t:s0:c1,c2";
    return identity;
  }

  std::string dir_;
  std::string marker_;
};

int waitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// An fd on /dev/null at `at` or above, without the temporary one.
UniqueFd devNullAtOrAbove(int at, int cloexecFlag) {
  UniqueFd first(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  return UniqueFd(::fcntl(first.get(),
                          cloexecFlag ? F_DUPFD_CLOEXEC : F_DUPFD, at));
}

// Runs `script` under the guest identity with a pipe kept as fd N ($OUT in
// the script) and returns what it wrote there.
std::string outputOf(const std::string& script, ProcessIdentity identity,
                     SelinuxHost& host) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd readEnd(fds[0]);
  UniqueFd writeEnd(fds[1]);
  identity.keepFds.push_back(writeEnd.get());
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  std::string out = std::to_string(writeEnd.get());
  // bash, not dash: dash reads only one-digit fds in ">&N".
  pid_t pid = spawnWithIdentity(
      {"/bin/bash", "-c", "OUT=" + out + "; " + script}, prepared, host);
  writeEnd.reset();
  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0) {
    output.append(buffer, size_t(n));
  }
  int status = waitFor(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  return output;
}

TEST(SpawnWithIdentity, TheCommandSeesTheSameKernelView) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  std::string status =
      outputOf("exec cat /proc/self/status >&$OUT", guestIdentity(), host);
  EXPECT_EQ(statusField(status, "Uid"), kGuestIds4);
  EXPECT_EQ(statusField(status, "Gid"), kGuestIds4);
  EXPECT_EQ(statusField(status, "Groups"), "");
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(statusField(status, set), kNoCaps) << set;
  }
  EXPECT_EQ(statusField(status, "NoNewPrivs"), "1");
}

TEST(SpawnWithIdentity, AKeptFdSurvivesExecAndAnFdNotKeptIsClosed) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  // Inheritable, as a careless launcher would leave it: only the identity's
  // close step keeps it from the guest.
  UniqueFd leaked = devNullAtOrAbove(150, 0);
  ASSERT_EQ(leaked.get(), 150);
  std::string output = outputOf(
      "[ -e /proc/self/fd/150 ] && echo leaked >&$OUT || echo closed >&$OUT; "
      "echo kept >&$OUT",
      guestIdentity(), host);
  EXPECT_EQ(output, "closed\nkept\n");
}

// A cgroup of the test's own in the host's cgroup v1 devices hierarchy
// (any hierarchy would do: entering one is the same write of "0").
class TestCgroup {
 public:
  TestCgroup()
      : path_("/sys/fs/cgroup/devices/seclabel-spawn-test-" + std::to_string(::getpid())) {
    ::mkdir(path_.c_str(), 0755);
  }
  ~TestCgroup() { ::rmdir(path_.c_str()); }
  bool exists() const { return std::filesystem::is_directory(path_); }
  const std::string& path() const { return path_; }
  UniqueFd openProcs() const {
    return UniqueFd(::open((path_ + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  }

 private:
  std::string path_;
};

TEST_F(SpawnedCommand, EntersItsCgroupBeforeExec) {
  SECLABEL_SKIP_UNLESS_ROOT();
  TestCgroup cgroup;
  if (!cgroup.exists()) GTEST_SKIP() << "no cgroup v1 devices hierarchy here";
  FakeSelinuxHost host(SelinuxMode::Disabled);
  UniqueFd procs = cgroup.openProcs();
  ASSERT_TRUE(procs);
  ProcessIdentity identity = guestIdentity();
  identity.cgroupProcsFd = procs.get();
  // What the command sees as its first act: it already is in the cgroup.
  std::string output = outputOf("grep :devices: /proc/self/cgroup >&$OUT", identity, host);
  const std::string expected = ":devices:/seclabel-spawn-test-" + std::to_string(::getpid()) + "\n";
  EXPECT_TRUE(output.ends_with(expected)) << output;
}

TEST_F(SpawnedCommand, NeverRunsWhenItCannotEnterItsCgroup) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  // Read-only: the child's write of "0" fails with EBADF.
  UniqueFd readOnly(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ProcessIdentity identity = guestIdentity();
  identity.cgroupProcsFd = readOnly.get();
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  try {
    spawnWithIdentity(touchMarker(), prepared, host);
    ADD_FAILURE() << "spawn succeeded";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "cannot enter the guest's cgroup: Bad file descriptor");
    EXPECT_EQ(e.errnum(), EBADF);
    EXPECT_EQ(e.exitCode(), int(ExitCode::Failed));
  }
  EXPECT_FALSE(markerExists());
}

TEST_F(SpawnedCommand, RunsAsTheGuest) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  pid_t pid = spawnWithIdentity(touchMarker(), prepared, host);
  EXPECT_EQ(waitFor(pid), 0);
  struct stat info {};
  ASSERT_EQ(::stat(marker_.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, testing::kGuestUid);
  EXPECT_EQ(info.st_gid, testing::kGuestGid);
}

TEST_F(SpawnedCommand, NeverRunsAfterAFailedExecContextOnAnEnforcingHost) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Enforcing, EACCES);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestWithExecContext(), host);
  try {
    spawnWithIdentity(touchMarker(), prepared, host);
    ADD_FAILURE() << "spawn succeeded";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "cannot set SELinux exec context to "
                 "system_u:system_r:svirt_t:s0:c1,c2 (the host is enforcing): "
                 "Permission denied");
    EXPECT_EQ(e.errnum(), EACCES);
  }
  EXPECT_FALSE(markerExists());
}

TEST_F(SpawnedCommand, NeverRunsAfterAFailedSetresuid) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  // The launcher itself lacks CAP_SETUID (dropped in a child of the test).
  testing::ChildResult child = runInChild([&] {
    ::prctl(PR_CAPBSET_DROP, CAP_SETUID, 0, 0, 0);
    capng_get_caps_process();
    capng_update(CAPNG_DROP, capng_type_t(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                 CAP_SETUID);
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) return std::string("setup");
    try {
      spawnWithIdentity(touchMarker(), prepared, host);
      return std::string("spawned");
    } catch (const Error& e) {
      return std::string(e.what());
    }
  });
  EXPECT_EQ(child.output,
            "cannot setresuid to 1879113700: Operation not permitted");
  EXPECT_FALSE(markerExists());
}

TEST_F(SpawnedCommand, NeverRunsAfterAVerificationMismatch) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  ProcessIdentity identity = guestIdentity();
  identity.noNewPrivs = false;
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  ApplyHooks hooks;
  hooks.beforeVerify = [](void*) { ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); };
  try {
    spawnWithIdentity(touchMarker(), prepared, host, &hooks);
    ADD_FAILURE() << "spawn succeeded";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "refusing to exec: after applying the identity the kernel "
                 "shows NoNewPrivs \"1\", expected \"0\"");
  }
  EXPECT_FALSE(markerExists());
}

TEST_F(SpawnedCommand, ThatTheGuestMayNotExecuteIsReportedWithItsIds) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  // Executable for its owner, root, only.
  std::string script = dir_ + "/root-only.sh";
  ASSERT_EQ(std::system(("printf '#!/bin/sh\\ntouch " + marker_ + "\\n' > " +
                         script + " && chmod 0700 " + script)
                            .c_str()),
            0);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  try {
    spawnWithIdentity({script}, prepared, host);
    ADD_FAILURE() << "spawn succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot execute " + script +
                  ": Permission denied (as uid 1879113700 gid 1879113700)");
    EXPECT_EQ(e.errnum(), EACCES);
  }
  EXPECT_FALSE(markerExists());
}

TEST(SpawnWithIdentity, AMissingCommandFailsBeforeFork) {
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  try {
    spawnWithIdentity({"no-such-command-for-seclabel"}, prepared, host);
    ADD_FAILURE() << "spawn succeeded";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "cannot execute no-such-command-for-seclabel: command not "
                 "found in PATH");
    EXPECT_EQ(e.errnum(), ENOENT);
  }
}

TEST(SpawnWithIdentity, AMissingPathIsReportedFromTheChildsExecve) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  try {
    spawnWithIdentity({"/nonexistent/qemu"}, prepared, host);
    ADD_FAILURE() << "spawn succeeded";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "cannot execute /nonexistent/qemu: No such file or directory");
    EXPECT_EQ(e.errnum(), ENOENT);
  }
}

TEST(ResolveCommand, FindsCommandsInPathAndKeepsPathsAsGiven) {
  EXPECT_EQ(resolveCommand("./relative/tool"), "./relative/tool");
  std::string sh = resolveCommand("sh");
  EXPECT_EQ(sh.front(), '/');
  EXPECT_EQ(sh.substr(sh.size() - 3), "/sh");
}

TEST(ExecWithIdentity, ReplacesTheCallingProcessUnderTheGuestIdentity) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd readEnd(fds[0]);
  UniqueFd writeEnd(fds[1]);
  ProcessIdentity identity = guestIdentity();
  identity.keepFds = {writeEnd.get()};
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  // In place means same pid: the forked "launcher" becomes the command.
  pid_t launcher = ::fork();
  ASSERT_GE(launcher, 0);
  if (launcher == 0) {
    std::string script = "echo $$ >&" + std::to_string(writeEnd.get()) +
                         "; exec cat /proc/self/status >&" +
                         std::to_string(writeEnd.get());
    try {
      execWithIdentity({"/bin/bash", "-c", script}, prepared, host);
    } catch (...) {
    }
    ::_exit(99);
  }
  writeEnd.reset();
  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0) {
    output.append(buffer, size_t(n));
  }
  EXPECT_EQ(waitFor(launcher), 0);
  EXPECT_EQ(output.substr(0, output.find('\n')), std::to_string(launcher));
  EXPECT_EQ(statusField(output, "Uid"), kGuestIds4);
  EXPECT_EQ(statusField(output, "CapBnd"), kNoCaps);
}

// startWithIdentity returns once the child has exec'd or given up, with its
// pid for the launcher to record; awaitExec then says which, as spawn does.
TEST_F(SpawnedCommand, StartedThenAwaitedRunsAsTheGuest) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  StartingChild child = startWithIdentity(touchMarker(), prepared, host);
  EXPECT_EQ(::kill(child.pid(), 0), 0) << "not reaped before the exec is awaited";
  child.awaitExec();
  EXPECT_EQ(waitFor(child.pid()), 0);
  struct stat info {};
  ASSERT_EQ(::stat(marker_.c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, testing::kGuestUid);
}

TEST_F(SpawnedCommand, AStartedChildThatFailsIsReportedByAwaitExec) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Enforcing, EACCES);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestWithExecContext(), host);
  StartingChild child = startWithIdentity(touchMarker(), prepared, host);
  try {
    child.awaitExec();
    ADD_FAILURE() << "awaitExec succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.errnum(), EACCES);
  }
  errno = 0;
  EXPECT_EQ(::waitpid(child.pid(), nullptr, WNOHANG), -1) << "awaitExec reaped it";
  EXPECT_EQ(errno, ECHILD);
  EXPECT_FALSE(markerExists());
}

// A launcher that stops before awaiting (its store write failed, say) must
// not leave an unrecorded guest running.
TEST_F(SpawnedCommand, AStartedChildNobodyAwaitsIsKilledAndReaped) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  pid_t pid = -1;
  {
    // The guest is the child itself (no shell with a grandchild that would
    // outlive it and keep the test's output open).
    StartingChild child = startWithIdentity({"/bin/sleep", "30"}, prepared, host);
    pid = child.pid();
    ASSERT_EQ(::kill(pid, 0), 0) << "the guest runs until the object goes away";
  }
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1) << "already reaped";
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(::kill(pid, 0), -1);
}

// The child shares the launcher's memory until its execve (CLONE_VM), and
// credentials are per thread: applying the identity there must change the
// child alone, never a thread of the launcher, calling or not.
TEST_F(SpawnedCommand, TheLaunchersOtherThreadsKeepTheirCredentials) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  std::mutex mutex;
  std::condition_variable changed;
  bool spawned = false;
  std::string otherThreadUids;
  std::thread other([&] {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return spawned; });
    uid_t r, e, s;
    ::getresuid(&r, &e, &s);
    otherThreadUids = std::to_string(r) + " " + std::to_string(e) + " " + std::to_string(s);
  });
  pid_t pid = spawnWithIdentity(touchMarker(), prepared, host);
  {
    std::lock_guard lock(mutex);
    spawned = true;
  }
  changed.notify_one();
  other.join();
  EXPECT_EQ(waitFor(pid), 0);
  EXPECT_TRUE(markerExists()) << "the guest command ran";
  EXPECT_EQ(otherThreadUids, "0 0 0");
  uid_t r, e, s;
  ::getresuid(&r, &e, &s);
  EXPECT_EQ(r + e + s, 0u) << "the calling thread is still root";
  gid_t gr, ge, gs;
  ::getresgid(&gr, &ge, &gs);
  EXPECT_EQ(gr + ge + gs, 0u);
}

}  // namespace
}  // namespace seclabel

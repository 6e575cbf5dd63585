// The library API of launcher/ (launcher.h, launch_checks.h, session.h) as a
// C++ launcher uses it, without the command line: a session on a config and
// state dir of the test's own, prepareLaunch, spawnGuest and runGuest, and
// the checks a launcher runs before it opens anything. Needs root (chown,
// setuid); execGuest replaces the calling process, so the command-line tests
// cover it (tests/tools/launch_test.cc).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "launcher/launch_checks.h"
#include "launcher/launcher.h"
#include "launcher/session.h"
#include "tests/support/temp_dir.h"
#include "xml/xml.h"

namespace seclabel {
namespace {

constexpr uid_t kFirstUid = 1879200000;
constexpr uid_t kLastUid = 1879200099;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

uid_t ownerOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_uid;
}

class LauncherApi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown, setuid)";
    disk_ = dir_.file("disk.img");
    std::ofstream(disk_) << "image\n";
    ASSERT_EQ(::chown(disk_.c_str(), 0, 0), 0);
    ASSERT_EQ(::chmod(disk_.c_str(), 0600), 0);
    // Where the guest writes what it saw: any uid may write here.
    outDir_ = dir_.file("out");
    ASSERT_EQ(::mkdir(outDir_.c_str(), 0777), 0);
    ASSERT_EQ(::chmod(outDir_.c_str(), 01777), 0);
    const std::string config = dir_.file("seclabel.toml");
    std::ofstream(config) << "security_driver = [\"dac\"]\n[dac]\nrange = \""
                          << kFirstUid << "-" << kLastUid << "\"\n[audit]\nsink = \"none\"\n"
                          << "[cgroup]\ndevices = \"off\"\n";
    ASSERT_EQ(::chmod(config.c_str(), 0644), 0);
    SessionOptions options;
    options.configPath = config;
    options.configMayBeMissing = false;
    options.stateDir = dir_.file("state");
    session_ = std::make_unique<Session>(openSession(options, SessionKind::Mutating));
  }

  Domain domain(const std::string& name) const {
    return parseDomainXml("<domain type='kvm'><name>" + name +
                          "</name><devices><disk type='file' device='disk'><source file='" +
                          disk_ + "'/><target dev='vda' bus='virtio'/></disk></devices></domain>");
  }

  testing::TempDir dir_;
  std::string disk_;
  std::string outDir_;
  std::unique_ptr<Session> session_;
};

TEST_F(LauncherApi, SpawnGuestRunsTheCommandAsTheGuestWhoOwnsItsDiskUntilRestore) {
  const std::string out = outDir_ + "/seen";
  GuestLaunch launch = prepareLaunch(
      *session_->manager, domain("api-spawn"),
      {"/bin/sh", "-c", "id -u > " + out + "; stat -c %u \"$0\" >> " + out, "{disk:vda}"});
  EXPECT_TRUE(launch.preparedHere);
  ASSERT_EQ(launch.argv.size(), 4u);
  EXPECT_EQ(launch.argv[3], disk_) << "{disk:vda} becomes the disk's path";

  const pid_t pid = spawnGuest(*session_->manager, launch);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::istringstream seen(readFile(out));
  uid_t uid = 0, owner = 0;
  seen >> uid >> owner;
  EXPECT_GE(uid, kFirstUid);
  EXPECT_LE(uid, kLastUid);
  EXPECT_EQ(owner, uid) << "the disk belongs to the guest while it runs";
  auto record = session_->store->findGuest("api-spawn");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, GuestState::Running);

  session_->manager->restore(launch.record.uuid);
  EXPECT_EQ(ownerOf(disk_), 0u);
  EXPECT_FALSE(session_->store->findGuest("api-spawn").has_value());
}

TEST_F(LauncherApi, RunGuestReturnsTheExitStatusAndGivesEverythingBack) {
  GuestLaunch launch =
      prepareLaunch(*session_->manager, domain("api-run"), {"/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(runGuest(*session_->manager, launch), 7);
  EXPECT_EQ(ownerOf(disk_), 0u);
  EXPECT_FALSE(session_->store->findGuest("api-run").has_value());
}

TEST_F(LauncherApi, PrepareLaunchRefusesAnUnknownDiskAndChangesNothing) {
  try {
    prepareLaunch(*session_->manager, domain("api-bad-disk"), {"/bin/true", "{disk:vdz}"});
    FAIL() << "an unknown {disk:X} is invalid input";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(error.what()).find("vdz"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(session_->store->findGuest("api-bad-disk").has_value());
  EXPECT_EQ(ownerOf(disk_), 0u);
}

TEST_F(LauncherApi, PrepareLaunchRefusesAKeptFdThatIsNotOpenAndChangesNothing) {
  LaunchOptions options;
  options.keepFds = {987};
  ASSERT_LT(::fcntl(987, F_GETFD), 0);
  EXPECT_THROW(prepareLaunch(*session_->manager, domain("api-bad-fd"), {"/bin/true"}, options),
               Error);
  EXPECT_FALSE(session_->store->findGuest("api-bad-fd").has_value());
  EXPECT_EQ(ownerOf(disk_), 0u);
}

// The checks need no session and no root.
TEST(LaunchChecks, AMissingCommandIs127AndOneThatCannotBeExecutedIs126) {
  try {
    checkCommandRunnable("/nonexistent/launcher-api-test");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::CommandNotFound);
    EXPECT_EQ(error.exitCode(), 127);
  }
  testing::TempDir dir;
  const std::string script = dir.file("not-executable");
  std::ofstream(script) << "#!/bin/sh\n";
  ASSERT_EQ(::chmod(script.c_str(), 0644), 0);
  // Not even root may execute a file without any execute bit.
  try {
    checkCommandRunnable(script);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::CannotExecute);
    EXPECT_EQ(error.exitCode(), 126);
  }
  EXPECT_NO_THROW(checkCommandRunnable("sh")) << "looked up in PATH";
}

TEST(LaunchChecks, KeptFdsMustBeOpenAndEnvironmentEntriesWellFormed) {
  LaunchOptions options;
  options.keepFds = {986};
  try {
    checkLaunchInput(options);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_STREQ(error.what(), "--keep-fd 986: fd 986 is not open");
  }
  options.keepFds.clear();
  options.environment = {"1BAD=x"};
  EXPECT_THROW(checkLaunchInput(options), Error);
  options.environment = {"GOOD=x"};
  EXPECT_NO_THROW(checkLaunchInput(options));
}

TEST(LaunchChecks, NoTerminalIsWithheldWhenTerminalsAreGranted) {
  EXPECT_TRUE(withheldTerminals(TerminalAccess::Grant).empty());
  for (int fd : withheldTerminals(TerminalAccess::Withhold)) {
    EXPECT_GE(fd, 0);
    EXPECT_LE(fd, 2);
  }
}

}  // namespace
}  // namespace seclabel

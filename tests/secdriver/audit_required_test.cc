// [audit] required = true: no change without its record. A broken audit sink
// stops `recover` (and `restore`) before anything changes; a record that
// cannot be written half-way fails the command and the store keeps the
// guest for a later restore.
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class AuditRequiredTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SECLABEL_REQUIRE_ROOT();
    for (int i = 0; i < 3; ++i) {
      std::string name = "disk" + std::to_string(i) + ".img";
      disks.push_back({scratch.makeFile(name, Original{}), "vd" + std::to_string(i)});
      before.push_back(fileState(disks.back().path));
    }
    // Prepared with no audit at all, then its process is gone: exactly what
    // recover restores.
    Harness harness(scratch);
    harness.prepare(domainXml("audited", uuidFor(1), disks));
    harness.manager->markRunning(uuidFor(1), exitedProcess());
    for (std::size_t i = 0; i < disks.size(); ++i)
      EXPECT_NE(fileState(disks[i].path), before[i]) << "prepare labeled " << disks[i].path;
  }

  // A config whose audit file sink is `auditFile`, required.
  std::string requiredFileSinkConfig(const std::string& auditFile) {
    std::string path = scratch.path("required.toml");
    writeTextFile(path, "security_driver = [\"selinux\", \"dac\"]\nfdpass = \"never\"\n\n[audit]\nsink = \"file:" +
                            auditFile + "\"\nrequired = true\n\n[cgroup]\ndevices = \"off\"\n");
    return path;
  }

  CommandResult seclabel(const std::string& config, const std::vector<std::string>& args,
                         const std::function<void()>& inChild = {}) {
    std::vector<std::string> argv = {SECLABEL_BINARY, "--config", config, "--state-dir",
                                     scratch.stateDir()};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv, inChild);
  }

  static pid_t exitedProcess() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
  }

  void expectGuestStillHeldAndFilesStillLabeled() {
    for (std::size_t i = 0; i < disks.size(); ++i)
      EXPECT_NE(fileState(disks[i].path), before[i]) << disks[i].path << " was restored";
    expectGuestStillHeld();
  }

  void expectGuestStillHeld() {
    Harness after(scratch);
    auto guest = after.store->findGuest(uuidFor(1));
    ASSERT_TRUE(guest.has_value()) << "the guest was forgotten without an audit record";
    EXPECT_EQ(after.store->resourcesOf(uuidFor(1)).size(), disks.size());
    EXPECT_FALSE(after.store->identitiesOf(uuidFor(1)).empty());
  }

  Scratch scratch;
  std::vector<DiskSpec> disks;
  std::vector<FileState> before;
};

// Enters a mount namespace of its own (the host's mounts are untouched) in
// which `directory` is a read-only bind mount of itself: as root, a mode
// bit would not stop the write, a read-only mount does.
std::function<void()> readOnlyDirectory(const std::string& directory) {
  return [directory] {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount(directory.c_str(), directory.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, directory.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      throw std::runtime_error("read-only bind mount");
  };
}

// Enters a mount namespace of its own in which `directory` is a one-page
// tmpfs holding an empty `file` and a filler using that page: the audit
// file opens, and the first record written to it fails with ENOSPC.
std::function<void()> fullFileSystem(const std::string& directory, const std::string& file) {
  return [directory, file] {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("seclabel-full", directory.c_str(), "tmpfs", 0, "size=4k,mode=0755") != 0)
      throw std::runtime_error("tmpfs");
    int audit = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int filler = ::open((directory + "/filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (audit < 0 || filler < 0) throw std::runtime_error("files on the tmpfs");
    char page[4096] = {};
    while (::write(filler, page, sizeof page) > 0) {
    }
    if (errno != ENOSPC) throw std::runtime_error("filling the tmpfs");
    ::close(audit);
    ::close(filler);
  };
}

TEST_F(AuditRequiredTest, RecoverWithAMissingAuditDirectoryChangesNothingAndFails) {
  std::string config = requiredFileSinkConfig(scratch.path("gone/audit.jsonl"));
  CommandResult result = seclabel(config, {"recover"});
  EXPECT_EQ(result.exitCode, 1) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("audit is required"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_THAT(result.out, Not(HasSubstr("restored guest")));
  expectGuestStillHeldAndFilesStillLabeled();
}

TEST_F(AuditRequiredTest, RecoverWithAnUnwritableAuditFileChangesNothingAndFails) {
  std::string logDir = scratch.path("log");
  std::filesystem::create_directory(logDir);
  std::string config = requiredFileSinkConfig(logDir + "/audit.jsonl");
  CommandResult result = seclabel(config, {"recover"}, readOnlyDirectory(logDir));
  EXPECT_EQ(result.exitCode, 1) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("Read-only file system"));
  expectGuestStillHeldAndFilesStillLabeled();
}

TEST_F(AuditRequiredTest, RestoreWithAnUnwritableAuditFileChangesNothingAndFails) {
  std::string logDir = scratch.path("log");
  std::filesystem::create_directory(logDir);
  std::string config = requiredFileSinkConfig(logDir + "/audit.jsonl");
  CommandResult result = seclabel(config, {"restore", "audited"}, readOnlyDirectory(logDir));
  EXPECT_EQ(result.exitCode, 1) << result.out << result.err;
  expectGuestStillHeldAndFilesStillLabeled();
}

// The sink opens, then refuses the first record: the command fails and the
// store keeps the guest (the transaction of the undo rolls back), so a
// later restore, with a working log, finishes it.
TEST_F(AuditRequiredTest, RecoverWhoseFirstRecordFailsFailsAndKeepsTheGuest) {
  std::string logDir = scratch.path("log");
  std::filesystem::create_directory(logDir);
  std::string config = requiredFileSinkConfig(logDir + "/audit.jsonl");
  CommandResult result =
      seclabel(config, {"recover"}, fullFileSystem(logDir, logDir + "/audit.jsonl"));
  EXPECT_EQ(result.exitCode, 1) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("No space left on device"));
  EXPECT_THAT(result.out, Not(HasSubstr("restored guest")));
  expectGuestStillHeld();

  // With a log that works, recover finishes the job and says so in the log.
  CommandResult again = seclabel(config, {"recover"});
  EXPECT_EQ(again.exitCode, 0) << again.err;
  for (std::size_t i = 0; i < disks.size(); ++i)
    EXPECT_EQ(fileState(disks[i].path), before[i]) << disks[i].path;
  Harness after(scratch);
  EXPECT_TRUE(storeHoldsNothingFor(*after.store, uuidFor(1)));
}

}  // namespace
}  // namespace seclabel::testing

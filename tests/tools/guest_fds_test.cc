// Which fds reach the guest: exactly stdio, the --keep-fd ones and the
// fd-passed disks, and never one of seclabel's own files (the store, its
// WAL and shm, the audit log), whatever numbers the caller left free.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

namespace fs = std::filesystem;

// fd number -> what it points to, of a live process, as root sees it.
std::map<int, std::string> openFdsOf(pid_t pid) {
  std::map<int, std::string> fds;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code linkError;
    fs::path target = fs::read_symlink(entry.path(), linkError);
    fds[std::stoi(entry.path().filename().string())] = target.string();
  }
  return fds;
}

std::string describe(const std::map<int, std::string>& fds) {
  std::string text;
  for (const auto& [fd, target] : fds) text += std::to_string(fd) + "->" + target + " ";
  return text;
}

int lineCount(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

class GuestFds : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: seclabel chowns images and changes uids";
    options_.auditSink = "file:" + audit_;
    writeConfig(config_, options_);
    makeImage(image_);
    writeDomain(xml_, "fds-guest", uuid_, {{image_, "vda"}});
  }
  void rewriteConfig() { writeConfig(config_, options_); }
  std::vector<std::string> argv(const std::vector<std::string>& args) {
    return seclabelArgv(config_, state_, args);
  }
  nlohmann::json guest() { return findGuest(listGuests(config_, state_), uuid_); }

  TempDir dir_;
  ConfigOptions options_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string audit_ = dir_ / "audit.jsonl";
  std::string image_ = dir_ / "guest.qcow2";
  std::string xml_ = dir_ / "guest.xml";
  std::string uuid_ = freshUuid();
};

// With fds 3-6 closed in the caller, those are the numbers seclabel's own
// files would get (the audit file, state.db, its WAL and shm): a --keep-fd
// that names one is refused before seclabel opens anything.
TEST_F(GuestFds, KeepFdNumbersTheCallerDidNotOpenAreRefusedBeforeAnythingIsOpened) {
  SpawnOptions options;
  options.closeFds = {3, 4, 5, 6};
  std::vector<std::string> args{"exec"};
  for (int fd = 3; fd <= 6; ++fd) {
    args.push_back("--keep-fd");
    args.push_back(std::to_string(fd));
  }
  args.push_back(xml_);
  for (const char* word : {"--", "/bin/sh", "-c", "ls -l /proc/$$/fd"}) args.push_back(word);
  Finished f = Child(argv(args), options).wait();
  EXPECT_EQ(f.code(), 2) << f.err << f.out;
  EXPECT_EQ(lineCount(f.err), 1) << f.err;
  EXPECT_EQ(f.err, "seclabel: --keep-fd 3: fd 3 is not open\n");
  EXPECT_EQ(f.out, "") << "the guest ran";
  struct stat st;
  EXPECT_NE(::stat(state_.c_str(), &st), 0) << "the state directory was created";
  EXPECT_NE(::stat(audit_.c_str(), &st), 0) << "the audit log was opened";
  EXPECT_EQ(ownerOf(image_).uid, 0u);
}

TEST_F(GuestFds, AKeepFdFarAboveAnyOpenFdIsRefusedBeforeTheIdentityIsApplied) {
  Finished f = runSeclabel(config_, state_, {"exec", "--keep-fd", "99999", xml_, "--", "/bin/true"});
  EXPECT_EQ(f.code(), 2) << f.err;
  EXPECT_EQ(f.err, "seclabel: --keep-fd 99999: fd 99999 is not open\n");
  struct stat st;
  EXPECT_NE(::stat(state_.c_str(), &st), 0) << "something was prepared";
  EXPECT_EQ(ownerOf(image_).uid, 0u);
}

// The guest's fd table, read by root from outside while it runs: stdio,
// the kept fd, the two fds of its fd-passed disk (rdwr, rdonly), nothing
// else: no store, no audit log, no fd the caller had open but did not keep.
TEST_F(GuestFds, TheGuestHasExactlyStdioTheKeptFdsAndItsFdPassedDisks) {
  options_.fdpass = "always";
  rewriteConfig();
  Child exec(argv({"exec", "--keep-fd", "7", xml_, "--", "/bin/sh", "-c",
                   "echo started; exec /bin/sleep 60", "sh", "-drive", "file={disk:vda},if=none"}),
             devNullAt({7, 8, 9}));
  ASSERT_TRUE(exec.waitForLine("started")) << exec.wait(1000).err;
  ASSERT_TRUE(eventually([&] {
    std::error_code ec;
    return fs::read_symlink("/proc/" + std::to_string(exec.pid()) + "/exe", ec).filename() ==
           "sleep";
  }));
  std::map<int, std::string> fds = openFdsOf(exec.pid());
  std::set<int> numbers;
  int diskFds = 0;
  for (const auto& [fd, target] : fds) {
    numbers.insert(fd);
    if (fd > 2 && target == image_) ++diskFds;
  }
  EXPECT_EQ(diskFds, 2) << describe(fds);
  EXPECT_EQ(fds.size(), 3u + 1u + 2u) << describe(fds);
  EXPECT_TRUE(numbers.count(7)) << describe(fds);
  EXPECT_EQ(fds[7], "/dev/null") << describe(fds);
  EXPECT_FALSE(numbers.count(8)) << "an fd the caller did not keep: " << describe(fds);
  for (const auto& [fd, target] : fds) {
    EXPECT_EQ(target.find(state_), std::string::npos) << describe(fds);
    EXPECT_NE(target, audit_) << describe(fds);
  }
  ::kill(exec.pid(), SIGKILL);
  exec.wait();
  Finished restore = runSeclabel(config_, state_, {"restore", uuid_});
  EXPECT_EQ(restore.code(), 0) << restore.err;
}

// A caller that starts seclabel with stderr closed: without care the next
// file seclabel opens takes fd 2, and the guest, which always inherits
// 0-2, gets it.
TEST_F(GuestFds, AStdioFdTheCallerClosedIsDevNullForTheGuest) {
  SpawnOptions options;
  options.closeFds = {2};
  options.pipeStderr = false;
  Finished f = Child(argv({"run", xml_, "--", "/bin/sh", "-c", "readlink /proc/$$/fd/2"}), options)
                   .wait();
  EXPECT_EQ(f.code(), 0) << f.out;
  EXPECT_EQ(f.out.substr(0, f.out.find('\n')), "/dev/null") << f.out;
  EXPECT_TRUE(listGuests(config_, state_).empty());
}

// Every fd of the launcher itself is close-on-exec: nothing of seclabel's
// leaks into a program it or a library it calls might start.
TEST_F(GuestFds, EveryFdOfTheRunLauncherAboveStdioIsCloseOnExec) {
  SpawnOptions options;
  options.closeFrom = 3;  // what the test process may have left inheritable is not seclabel's
  Child run(argv({"run", xml_, "--", "/bin/sh", "-c", "echo ready; exec /bin/sleep 60"}), options);
  ASSERT_TRUE(run.waitForLine("ready")) << run.wait(1000).err;
  const std::string fdinfo = "/proc/" + std::to_string(run.pid()) + "/fdinfo";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fdinfo)) {
    int fd = std::stoi(entry.path().filename().string());
    if (fd <= 2) continue;
    std::istringstream info(readFile(entry.path().string()));
    std::string key, flags;
    while (info >> key && key != "flags:") {
    }
    info >> flags;
    const unsigned long value = std::stoul(flags, nullptr, 8);
    std::error_code ec;
    EXPECT_TRUE(value & O_CLOEXEC)
        << "fd " << fd << " flags " << flags << " "
        << fs::read_symlink("/proc/" + std::to_string(run.pid()) + "/fd/" + std::to_string(fd), ec);
    ++checked;
  }
  EXPECT_GT(checked, 0) << "the launcher has the store open";
  // The guest may print before its launcher records it running (the pid
  // is written once the exec is witnessed): wait for the record.
  nlohmann::json g;
  ASSERT_TRUE(eventually([&] {
    g = guest();
    return !g.is_null() && g["pid"].is_number();
  })) << g.dump();
  std::map<int, std::string> guestFds = openFdsOf(g["pid"].get<pid_t>());
  EXPECT_EQ(guestFds.size(), 3u) << describe(guestFds);
  ::kill(run.pid(), SIGTERM);
  EXPECT_EQ(run.wait().code(), 128 + SIGTERM);
}

}  // namespace
}  // namespace seclabel::e2e

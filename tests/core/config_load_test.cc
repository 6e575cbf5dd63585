// Loading the config file: only root (or the caller) may be able to change
// it, it must be a regular file, and its size is bounded while it is read.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "tests/core/hostile_files.h"

namespace seclabel {
namespace {

namespace fs = std::filesystem;
using testing::kOtherUser;
using testing::ScratchTree;

constexpr const char* kConfigText = "security_driver = [\"dac\"]\n[dac]\ngroups = [\"kvm\"]\n";

class ConfigLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: files owned by another user";
  }
  // How Config::load(path) ended, in a guarded child.
  testing::GuardedOutcome load(const std::string& path) {
    return testing::runGuarded([&] { Config::load(path, /*mayBeMissing=*/false, false); });
  }
  ScratchTree tree;
};

TEST_F(ConfigLoad, AcceptsARootOwnedConfigNobodyElseCanWrite) {
  std::string path = tree.file("etc/seclabel.toml", kConfigText, 0644);
  EXPECT_EQ(Config::load(path, false, false).dac.groups, std::vector<std::string>{"kvm"});
}

// The attack of the hardening issue: a world-writable config owned by
// nobody could give every guest the groups disk, shadow or root.
TEST_F(ConfigLoad, RefusesAWorldWritableConfigOwnedByAnotherUser) {
  std::string path = tree.file("seclabel.toml", kConfigText, 0666);
  ASSERT_EQ(::chown(path.c_str(), kOtherUser, kOtherUser), 0);
  auto outcome = load(path);
  ASSERT_TRUE(outcome.threw) << "loaded a config anybody can write";
  EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
}

TEST_F(ConfigLoad, RefusesAConfigOwnedByAnotherUser) {
  std::string path = tree.file("seclabel.toml", kConfigText, 0644);
  ASSERT_EQ(::chown(path.c_str(), kOtherUser, kOtherUser), 0);
  auto outcome = load(path);
  ASSERT_TRUE(outcome.threw);
  EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
  EXPECT_NE(outcome.message.find("is owned by uid 65534"), std::string::npos) << outcome.message;
}

TEST_F(ConfigLoad, RefusesAConfigGroupOrOthersCanWrite) {
  for (mode_t mode : {0664, 0646}) {
    std::string path = tree.file("seclabel.toml", kConfigText, mode);
    auto outcome = load(path);
    ASSERT_TRUE(outcome.threw) << std::oct << mode;
    EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
  }
}

TEST_F(ConfigLoad, RefusesAConfigInADirectoryAnotherUserOwns) {
  std::string dir = tree.directory("etc", 0755);
  ASSERT_EQ(::chown(dir.c_str(), kOtherUser, kOtherUser), 0);
  std::string path = tree.file("etc/seclabel.toml", kConfigText, 0644);
  auto outcome = load(path);
  ASSERT_TRUE(outcome.threw);
  EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
}

TEST_F(ConfigLoad, RefusesAConfigInADirectoryOthersCanWrite) {
  tree.directory("etc", 0777);
  std::string path = tree.file("etc/seclabel.toml", kConfigText, 0644);
  auto outcome = load(path);
  ASSERT_TRUE(outcome.threw);
  EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
}

TEST_F(ConfigLoad, RefusesAConfigReachedThroughAnotherUsersSymlink) {
  std::string real = tree.file("real.toml", kConfigText, 0644);
  std::string sticky = tree.directory("tmp", 01777);
  fs::create_symlink(real, sticky + "/seclabel.toml");
  ASSERT_EQ(::lchown((sticky + "/seclabel.toml").c_str(), kOtherUser, kOtherUser), 0);
  auto outcome = load(sticky + "/seclabel.toml");
  ASSERT_TRUE(outcome.threw);
  EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
}

TEST_F(ConfigLoad, FollowsASymlinkRootOwnsToATrustedConfig) {
  std::string real = tree.file("real.toml", kConfigText, 0644);
  fs::create_symlink(real, tree.path("seclabel.toml"));
  EXPECT_EQ(Config::load(tree.path("seclabel.toml"), false, false).dac.groups,
            std::vector<std::string>{"kvm"});
}

TEST_F(ConfigLoad, RefusesAFifoInsteadOfBlockingForever) {
  std::string path = tree.path("seclabel.toml");
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  auto outcome = load(path);
  ASSERT_TRUE(outcome.finished) << "blocked on a FIFO (killed by signal " << outcome.signal << ")";
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("is not a regular file"), std::string::npos) << outcome.message;
}

// --config /dev/zero used 1.5 GB in 6 s: the limit was checked after
// reading everything.
TEST_F(ConfigLoad, RefusesDevZeroWithoutReadingIt) {
  auto outcome = load("/dev/zero");
  ASSERT_TRUE(outcome.finished) << "killed by signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
}

// A regular file far larger than the limit is refused after reading at most
// the limit and one byte: under a 512 MiB address-space limit, reading this
// 2 GiB (sparse) file whole would fail or be killed.
TEST_F(ConfigLoad, ChecksTheSizeLimitWhileReading) {
  std::string path = testing::sparseFile(tree.path("huge.toml"), off_t(2) << 30);
  auto outcome = load(path);
  ASSERT_TRUE(outcome.finished) << "killed by signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 2) << outcome.message;
  EXPECT_NE(outcome.message.find("is larger than 1048576 bytes"), std::string::npos)
      << outcome.message;
}

TEST_F(ConfigLoad, AMissingDefaultConfigUnderAMissingDirectoryIsTheDefaults) {
  EXPECT_EQ(Config::load(tree.path("absent/seclabel.toml"), true, false).securityDrivers,
            std::vector<std::string>{"dac"});
}

}  // namespace
}  // namespace seclabel

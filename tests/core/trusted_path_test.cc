// Walking to a directory or file that only root may change: every ancestor
// checked on its fd, no symlink unless root's, the walk going on from the
// verified fd whatever the names point at afterwards.
#include "core/trusted_path.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <filesystem>
#include <optional>

#include "core/error.h"
#include "tests/core/hostile_files.h"

namespace seclabel {
namespace {

namespace fs = std::filesystem;
using testing::kOtherUser;
using testing::ScratchTree;

class TrustedPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: files owned by another user";
  }
  void TearDown() override { setTrustedWalkHookForTesting({}); }

  // The error openPrivate throws, or a test failure.
  Error privateError(const std::string& path) {
    try {
      TrustedDirectory::openPrivate(path, TrustedDirectory::IfMissing::Create0700, "state directory");
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "opened " << path;
    return Error(ExitCode::Ok, "");
  }

  ScratchTree tree;
};

mode_t modeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

ino_t inodeOf(int fd) {
  struct stat st;
  EXPECT_EQ(::fstat(fd, &st), 0);
  return st.st_ino;
}

ino_t inodeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

TEST_F(TrustedPathTest, CreatesAMissingPrivateDirectory0700) {
  std::string state = tree.directory("var") + "/state";
  TrustedDirectory dir =
      TrustedDirectory::openPrivate(state, TrustedDirectory::IfMissing::Create0700, "state directory");
  EXPECT_EQ(modeOf(state), 0700u);
  EXPECT_EQ(inodeOf(dir.fd()), inodeOf(state));
}

TEST_F(TrustedPathTest, RefusesAPrivateDirectoryThatIsASymlink) {
  std::string real = tree.directory("real", 0700);
  fs::create_symlink(real, tree.path("state"));
  Error e = privateError(tree.path("state"));
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find("is a symbolic link"), std::string::npos) << e.what();
}

TEST_F(TrustedPathTest, RefusesASymlinkedAncestor) {
  std::string real = tree.directory("real");
  tree.directory("real/state", 0700);
  fs::create_symlink(real, tree.path("link"));
  Error e = privateError(tree.path("link/state"));
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find(tree.path("link") + " is a symbolic link"), std::string::npos)
      << e.what();
}

TEST_F(TrustedPathTest, RefusesAnAncestorOwnedByAnotherUser) {
  std::string parent = tree.directory("users");
  ASSERT_EQ(::chown(parent.c_str(), kOtherUser, kOtherUser), 0);
  Error e = privateError(parent + "/state");
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find(parent + " is owned by uid 65534"), std::string::npos)
      << e.what();
  EXPECT_FALSE(fs::exists(parent + "/state")) << "nothing created under an untrusted parent";
}

TEST_F(TrustedPathTest, RefusesAGroupWritableAncestor) {
  std::string parent = tree.directory("shared", 0775);
  Error e = privateError(parent + "/state");
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find("writable by group or others (mode 0775)"), std::string::npos)
      << e.what();
}

TEST_F(TrustedPathTest, RefusesAnAncestorTwoLevelsUpThatOthersCanWrite) {
  tree.directory("open", 0777);
  std::string parent = tree.directory("open/closed", 0755);
  ::chmod(tree.path("open").c_str(), 0777);
  Error e = privateError(parent + "/state");
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  EXPECT_NE(std::string(e.what()).find(tree.path("open") + " is writable"), std::string::npos)
      << e.what();
}

// Anyone may create names in /tmp, but only a name's owner may replace it:
// a root-owned entry of a root-owned sticky directory is root's alone.
TEST_F(TrustedPathTest, AcceptsARootOwnedStickyAncestor) {
  std::string sticky = tree.directory("sticky", 01777);
  TrustedDirectory::openPrivate(sticky + "/state", TrustedDirectory::IfMissing::Create0700,
                                "state directory");
  EXPECT_EQ(modeOf(sticky + "/state"), 0700u);
}

TEST_F(TrustedPathTest, RefusesAStickyAncestorOwnedByAnotherUser) {
  std::string sticky = tree.directory("sticky", 01777);
  ASSERT_EQ(::chown(sticky.c_str(), kOtherUser, kOtherUser), 0);
  EXPECT_EQ(privateError(sticky + "/state").code(), ExitCode::PermissionDenied);
}

TEST_F(TrustedPathTest, RefusesADirectoryAnotherUserPlantedInAStickyAncestor) {
  std::string sticky = tree.directory("sticky", 01777);
  std::string planted = tree.directory("sticky/state", 0700);
  ASSERT_EQ(::chown(planted.c_str(), kOtherUser, kOtherUser), 0);
  EXPECT_EQ(privateError(planted).code(), ExitCode::PermissionDenied);
}

TEST_F(TrustedPathTest, RefusesAPrivateDirectoryOthersCanWriteEvenWhenSticky) {
  std::string state = tree.directory("state", 01777);
  EXPECT_EQ(privateError(state).code(), ExitCode::PermissionDenied);
}

TEST_F(TrustedPathTest, APrivateDirectoryThatIsAFileIsAFailure) {
  std::string file = tree.file("state", "x");
  Error e = privateError(file);
  EXPECT_EQ(e.code(), ExitCode::Failed) << e.what();
  EXPECT_EQ(e.errnum(), ENOTDIR);
}

// The owner of a parent swaps it for a symlink between the check of one
// component and the opening of the next: the walk goes on from the fd it
// verified, so it ends in the directory it checked, not the forged one.
TEST_F(TrustedPathTest, GoesOnFromTheVerifiedDirectoryWhenAParentIsSwappedMidWalk) {
  std::string genuine = tree.directory("a/b/state", 0700);
  tree.directory("forged/b/state", 0700);
  bool swapped = false;
  setTrustedWalkHookForTesting([&](const std::string& verified) {
    if (verified != tree.path("a/b") || swapped) return;
    fs::rename(tree.path("a"), tree.path("a.moved"));
    fs::create_symlink(tree.path("forged"), tree.path("a"));
    swapped = true;
  });
  TrustedDirectory dir = TrustedDirectory::openPrivate(
      tree.path("a/b/state"), TrustedDirectory::IfMissing::Fail, "state directory");
  ASSERT_TRUE(swapped);
  EXPECT_EQ(inodeOf(dir.fd()), inodeOf(tree.path("a.moved/b/state")));
  EXPECT_NE(inodeOf(dir.fd()), inodeOf(tree.path("forged/b/state")));
  // Names opened through the directory reach the genuine one too.
  UniqueFd file = dir.openPrivateFile("x", O_RDWR, TrustedDirectory::Create::IfMissing);
  EXPECT_TRUE(fs::exists(tree.path("a.moved/b/state/x")));
  EXPECT_FALSE(fs::exists(tree.path("forged/b/state/x")));
  // And so does the kernel path handed to code that opens by name.
  EXPECT_TRUE(fs::exists(dir.kernelPathOf("x")));
}

TEST_F(TrustedPathTest, TrustedDirectoryFollowsASymlinkRootOwns) {
  std::string real = tree.directory("log");
  fs::create_symlink(real, tree.path("log-link"));
  TrustedDirectory dir = TrustedDirectory::openTrusted(tree.path("log-link"), "audit file directory");
  EXPECT_EQ(inodeOf(dir.fd()), inodeOf(real));
}

TEST_F(TrustedPathTest, TrustedDirectoryRefusesASymlinkAnotherUserOwns) {
  std::string real = tree.directory("log");
  std::string sticky = tree.directory("tmp", 01777);
  fs::create_symlink(real, sticky + "/log-link");
  ASSERT_EQ(::lchown((sticky + "/log-link").c_str(), kOtherUser, kOtherUser), 0);
  try {
    TrustedDirectory::openTrusted(sticky + "/log-link", "audit file directory");
    FAIL() << "followed another user's symlink";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::PermissionDenied) << e.what();
  }
}

class PrivateFileTest : public TrustedPathTest {
 protected:
  void SetUp() override {
    TrustedPathTest::SetUp();
    if (IsSkipped()) return;
    dir_.emplace(TrustedDirectory::openPrivate(tree.path("state"),
                                               TrustedDirectory::IfMissing::Create0700, "state"));
  }
  Error openError(const std::string& name, TrustedDirectory::Create create) {
    try {
      dir_->openPrivateFile(name, O_RDWR, create);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "opened " << name;
    return Error(ExitCode::Ok, "");
  }
  std::optional<TrustedDirectory> dir_;
};

TEST_F(PrivateFileTest, RefusesAPlantedSymlinkAndLeavesItsTargetAlone) {
  std::string target = tree.file("target", "precious", 0644);
  fs::create_symlink(target, tree.path("state/f"));
  for (auto create : {TrustedDirectory::Create::No, TrustedDirectory::Create::IfMissing})
    EXPECT_EQ(openError("f", create).code(), ExitCode::PermissionDenied);
  EXPECT_EQ(modeOf(target), 0644u);
}

TEST_F(PrivateFileTest, RefusesAHardLink) {
  std::string other = tree.file("other", "somebody else's", 0600);
  ASSERT_EQ(::link(other.c_str(), tree.path("state/f").c_str()), 0);
  Error e = openError("f", TrustedDirectory::Create::IfMissing);
  EXPECT_EQ(e.code(), ExitCode::PermissionDenied);
  EXPECT_NE(std::string(e.what()).find("2 hard links"), std::string::npos) << e.what();
}

TEST_F(PrivateFileTest, RefusesAFifoWithoutBlocking) {
  ASSERT_EQ(::mkfifo(tree.path("state/f").c_str(), 0600), 0);
  auto outcome = testing::runGuarded([&] {
    dir_->openPrivateFile("f", O_WRONLY | O_APPEND, TrustedDirectory::Create::IfMissing);
  });
  ASSERT_TRUE(outcome.finished) << "killed by signal " << outcome.signal;
  EXPECT_EQ(outcome.exitCode, 4) << outcome.message;
}

TEST_F(PrivateFileTest, RefusesAFileAnotherUserOwns) {
  std::string f = tree.file("state/f", "", 0600);
  ASSERT_EQ(::chown(f.c_str(), kOtherUser, kOtherUser), 0);
  EXPECT_EQ(openError("f", TrustedDirectory::Create::No).code(), ExitCode::PermissionDenied);
}

TEST_F(PrivateFileTest, CreatesAFileOfOursWithOneLink) {
  bool created = false;
  UniqueFd fd = dir_->openPrivateFile("f", O_RDWR, TrustedDirectory::Create::IfMissing, 0600, &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(modeOf(tree.path("state/f")), 0600u);
  dir_->openPrivateFile("f", O_RDWR, TrustedDirectory::Create::IfMissing, 0600, &created);
  EXPECT_FALSE(created);
}

}  // namespace
}  // namespace seclabel

// The exit codes of `seclabel run` and `exec`, from the command line: one
// table (seclabel(1), EXIT STATUS). 126 and 127 only say that the command
// could not be executed or does not exist; every other failure keeps its
// own code (1 failed, 2 invalid input, 3 no free identity or conflict, 4
// denied), and what can be refused early is refused before anything is
// prepared.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

int lineCount(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

class ExitCodes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: seclabel chowns images and changes uids";
    options_.auditSink = "file:" + audit_;
    options_.drivers = {"dac"};  // no warning line about a disabled SELinux
    writeConfig(config_, options_);
    makeImage(image_);
    writeDomain(xml_, "exit-codes", uuid_, {{image_, "vda"}}, {"dac"});
  }
  Finished seclabel(const std::vector<std::string>& args, const std::string& state = {}) {
    return runSeclabel(config_, state.empty() ? state_ : state, args);
  }
  // Exactly one error line, and nothing left: no guest, the image as it was.
  void expectOneLineAndNothingLeft(const Finished& f, const std::string& state = {}) {
    EXPECT_EQ(lineCount(f.err), 1) << f.err;
    EXPECT_EQ(f.err.rfind("seclabel: ", 0), 0u) << f.err;
    struct stat st;
    const std::string dir = state.empty() ? state_ : state;
    if (::stat(dir.c_str(), &st) == 0) {
      EXPECT_TRUE(listGuests(config_, dir).empty()) << listGuests(config_, dir).dump();
    }
    EXPECT_EQ(ownerOf(image_).uid, 0u);
    EXPECT_EQ(ownerOf(image_).mode, 0600u);
  }
  std::string script(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ / name;
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  TempDir dir_;
  ConfigOptions options_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string audit_ = dir_ / "audit.jsonl";
  std::string image_ = dir_ / "guest.qcow2";
  std::string xml_ = dir_ / "guest.xml";
  std::string uuid_ = freshUuid();
};

TEST_F(ExitCodes, ACommandThatDoesNotExistIs127) {
  for (const char* mode : {"run", "exec"}) {
    Finished f = seclabel({mode, xml_, "--", "/nonexistent/command"});
    EXPECT_EQ(f.code(), 127) << mode << ": " << f.err;
    expectOneLineAndNothingLeft(f);
  }
}

TEST_F(ExitCodes, AFileWithoutExecutePermissionIs126BeforeAnythingIsPrepared) {
  std::string path = script("not-executable.sh", "#!/bin/sh\n", 0644);
  for (const char* mode : {"run", "exec"}) {
    Finished f = seclabel({mode, xml_, "--", path});
    EXPECT_EQ(f.code(), 126) << mode << ": " << f.err;
    expectOneLineAndNothingLeft(f);
  }
}

// execve refuses the file as the guest: the kernel cannot load it
// (ENOEXEC: no #! and not a binary format it knows).
TEST_F(ExitCodes, ACommandTheKernelCannotExecuteIs126) {
  std::string path = script("garbage.bin", "\x7f" "ELF but not really", 0755);
  Finished run = seclabel({"run", xml_, "--", path});
  EXPECT_EQ(run.code(), 126) << run.err;
  EXPECT_NE(run.err.find("Exec format error"), std::string::npos) << run.err;
  expectOneLineAndNothingLeft(run);

  Finished exec = seclabel({"exec", xml_, "--", path});
  EXPECT_EQ(exec.code(), 126) << exec.err;
  EXPECT_NE(exec.err.find("Exec format error"), std::string::npos) << exec.err;
  // In place, the process is the guest's by then: it stays recorded for
  // recover, which restores it once the process is gone.
  Finished recover = seclabel({"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  expectOneLineAndNothingLeft(exec);
}

TEST_F(ExitCodes, ADiskPlaceholderTheDomainDoesNotHaveIs2AndNothingIsPrepared) {
  for (const char* mode : {"run", "exec"}) {
    Finished f = seclabel({mode, xml_, "--", "/bin/true", "-drive", "file={disk:vdz}"});
    EXPECT_EQ(f.code(), 2) << mode << ": " << f.err;
    EXPECT_NE(f.err.find("vdz"), std::string::npos) << f.err;
    expectOneLineAndNothingLeft(f);
  }
  EXPECT_EQ(readFile(audit_), "") << "a guest was prepared (and restored) for invalid input";
}

TEST_F(ExitCodes, NoFreeIdentityDuringRunIs3) {
  // One id: the first of this process's slice (testDacRange).
  const std::string first = testDacRange().substr(0, testDacRange().find('-'));
  options_.dacRange = first + "-" + first;
  writeConfig(config_, options_);
  std::string otherImage = dir_ / "other.qcow2", otherXml = dir_ / "other.xml";
  makeImage(otherImage);
  writeDomain(otherXml, "holds-the-only-id", freshUuid(), {{otherImage, "vda"}}, {"dac"});
  ASSERT_EQ(seclabel({"prepare", otherXml}).code(), 0);

  Finished f = seclabel({"run", xml_, "--", "/bin/true"});
  EXPECT_EQ(f.code(), 3) << f.err;
  EXPECT_NE(f.err.find("no free dac identity"), std::string::npos) << f.err;
  EXPECT_EQ(lineCount(f.err), 1) << f.err;
  EXPECT_EQ(listGuests(config_, state_).size(), 1u);
  EXPECT_EQ(ownerOf(image_).uid, 0u);
}

// The store's file system fills up after the guest was prepared: recording
// it as running fails. That is seclabel failing (1), not the command.
TEST_F(ExitCodes, AStoreThatCannotBeWrittenDuringRunIs1Not126) {
  const std::string mountPoint = dir_ / "small";
  ASSERT_EQ(::mkdir(mountPoint.c_str(), 0700), 0);
  if (::mount("tmpfs", mountPoint.c_str(), "tmpfs", 0, "size=256k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << strerror(errno);
  const std::string state = mountPoint + "/state";
  ASSERT_EQ(seclabel({"prepare", xml_}, state).code(), 0);
  {
    std::ofstream fill(mountPoint + "/fill");
    std::string block(4096, 'x');
    while (fill.write(block.data(), block.size())) {
    }
  }
  Finished f = seclabel({"run", xml_, "--", "/bin/true"}, state);
  EXPECT_EQ(f.code(), 1) << f.err;
  EXPECT_NE(f.err.find("full"), std::string::npos) << f.err;
  EXPECT_EQ(lineCount(f.err), 1) << f.err;
  ::unlink((mountPoint + "/fill").c_str());
  Finished restore = seclabel({"restore", uuid_}, state);
  EXPECT_EQ(restore.code(), 0) << restore.err;
  ::umount2(mountPoint.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace seclabel::e2e

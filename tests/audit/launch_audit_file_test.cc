// The audit trail of `run` and `exec` through the file sink (JSON lines):
// what the launcher opens for fd passing is logged as the broker logs it
// (reason=open, with the outcome), and `exec` logs its start only once the
// execve's outcome is known: res=success when the command runs, res=failed
// when the kernel refused it, never a success for a command that never ran.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

namespace e2e = seclabel::e2e;

class LaunchAuditFile : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: seclabel chowns images and changes uids";
    options_.auditSink = "file:" + audit_;
    options_.auditRequired = true;
    options_.drivers = {"dac"};
    e2e::writeConfig(config_, options_);
    e2e::makeImage(image_);
    e2e::writeDomain(xml_, "audit-file-launch", uuid_, {{image_, "vda"}}, {"dac"});
  }
  void useFdPassing() {
    options_.fdpass = "always";
    e2e::writeConfig(config_, options_);
  }
  e2e::Finished seclabel(const std::vector<std::string>& args) {
    return e2e::runSeclabel(config_, state_, args);
  }
  // The records of this guest of one type (and reason, if given), in order.
  std::vector<nlohmann::json> records(const std::string& type, const std::string& reason = {}) {
    std::vector<nlohmann::json> found;
    std::ifstream in(audit_);
    for (std::string line; std::getline(in, line);) {
      nlohmann::json record = nlohmann::json::parse(line);
      if (record.value("uuid", "") != uuid_ || record.value("type", "") != type) continue;
      if (!reason.empty() && record.value("reason", "") != reason) continue;
      found.push_back(record);
    }
    return found;
  }
  std::string script(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ / name;
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  e2e::TempDir dir_;
  e2e::ConfigOptions options_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string audit_ = dir_ / "audit.jsonl";
  std::string image_ = dir_ / "guest.qcow2";
  std::string xml_ = dir_ / "guest.xml";
  std::string uuid_ = e2e::freshUuid();
};

TEST_F(LaunchAuditFile, ADiskTheLauncherOpensForFdPassingIsLoggedAsAnOpen) {
  useFdPassing();
  for (const char* mode : {"run", "exec"}) {
    e2e::Finished f = seclabel({mode, xml_, "--", "/bin/true", "-drive", "file={disk:vda}"});
    ASSERT_EQ(f.code(), 0) << mode << ": " << f.err;
    if (std::string(mode) == "exec") {
      ASSERT_TRUE(e2e::eventually([&] { return records("VIRT_CONTROL").size() == 3; }));
      ASSERT_EQ(seclabel({"restore", uuid_}).code(), 0);
    }
  }
  std::vector<nlohmann::json> opens = records("VIRT_RESOURCE", "open");
  ASSERT_EQ(opens.size(), 2u) << "one per launch";
  for (const nlohmann::json& open : opens) {
    EXPECT_EQ(open["path"], image_);
    EXPECT_EQ(open["rdev"], "?") << "a regular file";
    EXPECT_EQ(open["access"], "rw");
    EXPECT_EQ(open["vm"], "audit-file-launch");
    EXPECT_EQ(open["res"], "success");
  }
  EXPECT_TRUE(records("VIRT_RESOURCE", "start").empty()) << "fd passing, not labeling";
}

// After the prepare, the image gains a second name (a hard link, which could
// be any other file's): the launcher's open refuses a file with more than
// one link, and says so in the log.
TEST_F(LaunchAuditFile, AnFdPassedDiskThatCannotBeOpenedIsLoggedAsAFailedOpen) {
  useFdPassing();
  ASSERT_EQ(seclabel({"prepare", xml_}).code(), 0);
  const std::string moved = dir_ / "moved.qcow2";
  ASSERT_EQ(::rename(image_.c_str(), moved.c_str()), 0);
  ASSERT_EQ(::link(moved.c_str(), image_.c_str()), 0);

  e2e::Finished f = seclabel({"run", xml_, "--", "/bin/true", "-drive", "file={disk:vda}"});
  EXPECT_NE(f.code(), 0);
  EXPECT_NE(f.err.find(image_), std::string::npos) << f.err;
  std::vector<nlohmann::json> opens = records("VIRT_RESOURCE", "open");
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["path"], image_);
  EXPECT_EQ(opens[0]["rdev"], "?");
  EXPECT_EQ(opens[0]["access"], "rw");
  EXPECT_EQ(opens[0]["res"], "failed");
  EXPECT_TRUE(records("VIRT_CONTROL").empty()) << "nothing was started";
  ::unlink(image_.c_str());
  ::rename(moved.c_str(), image_.c_str());
  EXPECT_EQ(seclabel({"restore", uuid_}).code(), 0);
}

// In place, the start is logged by a witness once the execve succeeded:
// exactly one record, success, with the pid that became the guest.
TEST_F(LaunchAuditFile, ExecLogsItsStartOnceTheCommandRuns) {
  e2e::Child exec(e2e::seclabelArgv(config_, state_, {"exec", xml_, "--", "/bin/sh", "-c", "echo $$"}));
  e2e::Finished f = exec.wait();
  ASSERT_EQ(f.code(), 0) << f.err;
  ASSERT_TRUE(e2e::eventually([&] { return !records("VIRT_CONTROL").empty(); }));
  std::vector<nlohmann::json> control = records("VIRT_CONTROL");
  ASSERT_EQ(control.size(), 1u);
  EXPECT_EQ(control[0]["op"], "start");
  EXPECT_EQ(control[0]["reason"], "booted");
  EXPECT_EQ(control[0]["res"], "success");
  EXPECT_EQ(control[0]["vm-pid"], std::to_string(exec.pid()));
  EXPECT_EQ(f.out, std::to_string(exec.pid()) + "\n") << "in place: same pid";
  EXPECT_EQ(seclabel({"restore", uuid_}).code(), 0);
}

// execve fails once the process already has the guest's identity (its
// capabilities and seclabel's fds are gone): the log says the start
// failed, and nothing claims it succeeded.
TEST_F(LaunchAuditFile, ExecOfACommandTheKernelRefusesIsLoggedAsAFailedStart) {
  const std::string garbage = script("garbage.bin", "\x7f" "ELF but not really", 0755);
  const std::string rootOnly = script("root-only.sh", "#!/bin/sh\necho ran\n", 0700);
  int attempt = 0;
  for (const std::string& command : {garbage, rootOnly}) {
    e2e::Child exec(e2e::seclabelArgv(config_, state_, {"exec", xml_, "--", command}));
    e2e::Finished f = exec.wait();
    EXPECT_EQ(f.code(), 126) << command << ": " << f.err;
    EXPECT_EQ(f.err.find("audit"), std::string::npos) << "the record was written: " << f.err;
    ++attempt;
    std::vector<nlohmann::json> control = records("VIRT_CONTROL");
    ASSERT_EQ(control.size(), size_t(attempt)) << command;
    EXPECT_EQ(control.back()["op"], "start");
    EXPECT_EQ(control.back()["res"], "failed") << command;
    EXPECT_EQ(control.back()["vm-pid"], std::to_string(exec.pid()));
    EXPECT_EQ(seclabel({"recover"}).code(), 0);
  }
  for (const nlohmann::json& record : records("VIRT_CONTROL"))
    EXPECT_NE(record["res"], "success") << record.dump();
  EXPECT_EQ(e2e::ownerOf(image_).uid, 0u);
}

}  // namespace
}  // namespace seclabel

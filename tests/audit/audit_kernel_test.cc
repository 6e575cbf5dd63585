// The kernel sink against a real auditd: each record is found by ausearch
// with its res=, hostile names cannot forge fields and decode back, the file
// sink carries the same fields, `none` writes nothing, and a required audit
// log that the process cannot write stops before the first record.
//
// Runs under the `auditd` CTest fixture with RESOURCE_LOCK auditd.
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "audit/audit.h"
#include "tests/audit/auditd_helpers.h"

namespace seclabel {
namespace {

namespace fs = std::filesystem;
using seclabel::testing::decodedFields;
using seclabel::testing::freshUuid;
using seclabel::testing::waitForRecords;

AuditConfig kernelConfig(bool required = false) {
  AuditConfig config;
  config.sink = AuditSink::Kernel;
  config.required = required;
  return config;
}

class KernelAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = seclabel::testing::kernelAuditUnavailable())
      GTEST_SKIP() << "kernel audit log not available: " << *reason;
    guest_ = AuditGuest{"kvm", "audit-test", freshUuid()};
    log_ = makeAuditLog(kernelConfig(), [this](const std::string& m) { warnings_.push_back(m); });
    log_->ensureUsable();
  }
  void TearDown() override { EXPECT_TRUE(warnings_.empty()) << warnings_.front(); }

  AuditGuest guest_;
  std::vector<std::string> warnings_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(KernelAudit, MachineIdIsFoundByAusearchWithSuccess) {
  log_->write(audit::machineId(guest_, "selinux", "system_u:system_r:svirt_t:s0:c7,c9",
                               "system_u:object_r:svirt_image_t:s0:c7,c9",
                               AuditOutcome::Success));
  auto lines = waitForRecords("VIRT_MACHINE_ID", guest_.uuid, 1);
  ASSERT_EQ(lines.size(), 1u);
  auto f = decodedFields(lines[0]);
  EXPECT_EQ(f["virt"], "kvm");
  EXPECT_EQ(f["vm"], "audit-test");
  EXPECT_EQ(f["uuid"], guest_.uuid);
  EXPECT_EQ(f["vm-ctx"], "system_u:system_r:svirt_t:s0:c7,c9");
  EXPECT_EQ(f["img-ctx"], "system_u:object_r:svirt_image_t:s0:c7,c9");
  EXPECT_EQ(f["model"], "selinux");
  EXPECT_EQ(f["res"], "success");
}

TEST_F(KernelAudit, FailedLabelingIsLoggedAsFailed) {
  log_->write(audit::resourceLabel(guest_, AuditLabelChange::Label, "/var/lib/g/missing.qcow2",
                                   "dac", std::nullopt, "+1879048193:+1879048193",
                                   AuditOutcome::Failure));
  auto lines = waitForRecords("VIRT_RESOURCE", guest_.uuid, 1);
  ASSERT_EQ(lines.size(), 1u);
  auto f = decodedFields(lines[0]);
  EXPECT_EQ(f["resrc"], "disk");
  EXPECT_EQ(f["reason"], "start");
  EXPECT_EQ(f["old-disk"], "?");
  EXPECT_EQ(f["new-disk"], "/var/lib/g/missing.qcow2");
  EXPECT_EQ(f["old-label"], "?");
  EXPECT_EQ(f["new-label"], "+1879048193:+1879048193");
  EXPECT_EQ(f["res"], "failed");
}

TEST_F(KernelAudit, RestoreIsLoggedWithStopReason) {
  log_->write(audit::resourceLabel(guest_, AuditLabelChange::Restore, "/var/lib/g/a.qcow2",
                                   "dac", "+1879048193:+1879048193", "+0:+0",
                                   AuditOutcome::Success));
  auto lines = waitForRecords("VIRT_RESOURCE", guest_.uuid, 1);
  ASSERT_EQ(lines.size(), 1u);
  auto f = decodedFields(lines[0]);
  EXPECT_EQ(f["reason"], "stop");
  EXPECT_EQ(f["old-disk"], "/var/lib/g/a.qcow2");
  EXPECT_EQ(f["new-disk"], "?");
  EXPECT_EQ(f["res"], "success");
}

TEST_F(KernelAudit, OpenRecordCarriesTheDeviceNumberOfTheOpenedFd) {
  int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::optional<dev_t> rdev = auditRdevOf(fd);
  ::close(fd);
  log_->write(audit::resourceOpen(guest_, "/dev/null", rdev, AuditAccess::ReadWrite,
                                  AuditOutcome::Success));
  auto lines = waitForRecords("VIRT_RESOURCE", guest_.uuid, 1);
  ASSERT_EQ(lines.size(), 1u);
  auto f = decodedFields(lines[0]);
  EXPECT_EQ(f["reason"], "open");
  EXPECT_EQ(f["path"], "/dev/null");
  EXPECT_EQ(f["rdev"], "01:03");
  EXPECT_EQ(f["access"], "rw");
  EXPECT_EQ(f["res"], "success");
}

TEST_F(KernelAudit, StartAndStopAreTwoControlRecords) {
  log_->write(audit::control(guest_, AuditControlOp::Start, "booted", 4242,
                             AuditOutcome::Success));
  log_->write(audit::control(guest_, AuditControlOp::Stop, "failed", 4242,
                             AuditOutcome::Failure));
  auto lines = waitForRecords("VIRT_CONTROL", guest_.uuid, 2);
  ASSERT_EQ(lines.size(), 2u);
  auto start = decodedFields(lines[0]);
  auto stop = decodedFields(lines[1]);
  EXPECT_EQ(start["op"], "start");
  EXPECT_EQ(start["reason"], "booted");
  EXPECT_EQ(start["vm-pid"], "4242");
  EXPECT_EQ(start["res"], "success");
  EXPECT_EQ(stop["op"], "stop");
  EXPECT_EQ(stop["res"], "failed");
}

TEST_F(KernelAudit, HostileGuestNameIsHexInTheRawLogAndDecodesWithInterpret) {
  guest_.name = "evil name \"q\" 'x'";
  log_->write(audit::control(guest_, AuditControlOp::Start, "booted", 1, AuditOutcome::Success));
  auto raw = waitForRecords("VIRT_CONTROL", guest_.uuid, 1);
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_NE(raw[0].find(" vm=6576696C206E616D652022712220277827 "), std::string::npos) << raw[0];
  EXPECT_EQ(raw[0].find("evil name"), std::string::npos) << raw[0];
  auto interpreted = waitForRecords("VIRT_CONTROL", guest_.uuid, 1, /*interpret=*/true);
  ASSERT_EQ(interpreted.size(), 1u);
  EXPECT_NE(interpreted[0].find(" vm=evil name \"q\" 'x' uuid="), std::string::npos)
      << interpreted[0];
}

TEST_F(KernelAudit, NewlineInAPathIsHexInTheRawLogAndDecodesWithInterpret) {
  std::string path = "/var/lib/g/a\ntype=VIRT_CONTROL res=success.img";
  log_->write(audit::resourceOpen(guest_, path, std::nullopt, AuditAccess::ReadOnly,
                                  AuditOutcome::Failure));
  auto raw = waitForRecords("VIRT_RESOURCE", guest_.uuid, 1);
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].find("type=VIRT_CONTROL"), std::string::npos) << raw[0];
  EXPECT_EQ(decodedFields(raw[0])["path"], path);
  EXPECT_EQ(decodedFields(raw[0])["res"], "failed");
  // ausearch -i decodes the hex and shows the newline escaped (\012), so the
  // decoded path is readable and still one record on one line.
  auto interpreted = waitForRecords("VIRT_RESOURCE", guest_.uuid, 1, /*interpret=*/true);
  ASSERT_EQ(interpreted.size(), 1u);
  EXPECT_NE(interpreted[0].find(" path=/var/lib/g/a\\012type=VIRT_CONTROL res=success.img rdev=? "),
            std::string::npos) << interpreted[0];
}

TEST_F(KernelAudit, FileSinkWritesTheSameFieldsAsTheKernelRecord) {
  char dir[] = "/tmp/seclabel-audit-same-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  fs::path file = fs::path(dir) / "audit.jsonl";
  AuditConfig fileConfig;
  fileConfig.sink = AuditSink::File;
  fileConfig.path = file;
  auto fileLog = makeAuditLog(fileConfig);

  guest_.name = "evil name \"q\" 'x'";
  std::vector<AuditRecord> records = {
      audit::machineId(guest_, "dac", "+1879048193:+1879048193", std::nullopt,
                       AuditOutcome::Success),
      audit::resourceLabel(guest_, AuditLabelChange::Label, "/g/a b.img", "dac", "+0:+0",
                           "+1879048193:+1879048193", AuditOutcome::Success),
      audit::resourceOpen(guest_, "/dev/null", makedev(1, 3), AuditAccess::ReadOnly,
                          AuditOutcome::Failure),
      audit::control(guest_, AuditControlOp::Start, "booted", 77, AuditOutcome::Success),
  };
  for (const AuditRecord& r : records) {
    log_->write(r);
    fileLog->write(r);
  }

  std::ifstream in(file);
  std::vector<nlohmann::ordered_json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::ordered_json::parse(line));
  fs::remove_all(dir);
  ASSERT_EQ(lines.size(), records.size());

  // The kernel log orders by arrival: match each JSON line to its record type.
  std::map<std::string, std::vector<std::map<std::string, std::string>>> kernel;
  for (const char* type : {"VIRT_MACHINE_ID", "VIRT_RESOURCE", "VIRT_CONTROL"}) {
    size_t expected = std::count_if(records.begin(), records.end(), [&](const AuditRecord& r) {
      return auditRecordTypeName(r.type) == type;
    });
    for (const std::string& raw : waitForRecords(type, guest_.uuid, expected))
      kernel[type].push_back(decodedFields(raw));
    ASSERT_EQ(kernel[type].size(), expected) << type;
  }
  std::map<std::string, size_t> next;
  for (const auto& json : lines) {
    std::string type = json["type"];
    const auto& fields = kernel[type][next[type]++];
    std::vector<std::string> jsonKeys;
    for (auto& [key, value] : json.items()) {
      if (key == "type" || key == "time") continue;
      jsonKeys.push_back(key);
      EXPECT_EQ(fields.at(key), value.get<std::string>()) << type << " " << key;
    }
    // Every field seclabel wrote (not libaudit's exe=, hostname=, ...) is in
    // the JSON line.
    for (const auto& [key, value] : fields) {
      if (key == "exe" || key == "hostname" || key == "addr" || key == "terminal" ||
          key == "pid" || key == "uid" || key == "auid" || key == "ses" || key == "subj")
        continue;
      EXPECT_NE(std::find(jsonKeys.begin(), jsonKeys.end(), key), jsonKeys.end())
          << type << " field " << key << " missing from the JSON line";
    }
  }
}

TEST_F(KernelAudit, NoneSinkWritesNothing) {
  AuditConfig none;
  none.sink = AuditSink::None;
  AuditGuest silent{"kvm", "silent", freshUuid()};
  makeAuditLog(none)->write(
      audit::control(silent, AuditControlOp::Start, "booted", 1, AuditOutcome::Success));
  // A record sent afterwards through the kernel arrives after anything the
  // none sink could have sent: once it is in the log, absence is proven.
  log_->write(audit::control(guest_, AuditControlOp::Start, "booted", 1, AuditOutcome::Success));
  ASSERT_EQ(waitForRecords("VIRT_CONTROL", guest_.uuid, 1).size(), 1u);
  EXPECT_EQ(seclabel::testing::runCommand("ausearch --start today --uuid " + silent.uuid +
                                          " --raw 2>/dev/null")
                .output,
            "");
}

TEST_F(KernelAudit, DisabledKernelAuditingCountsAsUnusable) {
  // With auditing off the kernel accepts user records and drops them: a
  // required log must refuse to start rather than lose them silently.
  ASSERT_EQ(seclabel::testing::runCommand("auditctl -e 0 >/dev/null").exitStatus, 0);
  struct ReEnable {
    ~ReEnable() { seclabel::testing::runCommand("auditctl -e 1 >/dev/null"); }
  } reEnable;
  auto log = makeAuditLog(kernelConfig(/*required=*/true));
  try {
    log->ensureUsable();
    FAIL() << "ensureUsable accepted a kernel with auditing disabled";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("auditing is disabled"), std::string::npos) << e.what();
  }
}

// ------------------------------------------------------------------------
// Without CAP_AUDIT_WRITE. Capabilities are per thread and dropping them is
// for good, so each case runs in a forked child and reports by exit code.

void dropCapAuditWrite() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (::syscall(SYS_capget, &header, data) != 0) ::_exit(90);
  for (auto& d : data) {
    d.effective &= ~CAP_TO_MASK(CAP_AUDIT_WRITE);
    d.permitted &= ~CAP_TO_MASK(CAP_AUDIT_WRITE);
    d.inheritable &= ~CAP_TO_MASK(CAP_AUDIT_WRITE);
  }
  if (::syscall(SYS_capset, &header, data) != 0) ::_exit(91);
}

template <typename Body>
int inChildWithoutCapAuditWrite(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    dropCapAuditWrite();
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(KernelAudit, RequiredWithoutCapAuditWriteFailsBeforeAnyRecord) {
  AuditGuest child{"kvm", "no-cap", freshUuid()};
  int result = inChildWithoutCapAuditWrite([&] {
    auto log = makeAuditLog(kernelConfig(/*required=*/true), [](const std::string&) {});
    try {
      log->ensureUsable();
      return 1;  // accepted: wrong
    } catch (const Error& e) {
      if (e.code() != ExitCode::PermissionDenied) return 2;
      if (std::string(e.what()).find("CAP_AUDIT_WRITE") == std::string::npos) return 3;
    }
    try {
      log->write(audit::control(child, AuditControlOp::Start, "booted", 1,
                                AuditOutcome::Success));
      return 4;  // a write went through silently: wrong
    } catch (const Error&) {
    }
    return 0;
  });
  EXPECT_EQ(result, 0) << "1: ensureUsable accepted, 2: wrong exit code, 3: message does not "
                          "name CAP_AUDIT_WRITE, 4: write did not fail";
  log_->write(audit::control(guest_, AuditControlOp::Start, "booted", 1, AuditOutcome::Success));
  ASSERT_EQ(waitForRecords("VIRT_CONTROL", guest_.uuid, 1).size(), 1u);
  EXPECT_EQ(seclabel::testing::runCommand("ausearch --start today --uuid " + child.uuid +
                                          " --raw 2>/dev/null").output, "");
}

TEST_F(KernelAudit, NotRequiredWithoutCapAuditWriteWarnsOnceAndContinues) {
  AuditGuest child{"kvm", "no-cap", freshUuid()};
  int result = inChildWithoutCapAuditWrite([&] {
    std::vector<std::string> warnings;
    auto log = makeAuditLog(kernelConfig(), [&](const std::string& m) { warnings.push_back(m); });
    try {
      log->ensureUsable();
      AuditRecord r = audit::control(child, AuditControlOp::Start, "booted", 1,
                                     AuditOutcome::Success);
      log->write(r);
      log->write(r);
    } catch (const Error&) {
      return 1;
    }
    if (warnings.size() != 1) return 2;
    if (warnings[0].find("CAP_AUDIT_WRITE") == std::string::npos) return 3;
    return 0;
  });
  EXPECT_EQ(result, 0) << "1: threw, 2: not exactly one warning, 3: warning does not name "
                          "CAP_AUDIT_WRITE";
  log_->write(audit::control(guest_, AuditControlOp::Start, "booted", 1, AuditOutcome::Success));
  ASSERT_EQ(waitForRecords("VIRT_CONTROL", guest_.uuid, 1).size(), 1u);
  EXPECT_EQ(seclabel::testing::runCommand("ausearch --start today --uuid " + child.uuid +
                                          " --raw 2>/dev/null").output, "");
}

TEST_F(KernelAudit, NetDeviceOpenIsFoundWithMacPathAndRdev) {
  log_->write(audit::netDeviceOpen(guest_, "52:54:00:12:34:56", "/dev/net/tun", makedev(10, 200),
                                   AuditOutcome::Success));
  auto lines = waitForRecords("VIRT_RESOURCE", guest_.uuid, 1);
  ASSERT_EQ(lines.size(), 1u);
  auto f = decodedFields(lines[0]);
  EXPECT_EQ(f["resrc"], "net");
  EXPECT_EQ(f["reason"], "open");
  EXPECT_EQ(f["vm"], "audit-test");
  EXPECT_EQ(f["net"], "52:54:00:12:34:56");
  EXPECT_EQ(f["path"], "/dev/net/tun");
  EXPECT_EQ(f["rdev"], "0A:C8");
  EXPECT_EQ(f["res"], "success");
}

TEST_F(KernelAudit, NetStartAndStopAreFoundByAusearchInterpreted) {
  log_->write(audit::netInterface(guest_, AuditNetChange::Start, "52:54:00:12:34:56",
                                  AuditOutcome::Success));
  log_->write(audit::netInterface(guest_, AuditNetChange::Stop, "52:54:00:12:34:56",
                                  AuditOutcome::Failure));
  auto lines = waitForRecords("VIRT_RESOURCE", guest_.uuid, 2, /*interpret=*/true);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("resrc=net reason=start"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("old-net=? new-net=52:54:00:12:34:56"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("res=success"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("resrc=net reason=stop"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("old-net=52:54:00:12:34:56 new-net=?"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("res=failed"), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace seclabel

// The audit trail of real `seclabel` commands against a real auditd: what
// `seclabel run` of a guest with a disk writes (exactly, per type), hostile
// names and paths hex-encoded and decoded back by ausearch -i, a failed
// prepare claiming no success for its disk, and the file sink writing the
// same records as JSON lines.
//
// Runs under the `auditd` CTest fixture with RESOURCE_LOCK auditd.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/audit/auditd_helpers.h"
#include "tests/tools/e2e_support.h"

namespace seclabel {
namespace {

using seclabel::testing::decodedFields;
using seclabel::testing::runCommand;
using seclabel::testing::waitForRecords;
namespace e2e = seclabel::e2e;

using Fields = std::map<std::string, std::string>;

std::string upperHex(const std::string& bytes) {
  std::string hex;
  char buffer[3];
  for (unsigned char c : bytes) {
    std::snprintf(buffer, sizeof buffer, "%02X", c);
    hex += buffer;
  }
  return hex;
}

// Everything a seclabel process wrote before it exited is in the log once a
// later message from this test is: the kernel queues audit messages in
// order and auditd writes them in order.
bool auditBarrier(const std::string& uuid) {
  std::string marker = "seclabel-e2e-barrier-" + uuid;
  if (runCommand("auditctl -m '" + marker + "' 2>&1").exitStatus != 0) return false;
  return e2e::eventually(
      [&] {
        return runCommand("ausearch --start today -m USER --raw 2>/dev/null").output.find(marker) !=
               std::string::npos;
      },
      10000);
}

std::vector<Fields> recordsOf(const std::string& type, const std::string& uuid) {
  std::vector<Fields> records;
  for (const auto& line : waitForRecords(type, uuid, 0)) records.push_back(decodedFields(line));
  return records;
}

class LaunchAudit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto reason = seclabel::testing::kernelAuditUnavailable())
      GTEST_SKIP() << "kernel audit log not available: " << *reason;
    e2e::ConfigOptions options;
    options.auditSink = "kernel";
    options.auditRequired = true;  // a test that cannot write records must fail, not pass empty
    e2e::writeConfig(config_, options);
  }

  e2e::Finished seclabel(const std::vector<std::string>& args, const std::string& state) {
    return e2e::runSeclabel(config_, state, args);
  }

  e2e::TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
};

TEST_F(LaunchAudit, RunOfAGuestWithADiskLogsExactlyItsRecordsAllSuccessful) {
  std::string image = dir_ / "disk.qcow2", xml = dir_ / "guest.xml", uuid = e2e::freshUuid();
  e2e::makeImage(image);
  e2e::writeDomain(xml, "audit-e2e", uuid, {{image, "vda"}});
  e2e::Finished run = seclabel({"run", xml, "--", "/bin/true"}, state_);
  ASSERT_EQ(run.code(), 0) << run.err;
  ASSERT_TRUE(auditBarrier(uuid));

  auto machine = recordsOf("VIRT_MACHINE_ID", uuid);
  ASSERT_EQ(machine.size(), 2u) << "one per driver";
  std::set<std::string> models;
  for (auto& f : machine) {
    models.insert(f["model"]);
    EXPECT_EQ(f["virt"], "qemu");
    EXPECT_EQ(f["vm"], "audit-e2e");
    EXPECT_EQ(f["res"], "success");
    EXPECT_FALSE(f["vm-ctx"].empty());
    EXPECT_FALSE(f["img-ctx"].empty());
  }
  EXPECT_EQ(models, (std::set<std::string>{"selinux", "dac"}));

  auto resources = recordsOf("VIRT_RESOURCE", uuid);
  ASSERT_EQ(resources.size(), 4u) << "label and restore, per driver";
  std::multiset<std::string> seen;
  for (auto& f : resources) {
    seen.insert(f["reason"] + "/" + f["model"]);
    EXPECT_EQ(f["resrc"], "disk");
    EXPECT_EQ(f["res"], "success");
    if (f["reason"] == "start") {
      EXPECT_EQ(f["new-disk"], image);
      EXPECT_EQ(f["old-disk"], "?");
    } else {
      EXPECT_EQ(f["old-disk"], image);
      EXPECT_EQ(f["new-disk"], "?");
    }
    if (f["model"] == "dac") {
      EXPECT_EQ(f["reason"] == "start" ? f["old-label"] : f["new-label"], "+0:+0")
          << "the image's original owner";
    }
  }
  EXPECT_EQ(seen, (std::multiset<std::string>{"start/selinux", "start/dac", "stop/selinux",
                                               "stop/dac"}));

  auto control = recordsOf("VIRT_CONTROL", uuid);
  ASSERT_EQ(control.size(), 2u);
  EXPECT_EQ(control[0]["op"], "start");
  EXPECT_EQ(control[1]["op"], "stop");
  for (auto& f : control) {
    EXPECT_EQ(f["res"], "success");
    EXPECT_EQ(f["vm"], "audit-e2e");
  }
  EXPECT_EQ(control[0]["vm-pid"], control[1]["vm-pid"]);
  EXPECT_NE(control[0]["vm-pid"], "?");
}

TEST_F(LaunchAudit, HostileNamesAndPathsAreHexEncodedAndDecodeBack) {
  const std::string name = "evil name \"q\" 'x'";
  std::string image = dir_ / "sp ace \"q\" 'x'.qcow2", xml = dir_ / "guest.xml";
  std::string uuid = e2e::freshUuid();
  e2e::makeImage(image);
  e2e::writeDomain(xml, name, uuid, {{image, "vda"}});
  e2e::Finished run = seclabel({"run", xml, "--", "/bin/true"}, state_);
  ASSERT_EQ(run.code(), 0) << run.err;
  ASSERT_TRUE(auditBarrier(uuid));

  auto raw = waitForRecords("VIRT_CONTROL", uuid, 2);
  ASSERT_EQ(raw.size(), 2u);
  for (const auto& line : raw) {
    EXPECT_NE(line.find(" vm=" + upperHex(name) + " "), std::string::npos) << line;
    EXPECT_EQ(line.find("evil name"), std::string::npos) << "not in clear: " << line;
    EXPECT_EQ(decodedFields(line)["vm"], name);
  }
  auto rawResources = waitForRecords("VIRT_RESOURCE", uuid, 4);
  ASSERT_EQ(rawResources.size(), 4u);
  for (const auto& line : rawResources) {
    auto f = decodedFields(line);
    const std::string& disk = f["reason"] == "start" ? f["new-disk"] : f["old-disk"];
    EXPECT_EQ(disk, image);
    EXPECT_NE(line.find("-disk=" + upperHex(image) + " "), std::string::npos) << line;
  }

  auto interpreted = waitForRecords("VIRT_CONTROL", uuid, 2, /*interpret=*/true);
  ASSERT_EQ(interpreted.size(), 2u);
  for (const auto& line : interpreted)
    EXPECT_NE(line.find(" vm=" + name + " uuid="), std::string::npos) << line;
  auto interpretedResources = waitForRecords("VIRT_RESOURCE", uuid, 4, /*interpret=*/true);
  ASSERT_EQ(interpretedResources.size(), 4u);
  for (const auto& line : interpretedResources)
    EXPECT_NE(line.find("-disk=" + image + " "), std::string::npos) << line;
}

// A newline cannot reach a record through the command line: the domain XML
// is refused before anything is prepared, and nothing is logged for it.
// (The encoding of a newline itself: audit_kernel_test.cc.)
TEST_F(LaunchAudit, ANewlineInADiskPathIsRefusedBeforeAnyRecord) {
  std::string image = dir_ / "new\nline.qcow2", xml = dir_ / "guest.xml";
  std::string uuid = e2e::freshUuid();
  e2e::makeImage(image);
  e2e::writeDomain(xml, "audit-newline", uuid, {{image, "vda"}});
  e2e::Finished run = seclabel({"run", xml, "--", "/bin/true"}, state_);
  EXPECT_EQ(run.code(), 2) << run.err;
  EXPECT_NE(run.err.find("control character"), std::string::npos) << run.err;
  ASSERT_TRUE(auditBarrier(uuid));
  for (const char* type : {"VIRT_MACHINE_ID", "VIRT_RESOURCE", "VIRT_CONTROL"})
    EXPECT_TRUE(recordsOf(type, uuid).empty()) << type;
  EXPECT_EQ(e2e::ownerOf(image).uid, 0u);
}

TEST_F(LaunchAudit, AFailedPrepareClaimsNoSuccessForTheMissingDisk) {
  std::string present = dir_ / "present.qcow2", missing = dir_ / "missing.qcow2";
  std::string xml = dir_ / "guest.xml", uuid = e2e::freshUuid();
  e2e::makeImage(present);
  e2e::writeDomain(xml, "audit-missing", uuid, {{present, "vda"}, {missing, "vdb"}});
  e2e::Finished prepare = seclabel({"prepare", xml}, state_);
  EXPECT_NE(prepare.code(), 0);
  EXPECT_NE(prepare.err.find(missing), std::string::npos) << prepare.err;
  ASSERT_TRUE(auditBarrier(uuid));

  for (auto& f : recordsOf("VIRT_RESOURCE", uuid)) {
    if (f["new-disk"] == missing || f["old-disk"] == missing) {
      EXPECT_NE(f["res"], "success") << "a record claims the missing disk was labeled";
    }
  }
  // Whatever was done to the disk that exists was undone, and said so.
  int started = 0, stopped = 0;
  for (auto& f : recordsOf("VIRT_RESOURCE", uuid)) {
    if (f["res"] != "success") continue;
    if (f["reason"] == "start" && f["new-disk"] == present) ++started;
    if (f["reason"] == "stop" && f["old-disk"] == present) ++stopped;
  }
  EXPECT_EQ(started, stopped);
  EXPECT_TRUE(recordsOf("VIRT_CONTROL", uuid).empty()) << "nothing was started";
  e2e::Owner o = e2e::ownerOf(present);
  EXPECT_EQ(o.uid, 0u);
  EXPECT_EQ(o.mode, 0600u);
  EXPECT_TRUE(e2e::listGuests(config_, state_).empty());
}

// The launcher opens an fd-passed disk itself (no broker): the kernel log
// gets the same reason=open record the broker writes.
TEST_F(LaunchAudit, ADiskTheLauncherOpensForFdPassingIsLoggedAsAnOpen) {
  e2e::ConfigOptions options;
  options.auditSink = "kernel";
  options.auditRequired = true;
  options.fdpass = "always";
  e2e::writeConfig(config_, options);
  std::string image = dir_ / "disk.qcow2", xml = dir_ / "guest.xml", uuid = e2e::freshUuid();
  e2e::makeImage(image);
  e2e::writeDomain(xml, "audit-fdpass", uuid, {{image, "vda"}});
  e2e::Finished run = seclabel({"run", xml, "--", "/bin/true", "-drive", "file={disk:vda}"}, state_);
  ASSERT_EQ(run.code(), 0) << run.err;
  ASSERT_TRUE(auditBarrier(uuid));

  std::vector<Fields> opens;
  for (auto& f : recordsOf("VIRT_RESOURCE", uuid))
    if (f["reason"] == "open") opens.push_back(f);
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["path"], image);
  EXPECT_EQ(opens[0]["rdev"], "?");
  EXPECT_EQ(opens[0]["access"], "rw");
  EXPECT_EQ(opens[0]["res"], "success");
}

// exec in place whose execve the kernel refuses after the identity was
// applied: the process can no longer write to the kernel log (no
// CAP_AUDIT_WRITE); the start is logged as failed all the same, and
// nothing says it succeeded.
TEST_F(LaunchAudit, ExecOfACommandTheKernelRefusesIsLoggedAsAFailedStart) {
  std::string image = dir_ / "disk.qcow2", xml = dir_ / "guest.xml", uuid = e2e::freshUuid();
  e2e::makeImage(image);
  e2e::writeDomain(xml, "audit-exec-fails", uuid, {{image, "vda"}});
  std::string garbage = dir_ / "garbage.bin";
  std::ofstream(garbage) << "\x7f" "ELF but not really";
  ::chmod(garbage.c_str(), 0755);
  e2e::Child exec(e2e::seclabelArgv(config_, state_, {"exec", xml, "--", garbage}));
  e2e::Finished f = exec.wait();
  EXPECT_EQ(f.code(), 126) << f.err;
  EXPECT_EQ(f.err.find("audit"), std::string::npos) << f.err;
  ASSERT_TRUE(auditBarrier(uuid));

  auto control = recordsOf("VIRT_CONTROL", uuid);
  ASSERT_EQ(control.size(), 1u);
  EXPECT_EQ(control[0]["op"], "start");
  EXPECT_EQ(control[0]["res"], "failed");
  EXPECT_EQ(control[0]["vm-pid"], std::to_string(exec.pid()));
  EXPECT_EQ(seclabel({"recover"}, state_).code(), 0);
}

// The same run twice, each on a fresh store (so the same identity is
// allocated): once to the kernel, once to a file. Each kernel record's
// fields are the JSON line's, plus what libaudit adds (exe, hostname, addr,
// terminal); only vm-pid and time differ.
TEST_F(LaunchAudit, TheFileSinkWritesTheSameRecordsAsJsonLines) {
  std::string image = dir_ / "disk.qcow2", xml = dir_ / "guest.xml", uuid = e2e::freshUuid();
  e2e::makeImage(image);
  e2e::writeDomain(xml, "audit-file", uuid, {{image, "vda"}});
  ASSERT_EQ(seclabel({"run", xml, "--", "/bin/true"}, dir_ / "state-kernel").code(), 0);

  std::string jsonl = dir_ / "audit.jsonl";
  e2e::ConfigOptions fileOptions;
  fileOptions.auditSink = "file:" + jsonl;
  std::string fileConfig = dir_ / "file.toml";
  e2e::writeConfig(fileConfig, fileOptions);
  e2e::Finished fileRun =
      e2e::runSeclabel(fileConfig, dir_ / "state-file", {"run", xml, "--", "/bin/true"});
  ASSERT_EQ(fileRun.code(), 0) << fileRun.err;

  ASSERT_TRUE(auditBarrier(uuid));
  std::vector<Fields> kernel;
  for (const char* type : {"VIRT_MACHINE_ID", "VIRT_RESOURCE", "VIRT_CONTROL"})
    for (auto& f : recordsOf(type, uuid)) {
      f["type"] = type;
      kernel.push_back(f);
    }
  std::vector<Fields> file;
  std::ifstream in(jsonl);
  for (std::string line; std::getline(in, line);) {
    nlohmann::json record = nlohmann::json::parse(line);
    Fields f;
    for (auto& [key, value] : record.items()) f[key] = value.get<std::string>();
    file.push_back(f);
  }
  ASSERT_EQ(file.size(), 8u);
  ASSERT_EQ(kernel.size(), file.size());

  auto comparable = [](Fields f) {
    for (const char* key : {"time", "vm-pid", "exe", "hostname", "addr", "terminal"}) f.erase(key);
    return f;
  };
  std::multiset<Fields> kernelSet, fileSet;
  for (const auto& f : kernel) {
    for (const char* added : {"exe", "hostname", "addr", "terminal"})
      EXPECT_TRUE(f.count(added)) << added;
    kernelSet.insert(comparable(f));
  }
  for (const auto& f : file) {
    EXPECT_TRUE(f.count("time"));
    fileSet.insert(comparable(f));
  }
  EXPECT_EQ(kernelSet, fileSet);
}

}  // namespace
}  // namespace seclabel

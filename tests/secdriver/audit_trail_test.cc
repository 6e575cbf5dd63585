// What the audit trail says about labeling is what happened to the file: a
// change taken back because a later driver failed gets its restore record.
// On a real ramfs (no xattrs at all) with the stack ["dac", "selinux"], the
// chown succeeds, the label fails, the chown is undone: three records.
#include <sys/stat.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

std::vector<nlohmann::json> resourceRecords(const std::string& file) {
  std::vector<nlohmann::json> records;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    auto record = nlohmann::json::parse(line);
    if (record["type"] == "VIRT_RESOURCE") records.push_back(record);
  }
  return records;
}

class RamfsAuditTrail : public ::testing::Test {
 protected:
  void SetUp() override {
    SECLABEL_REQUIRE_ROOT();
    std::string why;
    ramfs = scratch.mountFilesystem("ramfs", "ramfs", &why);
    if (ramfs.empty()) GTEST_SKIP() << why;
    Original bare{4242, 4343, 0640, std::nullopt};  // ramfs has no xattrs
    disk = scratch.makeFile("ramfs/disk.img", bare);
    auditFile = scratch.path("audit.jsonl");
  }

  void expectChownUndoneOnRecord(const std::vector<nlohmann::json>& records,
                                 const std::string& guestOwner) {
    ASSERT_EQ(records.size(), 3u) << nlohmann::json(records).dump(1);
    EXPECT_EQ(records[0]["reason"], "start");
    EXPECT_EQ(records[0]["model"], "dac");
    EXPECT_EQ(records[0]["new-label"], guestOwner);
    EXPECT_EQ(records[0]["res"], "success");
    EXPECT_EQ(records[1]["reason"], "start");
    EXPECT_EQ(records[1]["model"], "selinux");
    EXPECT_EQ(records[1]["res"], "failed");
    EXPECT_EQ(records[2]["reason"], "stop");
    EXPECT_EQ(records[2]["model"], "dac");
    EXPECT_EQ(records[2]["old-disk"], disk);
    EXPECT_EQ(records[2]["old-label"], guestOwner);
    EXPECT_EQ(records[2]["new-label"], "+4242:+4343");
    EXPECT_EQ(records[2]["res"], "success");
  }

  Scratch scratch;
  std::string ramfs, disk, auditFile;
};

TEST_F(RamfsAuditTrail, WithFdpassNeverTheUndoneChownHasItsRestoreRecord) {
  Harness harness(scratch, testConfig({"dac", "selinux"}, "never"));
  harness.auditToFile(auditFile);
  // A static DAC label, so the record's owner is known before the prepare.
  Error error = harness.prepareFailure(domainXml(
      "g1", uuidFor(1), {{disk, "vda"}},
      "<seclabel type='static' model='dac' relabel='yes'><label>+1879048300:+1879048300"
      "</label></seclabel><seclabel type='dynamic' model='selinux'/>"));
  EXPECT_THAT(error.what(), HasSubstr("selinux driver"));
  EXPECT_EQ(fileState(disk), (FileState{4242, 4343, 0640, std::nullopt}));
  expectChownUndoneOnRecord(resourceRecords(auditFile), "+1879048300:+1879048300");
}

TEST_F(RamfsAuditTrail, WithFdpassAutoTheDiskIsServedByFdAndTheTrailSaysTheChownWasUndone) {
  Harness harness(scratch, testConfig({"dac", "selinux"}, "auto"));
  harness.auditToFile(auditFile);
  GuestRecord record = harness.prepare(domainXml(
      "g1", uuidFor(1), {{disk, "vda"}},
      "<seclabel type='static' model='dac' relabel='yes'><label>+1879048300:+1879048300"
      "</label></seclabel><seclabel type='dynamic' model='selinux'/>"));
  EXPECT_EQ(harness.store->fdPassedDisksOf(record.uuid).size(), 1u);
  EXPECT_EQ(fileState(disk), (FileState{4242, 4343, 0640, std::nullopt}));
  expectChownUndoneOnRecord(resourceRecords(auditFile), "+1879048300:+1879048300");
}

}  // namespace
}  // namespace seclabel::testing

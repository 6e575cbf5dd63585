// Restore puts back exactly the access-relevant metadata that was there:
// owner, group, mode, security.selinux byte for byte, the access and default
// POSIX ACLs (one the guest added goes), security.capability. Names the
// guest added are reported, with their count. A writable image that is
// setuid, setgid or has file capabilities is refused before anything
// changes.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint16_t kUserObj = 0x01, kUser = 0x02, kGroupObj = 0x04, kMask = 0x10, kOther = 0x20;

// A v2 security.capability value (struct vfs_cap_data, little endian)
// granting CAP_NET_RAW (bit 13) permitted.
std::string capNetRaw() {
  std::string bytes(20, '\0');
  bytes[3] = 0x02;  // magic_etc = VFS_CAP_REVISION_2 (0x02000000)
  bytes[5] = 0x20;  // data[0].permitted = 1 << 13
  return bytes;
}

class ExactRestore : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }

  // The guest's identity, from the live domain.
  GuestLabels guestOf(Harness& harness) { return labelsOf(harness.liveDomain("g1")); }

  Scratch scratch;
  const Original original;
};

TEST_F(ExactRestore, AnAclEntryTheGuestAddedIsRemoved) {
  std::string disk = scratch.makeFile("disk.img", original);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  // The guest owns its image: it grants itself and uid 1000 access that
  // would outlive the restore.
  GuestLabels guest = guestOf(harness);
  setRawXattr(disk, "system.posix_acl_access",
              posixAcl({{kUserObj, 6}, {kUser, 6, guest.uid}, {kUser, 6, 1000},
                        {kGroupObj, 4}, {kMask, 6}, {kOther, 0}}));
  harness.manager->restore("g1");
  EXPECT_EQ(rawXattr(disk, "system.posix_acl_access"), std::nullopt);
  EXPECT_EQ(fileState(disk), (FileState{original.uid, original.gid, original.mode,
                                        original.selinux}));
}

TEST_F(ExactRestore, APreexistingAclComesBackByteForByteAfterTheGuestChangedIt) {
  std::string disk = scratch.makeFile("disk.img", original);  // 0640
  const std::string acl = posixAcl(
      {{kUserObj, 6}, {kUser, 4, 4000}, {kGroupObj, 4}, {kMask, 4}, {kOther, 0}});
  setRawXattr(disk, "system.posix_acl_access", acl);
  const std::string before = *rawXattr(disk, "system.posix_acl_access");
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  GuestLabels guest = guestOf(harness);
  setRawXattr(disk, "system.posix_acl_access",
              posixAcl({{kUserObj, 7}, {kUser, 7, 4000}, {kUser, 6, guest.uid},
                        {kGroupObj, 7}, {kMask, 7}, {kOther, 7}}));
  harness.manager->restore("g1");
  EXPECT_EQ(rawXattr(disk, "system.posix_acl_access"), before);
  EXPECT_EQ(fileState(disk).mode, original.mode);
}

TEST_F(ExactRestore, ASelinuxValueWithoutTrailingNulStaysWithoutOne) {
  std::string shared = scratch.makeFile("shared.img", original);
  const std::string bare = "system_u:object_r:user_home_t:s0";  // no NUL
  setRawXattr(shared, "security.selinux", bare);
  std::string disk = scratch.makeFile("disk.img", original);
  setRawXattr(disk, "security.selinux", bare);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{disk, "vda"}, {.path = shared, .target = "vdb", .shareable = true}}));
  ASSERT_NE(rawXattr(disk, "security.selinux"), bare);
  harness.manager->restore("g1");
  EXPECT_EQ(rawXattr(disk, "security.selinux"), bare);
  EXPECT_EQ(rawXattr(shared, "security.selinux"), bare);
}

TEST_F(ExactRestore, FileCapabilitiesOfAReadOnlyImageAreKeptExactly) {
  std::string image = scratch.makeFile("tool.img", original);
  setRawXattr(image, "security.capability", capNetRaw());
  const auto before = rawXattr(image, "security.capability");
  ASSERT_TRUE(before);
  Harness harness(scratch);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{.path = image, .target = "vda", .readonly = true}}));
  harness.manager->restore("g1");
  EXPECT_EQ(rawXattr(image, "security.capability"), before);
}

TEST_F(ExactRestore, AHardLinkTheGuestAddedIsReportedWithItsCount) {
  std::string disk = scratch.makeFile("disk.img", original);
  Harness harness(scratch);
  harness.auditToFile(scratch.path("audit.jsonl"));
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  // The guest, owner of its image, links it into a directory it may write.
  std::filesystem::create_directories(scratch.path("guest-writable"));
  ASSERT_EQ(::link(disk.c_str(), scratch.path("guest-writable/kept").c_str()), 0);
  ASSERT_EQ(::link(disk.c_str(), scratch.path("guest-writable/kept2").c_str()), 0);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(disk), (FileState{original.uid, original.gid, original.mode,
                                        original.selinux}));
  EXPECT_THAT(harness.warnings,
              ::testing::Contains(::testing::AllOf(HasSubstr("3 hard links"), HasSubstr(disk))));
  std::ifstream audit(scratch.path("audit.jsonl"));
  std::string line;
  bool found = false;
  while (std::getline(audit, line)) {
    auto record = nlohmann::json::parse(line);
    if (record.value("reason", "") != "links") continue;
    found = true;
    EXPECT_EQ(record["path"], disk);
    EXPECT_EQ(record["nlink"], "3");
    EXPECT_EQ(record["res"], "failed");
  }
  EXPECT_TRUE(found) << "no reason=links record";
}

TEST_F(ExactRestore, AnOriginalRememberedBeforeExactXattrsIsRestoredAsBefore) {
  std::string disk = scratch.makeFile("disk.img", original);
  {
    Harness harness(scratch);
    harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));
  }
  // What a store migrated from schema 1 holds: no handle, no exact xattrs.
  CommandResult sql = runCommand({"/usr/bin/sqlite3", scratch.stateDir() + "/state.db",
                                  "UPDATE resources SET exact_xattrs = 0, handle_type = NULL, "
                                  "handle = NULL, handle_fsid = NULL, xattr_selinux = NULL"});
  ASSERT_EQ(sql.exitCode, 0) << sql.err;
  Harness harness(scratch);
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(disk), (FileState{original.uid, original.gid, original.mode,
                                        original.selinux}));
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

// ---- no privilege on guest-written content (exit 2, nothing changed) --------------

struct PrivilegedImage {
  const char* name;
  mode_t mode;
  bool capabilities;
  const char* expected;
};

class PrivilegedWritableImage : public ExactRestore,
                                public ::testing::WithParamInterface<PrivilegedImage> {};

TEST_P(PrivilegedWritableImage, IsRefusedAsAPrivateDiskAShareableDiskAndASerialLog) {
  Original look = original;
  look.uid = 0;
  look.gid = 0;
  look.mode = GetParam().mode;
  const std::vector<std::pair<const char*, std::function<std::string(const std::string&)>>> roles = {
      {"private", [](const std::string& p) { return domainXml("g1", uuidFor(1), {{p, "vda"}}); }},
      {"shareable",
       [](const std::string& p) {
         return domainXml("g1", uuidFor(1), {{.path = p, .target = "vda", .shareable = true}});
       }},
      {"serial",
       [](const std::string& p) {
         return domainXml("g1", uuidFor(1), {}, kDynamicSeclabels, {},
                          "    <serial type='file'><source path='" + p + "'/></serial>\n");
       }},
  };
  for (const auto& [role, xml] : roles) {
    for (const char* fdpass : {"never", "always"}) {
      std::string image = scratch.makeFile(std::string(role) + "-" + fdpass + ".img", look);
      if (GetParam().capabilities) setRawXattr(image, "security.capability", capNetRaw());
      FileState before = fileState(image);
      Harness harness(scratch, testConfig({"selinux", "dac"}, fdpass));
      Error error = harness.prepareFailure(xml(image));
      EXPECT_EQ(error.code(), ExitCode::InvalidInput) << role << " " << error.what();
      EXPECT_THAT(error.what(), HasSubstr(GetParam().expected)) << role;
      EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos);
      EXPECT_EQ(fileState(image), before) << role;
      EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1))) << role;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, PrivilegedWritableImage,
    ::testing::Values(PrivilegedImage{"Setuid", 04755, false, "is setuid (mode 4755)"},
                      PrivilegedImage{"Setgid", 02755, false, "is setgid (mode 2755)"},
                      PrivilegedImage{"FileCapabilities", 0755, true, "has file capabilities"}),
    [](const ::testing::TestParamInfo<PrivilegedImage>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace seclabel::testing

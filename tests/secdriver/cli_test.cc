// The seclabel command on real files: dominfo's exact text and JSON shape,
// and hostile input that must change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/secdriver/test_support.h"
#include "xml/xml.h"

namespace seclabel::testing {
namespace {

using ::testing::HasSubstr;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SECLABEL_REQUIRE_ROOT();
    config = scratch.path("seclabel.toml");
    writeTextFile(config, configToml({"selinux", "dac"}, "auto"));
    disk = scratch.makeQcow2("guest.qcow2", original);
    shared = scratch.makeFile("shared.img", original);
    xmlPath = scratch.path("guest.xml");
    writeTextFile(xmlPath, domainXml("cli-guest", uuidFor(7),
                                     {{disk, "vda"}, {.path = shared, .target = "vdb", .shareable = true}}));
  }

  CommandResult seclabel(const std::vector<std::string>& args) {
    return runSeclabel(config, scratch.stateDir(), args);
  }

  // Prepares the guest through the CLI; returns its live labels.
  GuestLabels prepareGuest() {
    CommandResult result = seclabel({"prepare", xmlPath});
    EXPECT_EQ(result.exitCode, 0) << result.err;
    return labelsOf(parseDomainXml(result.out, XmlForm::Live));
  }

  Scratch scratch;
  const Original original;
  std::string config, disk, shared, xmlPath;
};

TEST_F(CliTest, DominfoPrintsVirshsLayoutForEveryDriverInStackOrder) {
  GuestLabels labels = prepareGuest();
  std::string selinuxMode = toString(makeSystemSelinuxHost()->mode());
  CommandResult result = seclabel({"dominfo", "cli-guest"});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(result.out,
            "Name:           cli-guest\n"
            "UUID:           " + uuidFor(7) + "\n"
            "State:          prepared\n"
            "Security model: selinux\n"
            "Security DOI:   0\n"
            "Security label: " + labels.processContext + " (" + selinuxMode + ")\n"
            "Security model: dac\n"
            "Security DOI:   0\n"
            "Security label: +" + std::to_string(labels.uid) + ":+" + std::to_string(labels.gid) +
            " (enforcing)\n");
  EXPECT_THAT(labels.processContext,
              ::testing::MatchesRegex(R"(system_u:system_r:svirt_t:s0:c[0-9]+,c[0-9]+)"));
}

TEST_F(CliTest, DominfoByUuidPrintsTheSameAsByName) {
  prepareGuest();
  CommandResult byName = seclabel({"dominfo", "cli-guest"});
  CommandResult byUuid = seclabel({"dominfo", uuidFor(7)});
  ASSERT_EQ(byUuid.exitCode, 0) << byUuid.err;
  EXPECT_EQ(byUuid.out, byName.out);
}

TEST_F(CliTest, DominfoJsonHasOneObjectPerDriverInStackOrder) {
  GuestLabels labels = prepareGuest();
  CommandResult result = seclabel({"dominfo", "--json", "cli-guest"});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  nlohmann::json expected = {
      {"name", "cli-guest"},
      {"uuid", uuidFor(7)},
      {"state", "prepared"},
      {"pid", nullptr},
      {"cgroup", nullptr},  // [cgroup] devices = "off" (configToml)
      {"security",
       {{{"model", "selinux"},
         {"doi", "0"},
         {"label", labels.processContext},
         {"enforcement", toString(makeSystemSelinuxHost()->mode())}},
        {{"model", "dac"},
         {"doi", "0"},
         {"label", "+" + std::to_string(labels.uid) + ":+" + std::to_string(labels.gid)},
         {"enforcement", "enforcing"}}}},
      // The live XML's devices (hot-plugged ones included).
      {"devices",
       {{"disks",
         {{{"target", "vda"}, {"path", disk}, {"readonly", false}},
          {{"target", "vdb"}, {"path", shared}, {"readonly", false}}}},
        {"interfaces", nlohmann::json::array()}}}};
  EXPECT_EQ(nlohmann::json::parse(result.out), expected) << result.out;
}

TEST_F(CliTest, PrepareThenRestoreThroughTheCommandPutsBackEveryFile) {
  GuestLabels labels = prepareGuest();
  EXPECT_EQ(fileState(disk), (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));
  CommandResult result = seclabel({"restore", uuidFor(7)});
  EXPECT_EQ(result.exitCode, 0) << result.err;
  FileState untouched{original.uid, original.gid, original.mode, original.selinux};
  EXPECT_EQ(fileState(disk), untouched);
  EXPECT_EQ(fileState(shared), untouched);
  EXPECT_EQ(seclabel({"list", "--json"}).out, "[]\n");
}

TEST_F(CliTest, DominfoOfAnUnknownGuestExitsTwoNamingIt) {
  CommandResult result = seclabel({"dominfo", "no-such-guest"});
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_EQ(result.err, "seclabel: no such guest: no-such-guest\n");
  EXPECT_EQ(result.out, "");
}

TEST_F(CliTest, RestoreOfAnUnknownGuestExitsTwoAndChangesNothing) {
  GuestLabels labels = prepareGuest();
  FileState labeled = fileState(disk);
  CommandResult result = seclabel({"restore", "no-such-guest"});
  EXPECT_EQ(result.exitCode, 2);
  EXPECT_EQ(result.err, "seclabel: no such guest: no-such-guest\n");
  EXPECT_EQ(fileState(disk), labeled);
  EXPECT_EQ(labeled.uid, labels.uid);
}

TEST_F(CliTest, ADuplicatePrepareExitsThreeAndChangesNothing) {
  prepareGuest();
  FileState diskAfterFirst = fileState(disk), sharedAfterFirst = fileState(shared);
  std::string dominfoAfterFirst = seclabel({"dominfo", "cli-guest"}).out;

  CommandResult result = seclabel({"prepare", xmlPath});
  EXPECT_EQ(result.exitCode, 3);
  EXPECT_THAT(result.err, HasSubstr("cli-guest"));
  EXPECT_THAT(result.err, HasSubstr("already prepared"));
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(fileState(disk), diskAfterFirst);
  EXPECT_EQ(fileState(shared), sharedAfterFirst);
  EXPECT_EQ(seclabel({"dominfo", "cli-guest"}).out, dominfoAfterFirst);
}

TEST_F(CliTest, ADuplicatePrepareUnderAnotherNameWithTheSameUuidExitsThree) {
  prepareGuest();
  FileState diskAfterFirst = fileState(disk);
  std::string other = scratch.makeFile("other.img", original);
  std::string otherXml = scratch.path("other.xml");
  writeTextFile(otherXml, domainXml("renamed", uuidFor(7), {{other, "vda"}}));
  CommandResult result = seclabel({"prepare", otherXml});
  EXPECT_EQ(result.exitCode, 3) << result.err;
  EXPECT_EQ(fileState(other), (FileState{original.uid, original.gid, original.mode, original.selinux}));
  EXPECT_EQ(fileState(disk), diskAfterFirst);
}

}  // namespace
}  // namespace seclabel::testing

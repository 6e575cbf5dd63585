// A static DAC label takes neither the uid nor the gid of another guest:
// both are unique among guests (exit 3, nothing changed).
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "tests/secdriver/test_support.h"

namespace seclabel::testing {
namespace {

std::string staticDac(const std::string& label) {
  return "<seclabel type='static' model='dac' relabel='yes'><label>" +
         label + "</label></seclabel>";
}

class StaticDacLabel : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }
  Scratch scratch;
  Harness harness{scratch, testConfig({"dac"})};
  const Original look;

  DacLabel dacOf(const std::string& uuid) {
    return DacLabel::parse(*harness.liveDomain(uuid).seclabelFor("dac")->label);
  }

  // A static guest that must be refused: exit 3, its disk untouched, the
  // store holds nothing of it.
  void expectRefused(const std::string& label, int n, const std::string& why) {
    const std::string disk = scratch.makeFile("refused" + std::to_string(n) + ".img", look);
    const FileState before = fileState(disk);
    Error e = harness.prepareFailure(
        domainXml("refused" + std::to_string(n), uuidFor(100 + n), {{disk, "vda"}},
                  staticDac(label)));
    EXPECT_EQ(e.code(), ExitCode::NoIdentity) << label << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    EXPECT_EQ(fileState(disk), before) << label;
    // Other guests stay listed; of this one nothing is kept.
    EXPECT_FALSE(harness.store->findGuest(uuidFor(100 + n)).has_value()) << label;
    EXPECT_TRUE(harness.store->identitiesOf(uuidFor(100 + n)).empty()) << label;
    EXPECT_TRUE(harness.store->resourcesOf(uuidFor(100 + n)).empty()) << label;
    EXPECT_TRUE(harness.store->pendingIntentsOf(uuidFor(100 + n)).empty()) << label;
  }
};

TEST_F(StaticDacLabel, TheGidOfARunningDynamicGuestIsExit3) {
  const std::string disk = scratch.makeFile("dynamic.img", look);
  GuestRecord dynamic = harness.prepare(
      domainXml("dynamic", uuidFor(1), {{disk, "vda"}},
                "<seclabel type='dynamic' model='dac' relabel='yes'/>"));
  const DacLabel held = dacOf(dynamic.uuid);
  expectRefused("+5000:+" + std::to_string(held.gid), 1, "gid " + std::to_string(held.gid));
  expectRefused("+" + std::to_string(held.uid) + ":+5000", 2, "already held");
}

TEST_F(StaticDacLabel, TwoStaticGuestsNeverShareAUidOrAGid) {
  const std::string disk = scratch.makeFile("first.img", look);
  harness.prepare(domainXml("first", uuidFor(1), {{disk, "vda"}}, staticDac("+5000:+5001")));
  expectRefused("+5002:+5001", 1, "gid 5001");
  expectRefused("+5000:+5003", 2, "already held");
  // A guest whose uid and gid are one number holds it once; its own
  // prepare is not refused by itself.
  const std::string same = scratch.makeFile("same.img", look);
  EXPECT_NO_THROW(
      harness.prepare(domainXml("same", uuidFor(2), {{same, "vda"}}, staticDac("+6000:+6000"))));
}

// A dynamic allocation never hands out a uid whose group a static guest
// holds.
TEST_F(StaticDacLabel, ADynamicGuestIsNotGivenTheGroupOfAStaticOne) {
  const Config config = testConfig({"dac"});
  const uint64_t first = config.dac.range.first;
  const std::string disk = scratch.makeFile("static.img", look);
  harness.prepare(domainXml("static", uuidFor(1), {{disk, "vda"}},
                            staticDac("+5000:+" + std::to_string(first))));
  const std::string other = scratch.makeFile("dynamic.img", look);
  GuestRecord dynamic = harness.prepare(
      domainXml("dynamic", uuidFor(2), {{other, "vda"}},
                "<seclabel type='dynamic' model='dac' relabel='yes'/>"));
  const DacLabel got = dacOf(dynamic.uuid);
  EXPECT_NE(got.gid, first);
  EXPECT_NE(got.uid, first);
}

// uid 0 stays possible (libvirt allows it) but never silent: one warning
// line, and the dac machine-id record carries uid0=yes.
TEST_F(StaticDacLabel, ARootGuestWarnsAndItsRecordSaysUid0) {
  const std::string auditFile = scratch.path("audit.jsonl");
  harness.auditToFile(auditFile);
  struct Case {
    const char* what;
    std::string seclabels;
    std::string warning;
  };
  const std::vector<Case> cases = {
      {"none", "<seclabel type='none' model='dac'/>",
       "guest root0 runs as root (uid 0): its dac label is type='none'"},
      {"static", staticDac("+0:+0"), "guest root1 runs as root (uid 0): its dac label is static +0:+0"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    harness.warnings.clear();
    const std::string disk = scratch.makeFile("root" + std::to_string(i) + ".img", look);
    harness.prepare(domainXml("root" + std::to_string(i), uuidFor(10 + int(i)), {{disk, "vda"}},
                              cases[i].seclabels));
    EXPECT_EQ(harness.warnings, std::vector<std::string>{cases[i].warning}) << cases[i].what;
  }
  std::ifstream in(auditFile);
  std::string line;
  int uid0 = 0;
  while (std::getline(in, line)) {
    auto record = nlohmann::json::parse(line);
    if (record["type"] != "VIRT_MACHINE_ID") continue;
    EXPECT_EQ(record["model"], "dac") << line;
    EXPECT_EQ(record.value("uid0", ""), "yes") << line;
    uid0 += record.value("uid0", "") == "yes";
  }
  EXPECT_EQ(uid0, 2);
}

TEST_F(StaticDacLabel, ANonRootGuestNeitherWarnsNorSaysUid0) {
  const std::string auditFile = scratch.path("audit.jsonl");
  harness.auditToFile(auditFile);
  const std::string disk = scratch.makeFile("user.img", look);
  harness.warnings.clear();
  harness.prepare(domainXml("user", uuidFor(1), {{disk, "vda"}}, staticDac("+5000:+5000")));
  EXPECT_TRUE(harness.warnings.empty()) << harness.warnings.front();
  std::ifstream in(auditFile);
  std::string line;
  while (std::getline(in, line))
    EXPECT_FALSE(nlohmann::json::parse(line).contains("uid0")) << line;
}

// Every uuid is kept canonical (lower case, dashed); any form the XML
// accepts finds the guest (restore, dominfo, the broker: Store::findGuest).
using GuestLookup = StaticDacLabel;
TEST_F(GuestLookup, AUuidInAnyFormTheXmlAcceptsFindsTheGuest) {
  const std::string disk = scratch.makeFile("forms.img", look);
  const std::string uuid = "6f1c3c3e-3f0a-4a57-9d1e-0123456789ab";
  harness.prepare(domainXml("forms", "6F1C3C3E3F0A4A579D1E0123456789AB", {{disk, "vda"}},
                            staticDac("+5000:+5000")));
  ASSERT_TRUE(harness.store->findGuest(uuid).has_value()) << "stored in canonical form";
  for (const std::string& form : {uuid, std::string("6F1C3C3E-3F0A-4A57-9D1E-0123456789AB"),
                                 std::string("6f1c3c3e3f0a4a579d1e0123456789ab"),
                                 std::string("6f1c-3c3e-3f0a-4a57-9d1e-0123-4567-89ab")}) {
    auto found = harness.store->findGuest(form);
    ASSERT_TRUE(found.has_value()) << form;
    EXPECT_EQ(found->uuid, uuid) << form;
    EXPECT_EQ(harness.manager->info(form).record.uuid, uuid) << form;
  }
  EXPECT_FALSE(harness.store->findGuest("6f1c3c3e-3f0a-4a57-9d1e-0123456789ac").has_value());
  harness.manager->restore("6F1C3C3E3F0A4A579D1E0123456789AB");
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuid));
  EXPECT_EQ(fileState(disk).uid, look.uid);
}

}  // namespace
}  // namespace seclabel::testing

// A static DAC label takes neither the uid nor the gid of another guest:
// both are unique among guests (exit 3, nothing changed).
#include <string>

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

}  // namespace
}  // namespace seclabel::testing

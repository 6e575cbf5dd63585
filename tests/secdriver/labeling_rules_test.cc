// Each labeling rule of docs/labels.md ("Labels") on real files with a known original
// owner, mode and security.selinux, and the exact original back after restore.
#include <regex>

#include <gtest/gtest.h>

#include "alloc/mcs_encoding.h"
#include "tests/secdriver/test_support.h"
#include "xml/labels.h"

namespace seclabel::testing {
namespace {

const std::string kContentS0 = "system_u:object_r:virt_content_t:s0";
const std::string kImageS0 = "system_u:object_r:svirt_image_t:s0";

class LabelingRules : public ::testing::Test {
 protected:
  void SetUp() override { SECLABEL_REQUIRE_ROOT(); }
  Scratch scratch;
  Harness harness{scratch};
  const Original original;  // 4242:4343 0640 user_home_t
  FileState untouched() const { return {original.uid, original.gid, original.mode, original.selinux}; }
};

TEST_F(LabelingRules, WritablePrivateDiskIsChownedToTheGuestAndGetsItsImageLabel) {
  std::string disk = scratch.makeQcow2("private.qcow2", original);
  harness.prepare(domainXml("g1", uuidFor(1), {{disk, "vda"}}));

  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  std::smatch process, image;
  ASSERT_TRUE(std::regex_match(labels.processContext, process,
                               std::regex(R"(system_u:system_r:svirt_t:s0:(c\d+,c\d+))")))
      << labels.processContext;
  ASSERT_TRUE(std::regex_match(labels.imageContext, image,
                               std::regex(R"(system_u:object_r:svirt_image_t:s0:(c\d+,c\d+))")))
      << labels.imageContext;
  EXPECT_EQ(process[1], image[1]) << "the image carries the guest's own categories";
  EXPECT_EQ(labels.uid, labels.gid) << "gid equals uid without dac.gid_range";
  EXPECT_TRUE(harness.manager->config().dac.range.contains(labels.uid));
  // Mode is not ours to change.
  EXPECT_EQ(fileState(disk), (FileState{labels.uid, labels.gid, 0640, labels.imageContext}));
}

TEST_F(LabelingRules, ShareableDiskGetsTheImageTypeAtS0AndKeepsItsOwner) {
  std::string disk = scratch.makeFile("shared.img", original);
  harness.prepare(domainXml("g1", uuidFor(1), {{.path = disk, .target = "vda", .shareable = true}}));
  EXPECT_EQ(fileState(disk), (FileState{original.uid, original.gid, original.mode, kImageS0}));
}

TEST_F(LabelingRules, ReadOnlyDiskGetsContentAtS0AndKeepsItsOwner) {
  std::string disk = scratch.makeFile("cdrom.iso", original);
  harness.prepare(domainXml("g1", uuidFor(1), {{.path = disk, .target = "vda", .readonly = true}}));
  EXPECT_EQ(fileState(disk), (FileState{original.uid, original.gid, original.mode, kContentS0}));
}

TEST_F(LabelingRules, EveryLowerLayerOfABackingChainGetsContentAndKeepsItsOwner) {
  std::string base = scratch.makeQcow2("base.qcow2", original);
  std::string mid = scratch.makeQcow2("mid.qcow2", original, base);
  std::string top = scratch.makeQcow2("top.qcow2", original, mid);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{.path = top, .target = "vda", .backingChain = {mid, base}}}));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(top), (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));
  EXPECT_EQ(fileState(mid), (FileState{original.uid, original.gid, original.mode, kContentS0}));
  EXPECT_EQ(fileState(base), (FileState{original.uid, original.gid, original.mode, kContentS0}));
}

TEST_F(LabelingRules, KernelAndInitrdGetContentAndKeepTheirOwner) {
  std::string kernel = scratch.makeFile("vmlinuz", original);
  std::string initrd = scratch.makeFile("initrd.img", original);
  harness.prepare(domainXml("g1", uuidFor(1), {}, kDynamicSeclabels,
                            "    <kernel>" + kernel + "</kernel>\n    <initrd>" + initrd +
                                "</initrd>\n"));
  EXPECT_EQ(fileState(kernel), (FileState{original.uid, original.gid, original.mode, kContentS0}));
  EXPECT_EQ(fileState(initrd), (FileState{original.uid, original.gid, original.mode, kContentS0}));
}

TEST_F(LabelingRules, SerialLogPathIsLabeledLikeAPrivateDisk) {
  std::string log = scratch.makeFile("serial.log", original);
  harness.prepare(domainXml("g1", uuidFor(1), {}, kDynamicSeclabels, {},
                            "    <serial type='file'><source path='" + log +
                                "'/><target port='0'/></serial>\n"));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(log), (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));
}

TEST_F(LabelingRules, DomainLevelRelabelNoLeavesEveryResourceAlone) {
  std::string disk = scratch.makeFile("disk.img", original);
  harness.prepare(domainXml(
      "g1", uuidFor(1), {{disk, "vda"}},
      "<seclabel type='static' model='selinux' relabel='no'>"
      "<label>system_u:system_r:svirt_t:s0:c10,c20</label></seclabel>"
      "<seclabel type='static' model='dac' relabel='no'><label>+1879048300:+1879048300</label>"
      "</seclabel>"));
  EXPECT_EQ(fileState(disk), untouched());
}

TEST_F(LabelingRules, DeviceLevelRelabelNoLeavesThatSourceAlone) {
  std::string skipped = scratch.makeFile("skipped.img", original);
  std::string labeled = scratch.makeFile("labeled.img", original);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{.path = skipped, .target = "vda",
                              .sourceSeclabels = "<seclabel relabel='no'/>"},
                             {labeled, "vdb"}}));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(skipped), untouched());
  EXPECT_EQ(fileState(labeled),
            (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));
}

TEST_F(LabelingRules, DeviceLevelRelabelNoForOneModelSkipsOnlyThatModel) {
  std::string disk = scratch.makeFile("disk.img", original);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{.path = disk, .target = "vda",
                              .sourceSeclabels = "<seclabel model='dac' relabel='no'/>"}}));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(disk), (FileState{original.uid, original.gid, original.mode, labels.imageContext}));
}

TEST_F(LabelingRules, DeviceLevelLabelReplacesTheImageLabelForThatSource) {
  const std::string deviceLabel = "system_u:object_r:svirt_image_t:s0:c3,c4";
  std::string custom = scratch.makeFile("custom.img", original);
  std::string other = scratch.makeFile("other.img", original);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{.path = custom, .target = "vda",
                              .sourceSeclabels = "<seclabel model='selinux' relabel='yes'><label>" +
                                                 deviceLabel + "</label></seclabel>"},
                             {other, "vdb"}}));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  ASSERT_NE(labels.imageContext, deviceLabel);
  EXPECT_EQ(fileState(custom), (FileState{labels.uid, labels.gid, original.mode, deviceLabel}));
  EXPECT_EQ(fileState(other), (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));
}

TEST_F(LabelingRules, StaticLabelsAreAppliedAsGivenAndReserved) {
  std::string disk = scratch.makeFile("disk.img", original);
  GuestRecord record = harness.prepare(domainXml(
      "g1", uuidFor(1), {{disk, "vda"}},
      "<seclabel type='static' model='selinux' relabel='yes'>"
      "<label>system_u:system_r:svirt_t:s0:c7,c9</label></seclabel>"
      "<seclabel type='static' model='dac' relabel='yes'><label>+1879048300:+1879048301</label>"
      "</seclabel>"));
  EXPECT_EQ(fileState(disk), (FileState{1879048300, 1879048301, original.mode,
                                        "system_u:object_r:svirt_image_t:s0:c7,c9"}));
  auto mcsHolder = harness.store->holderOf(IdentityKind::Mcs, encodeMcsPair(7, 9));
  auto dacHolder = harness.store->holderOf(IdentityKind::Dac, 1879048300);
  ASSERT_TRUE(mcsHolder.has_value());
  ASSERT_TRUE(dacHolder.has_value());
  EXPECT_EQ(mcsHolder->guestUuid, record.uuid);
  EXPECT_EQ(dacHolder->guestUuid, record.uuid);
}

TEST_F(LabelingRules, AStaticLabelHeldByAnotherGuestIsRefused) {
  const std::string seclabels =
      "<seclabel type='static' model='selinux' relabel='yes'>"
      "<label>system_u:system_r:svirt_t:s0:c7,c9</label></seclabel>"
      "<seclabel type='dynamic' model='dac'/>";
  std::string first = scratch.makeFile("first.img", original);
  std::string second = scratch.makeFile("second.img", original);
  harness.prepare(domainXml("g1", uuidFor(1), {{first, "vda"}}, seclabels));
  Error error = harness.prepareFailure(domainXml("g2", uuidFor(2), {{second, "vda"}}, seclabels));
  EXPECT_EQ(error.code(), ExitCode::NoIdentity) << error.what();
  EXPECT_EQ(fileState(second), untouched());
}

TEST_F(LabelingRules, ASymlinkNamedInTheXmlLabelsItsTarget) {
  std::string target = scratch.makeFile("real.img", original);
  std::string link = scratch.path("link.img");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  GuestRecord record = harness.prepare(domainXml("g1", uuidFor(1), {{link, "vda"}}));
  GuestLabels labels = labelsOf(harness.liveDomain("g1"));
  EXPECT_EQ(fileState(target), (FileState{labels.uid, labels.gid, original.mode, labels.imageContext}));
  auto held = harness.store->resourcesOf(record.uuid);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].original.path, target) << "the target is what is remembered";
  EXPECT_EQ(fileState(link).uid, 0u) << "the link itself is not chowned";
}

// ---- restore ------------------------------------------------------------------

TEST_F(LabelingRules, RestorePutsBackOwnerModeWithSetuidSetgidAndTheXattr) {
  // A writable image may not be setuid or setgid (RefusesAWritableImage...
  // in failure_test.cc); a read-only one may, and keeps those bits.
  Original setgid = original;
  setgid.mode = 06755;
  Original plain = original;
  plain.mode = 0751;
  std::string disk = scratch.makeFile("disk.img", plain);
  std::string readonly = scratch.makeFile("ro.img", setgid);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{disk, "vda"}, {.path = readonly, .target = "vdb", .readonly = true}}));
  ASSERT_NE(fileState(disk), (FileState{plain.uid, plain.gid, plain.mode, plain.selinux}));
  ASSERT_NE(fileState(readonly), (FileState{setgid.uid, setgid.gid, setgid.mode, setgid.selinux}));
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(disk), (FileState{plain.uid, plain.gid, 0751, plain.selinux}));
  EXPECT_EQ(fileState(readonly), (FileState{setgid.uid, setgid.gid, 06755, setgid.selinux}));
  EXPECT_TRUE(storeHoldsNothingFor(*harness.store, uuidFor(1)));
}

TEST_F(LabelingRules, RestoreRemovesALabelTheFileDidNotHave) {
  Original bare = original;
  bare.selinux = std::nullopt;
  std::string disk = scratch.makeFile("bare.img", bare);
  std::string shared = scratch.makeFile("shared.img", bare);
  harness.prepare(domainXml("g1", uuidFor(1),
                            {{disk, "vda"}, {.path = shared, .target = "vdb", .shareable = true}}));
  ASSERT_TRUE(selinuxXattr(disk).has_value());
  ASSERT_TRUE(selinuxXattr(shared).has_value());
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(disk), (FileState{bare.uid, bare.gid, bare.mode, std::nullopt}));
  EXPECT_EQ(fileState(shared), (FileState{bare.uid, bare.gid, bare.mode, std::nullopt}));
}

TEST_F(LabelingRules, RestoreOfABackingChainPutsBackEveryLayer) {
  Original rootOwned{0, 0, 0644, std::string("system_u:object_r:default_t:s0")};
  std::string base = scratch.makeQcow2("base.qcow2", rootOwned);
  std::string top = scratch.makeQcow2("top.qcow2", original, base);
  harness.prepare(domainXml("g1", uuidFor(1), {{.path = top, .target = "vda", .backingChain = {base}}}));
  harness.manager->restore("g1");
  EXPECT_EQ(fileState(top), untouched());
  EXPECT_EQ(fileState(base), (FileState{0, 0, 0644, rootOwned.selinux}));
}

}  // namespace
}  // namespace seclabel::testing

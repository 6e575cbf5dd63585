// Label parsers: DAC user:group, SELinux contexts, MLS ranges, MCS pairs.
#include "xml/labels.h"

#include "xml_test_util.h"

namespace seclabel {
namespace {

TEST(DacLabelSpec, ReadsNumericIds) {
  auto spec = DacLabelSpec::parse("+1879048193:+1879048194");
  EXPECT_EQ(spec.user.number, 1879048193u);
  EXPECT_EQ(spec.group.number, 1879048194u);
  EXPECT_TRUE(spec.user.name.empty());
}

TEST(DacLabelSpec, ReadsNamesWithoutResolvingThem) {
  auto spec = DacLabelSpec::parse("no-such-user-x:no-such-group-y");
  EXPECT_FALSE(spec.user.number);
  EXPECT_EQ(spec.user.name, "no-such-user-x");
  EXPECT_EQ(spec.group.name, "no-such-group-y");
}

TEST(DacLabelSpec, ReadsPlainDigitsAsNumbers) {
  auto spec = DacLabelSpec::parse("107:108");
  EXPECT_EQ(spec.user.number, 107u);
  EXPECT_EQ(spec.group.number, 108u);
}

TEST(DacLabelSpec, AcceptsLargestValidId) {
  EXPECT_EQ(DacLabelSpec::parse("+4294967294:+0").user.number, 4294967294u);
}

TEST(DacLabelSpec, RejectsMissingGroup) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("107"), "DAC label '107' is not user:group or +uid:+gid");
}

TEST(DacLabelSpec, RejectsThreeParts) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("a:b:c"), "is not user:group or +uid:+gid");
}

TEST(DacLabelSpec, RejectsEmptyUser) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse(":kvm"), "DAC label ':kvm': the user is empty");
}

TEST(DacLabelSpec, RejectsEmptyGroup) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+5:"), "DAC label '+5:': the group is empty");
}

TEST(DacLabelSpec, RejectsNegativeNumber) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("-1:+5"), "user '-1' is negative");
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+5:+-7"), "group '+-7' is negative");
}

TEST(DacLabelSpec, RejectsMinusOneAsUnsigned) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+4294967295:+5"),
                       "user 4294967295 is reserved ((uid_t)-1 means 'unchanged')");
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+5:4294967295"),
                       "group 4294967295 is reserved ((gid_t)-1");
}

TEST(DacLabelSpec, RejectsIdsBeyond32Bits) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+4294967296:+1"), "user '+4294967296' is out of range");
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+1:+99999999999999999999999"), "is out of range");
}

TEST(DacLabelSpec, RejectsNonNumberAfterPlus) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+12a:+1"), "user '+12a' is not a number");
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("+:+1"), "user '+' is not a number");
}

TEST(DacLabelSpec, RejectsSpaceInName) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("qemu user:kvm"),
                       "user name 'qemu user' contains an invalid character");
}

TEST(DacLabelSpec, RejectsControlCharacter) {
  EXPECT_INVALID_INPUT(DacLabelSpec::parse("qemu:kvm\n"),
                       "DAC label contains the control character 0x0a");
}

TEST(DacLabel, FormatsLibvirtLiveForm) {
  EXPECT_EQ((DacLabel{1879048193, 1879048194}).format(), "+1879048193:+1879048194");
}

TEST(DacLabel, ResolvesNumbersWithoutNss) {
  EXPECT_EQ(DacLabel::parse("+1879048193:+42"), (DacLabel{1879048193, 42}));
}

TEST(DacLabel, ResolvesRootByName) {
  EXPECT_EQ(DacLabel::parse("root:root"), (DacLabel{0, 0}));
}

TEST(DacLabel, RejectsUnknownUser) {
  EXPECT_INVALID_INPUT(DacLabel::parse("no-such-user-seclabel:root"),
                       "no such user 'no-such-user-seclabel'");
}

TEST(DacLabel, RejectsUnknownGroup) {
  EXPECT_INVALID_INPUT(DacLabel::parse("root:no-such-group-seclabel"),
                       "no such group 'no-such-group-seclabel'");
}

TEST(CheckLabelText, AcceptsLabelOfExactlyTheLimit) {
  checkLabelText(std::string(kMaxLabelLength, 'a'), "label");
}

TEST(CheckLabelText, RejectsLabelOverTheLimit) {
  EXPECT_INVALID_INPUT(checkLabelText(std::string(kMaxLabelLength + 1, 'a'), "label"),
                       "label is 4097 bytes long, more than the limit of 4096");
}

TEST(CheckLabelText, RejectsEmptyLabel) {
  EXPECT_INVALID_INPUT(checkLabelText("", "imagelabel"), "imagelabel is empty");
}

TEST(CheckLabelText, RejectsControlCharacters) {
  EXPECT_INVALID_INPUT(checkLabelText("a\tb", "label"), "label contains the control character 0x09");
  EXPECT_INVALID_INPUT(checkLabelText("a\x7f", "label"), "control character 0x7f");
}

TEST(McsPair, KeepsAscendingPair) {
  McsPair pair(3, 700);
  EXPECT_EQ(pair.first(), 3u);
  EXPECT_EQ(pair.second(), 700u);
  EXPECT_EQ(pair.format(), "c3,c700");
}

TEST(McsPair, RejectsEqualCategories) {
  EXPECT_INVALID_INPUT(McsPair(5, 5), "MCS category pair c5,c5 must have the first below the second");
}

TEST(McsPair, RejectsDescendingCategories) {
  EXPECT_INVALID_INPUT(McsPair(9, 2), "c9,c2");
}

TEST(CheckMlsRange, AcceptsTheLevelsLibvirtWrites) {
  for (const char* level : {"s0", "s0:c1,c2", "s0-s0:c0.c1023", "s0:c0.c5,c9", "s1-s15:c0.c1023",
                            "s0:c1023"}) {
    SCOPED_TRACE(level);
    checkMlsRange(level);
  }
}

TEST(CheckMlsRange, RejectsMissingSensitivity) {
  EXPECT_INVALID_INPUT(checkMlsRange("c1,c2"), "MLS range 'c1,c2': 'c1,c2' is not a sensitivity");
}

TEST(CheckMlsRange, RejectsEmptyCategorySet) {
  EXPECT_INVALID_INPUT(checkMlsRange("s0:"), "empty category set after ':'");
}

TEST(CheckMlsRange, RejectsMalformedCategory) {
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c1,x2"), "'x2' is not a category");
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c1,,c2"), "'' is not a category");
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c01"), "'c01' is not a category");
}

TEST(CheckMlsRange, RejectsDownwardCategoryRange) {
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c9.c3"), "category range 'c9.c3' must go upwards");
}

TEST(CheckMlsRange, RejectsUnorderedOrRepeatedCategories) {
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c5,c1"), "categories must be listed once each, in ascending order");
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c1,c1"), "in ascending order");
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c0.c9,c5"), "in ascending order");
}

TEST(CheckMlsRange, RejectsHighLevelThatDoesNotDominate) {
  EXPECT_INVALID_INPUT(checkMlsRange("s1-s0"), "the high level does not dominate the low level");
  EXPECT_INVALID_INPUT(checkMlsRange("s0:c0.c20-s0:c0.c10"), "does not dominate");
}

TEST(CheckMlsRange, RejectsHugeNumbers) {
  EXPECT_INVALID_INPUT(checkMlsRange("s99999999999"), "is not a sensitivity");
}

TEST(SelinuxContext, SplitsUserRoleTypeLevel) {
  auto context = SelinuxContext::parse("system_u:system_r:svirt_t:s0-s0:c0.c1023");
  EXPECT_EQ(context.user, "system_u");
  EXPECT_EQ(context.role, "system_r");
  EXPECT_EQ(context.type, "svirt_t");
  EXPECT_EQ(context.level, "s0-s0:c0.c1023");
  EXPECT_EQ(context.format(), "system_u:system_r:svirt_t:s0-s0:c0.c1023");
}

TEST(SelinuxContext, RejectsContextWithoutLevel) {
  EXPECT_INVALID_INPUT(SelinuxContext::parse("system_u:system_r:svirt_t"),
                       "SELinux label 'system_u:system_r:svirt_t' is not user:role:type:level");
}

TEST(SelinuxContext, RejectsEmptyPart) {
  EXPECT_INVALID_INPUT(SelinuxContext::parse("system_u::svirt_t:s0"), "the role is empty");
}

TEST(SelinuxContext, RejectsInvalidCharacterInType) {
  EXPECT_INVALID_INPUT(SelinuxContext::parse("system_u:system_r:svirt t:s0"),
                       "type 'svirt t' contains an invalid character");
}

TEST(SelinuxContext, RejectsBadLevelNamingTheLabel) {
  EXPECT_INVALID_INPUT(SelinuxContext::parse("u:r:t:s0:c2.c1"),
                       "SELinux label 'u:r:t:s0:c2.c1': MLS range 's0:c2.c1': category range");
}

TEST(SelinuxContext, RejectsOverlongContext) {
  EXPECT_INVALID_INPUT(SelinuxContext::parse("u:r:t:s0" + std::string(5000, '0')),
                       "SELinux label is 5008 bytes long");
}

TEST(SelinuxContext, ReplacesLevelWithCategoryPair) {
  auto context = SelinuxContext::parse("system_u:system_r:svirt_t:s0");
  EXPECT_EQ(context.withCategories(McsPair(4, 11)).format(), "system_u:system_r:svirt_t:s0:c4,c11");
  EXPECT_EQ(SelinuxContext::parse("u:r:t:s0:c1,c2").atSystemLow().format(), "u:r:t:s0");
}

TEST(SelinuxContext, ExtractsMcsPairOnlyFromExactPairLevel) {
  EXPECT_EQ(SelinuxContext::parse("u:r:t:s0:c4,c11").mcsPair(), McsPair(4, 11));
  EXPECT_FALSE(SelinuxContext::parse("u:r:t:s0").mcsPair());
  EXPECT_FALSE(SelinuxContext::parse("u:r:t:s0:c4").mcsPair());
  EXPECT_FALSE(SelinuxContext::parse("u:r:t:s0:c4,c5,c6").mcsPair());
  EXPECT_FALSE(SelinuxContext::parse("u:r:t:s0-s0:c0.c1023").mcsPair());
}

}  // namespace
}  // namespace seclabel

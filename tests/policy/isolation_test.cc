// Guest isolation: own image yes, other guests' images no, shareable yes.
#include "policy/isolation.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "tests/policy/test_paths.h"

namespace seclabel {
namespace {

using testing::kTestPolicy;

const std::string kShareable = "system_u:object_r:svirt_image_t:s0";

IsolationOptions withShareable() {
  IsolationOptions options;
  options.shareableImageContext = kShareable;
  return options;
}

TEST(SyntheticGuests, HaveDistinctPairsOnTheConfiguredContexts) {
  auto guests = makeSyntheticGuests(500, SelinuxConfig{});
  ASSERT_EQ(guests.size(), 500u);
  std::set<std::string> images;
  for (const auto& guest : guests) images.insert(guest.imageContext);
  EXPECT_EQ(images.size(), 500u);
  EXPECT_EQ(guests[0].name, "synthetic-1");
  EXPECT_EQ(guests[0].processContext, "system_u:system_r:svirt_t:s0:c0,c1");
  EXPECT_EQ(guests[0].imageContext, "system_u:object_r:svirt_image_t:s0:c0,c1");
  EXPECT_EQ(guests[2].processContext, "system_u:system_r:svirt_t:s0:c1,c2");
}

TEST(SyntheticGuests, StayInsideTheCategoryRange) {
  SelinuxConfig selinux;
  selinux.categories = CategoryRange{10, 13};  // 6 pairs
  auto guests = makeSyntheticGuests(6, selinux);
  EXPECT_EQ(guests.front().processContext, "system_u:system_r:svirt_t:s0:c10,c11");
  EXPECT_EQ(guests.back().processContext, "system_u:system_r:svirt_t:s0:c12,c13");
  try {
    makeSyntheticGuests(7, selinux);
    FAIL() << "7 guests from 6 pairs";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::NoIdentity);
  }
}

TEST(Isolation, FiveHundredGuestsAreIsolatedUnderTheTestPolicy) {
  auto report = checkIsolation(kTestPolicy, makeSyntheticGuests(500, SelinuxConfig{}),
                               withShareable());
  for (const auto& finding : report.findings) {
    ADD_FAILURE() << findingKindName(finding.kind) << " " << finding.subject << " -> "
                  << finding.object << " " << finding.permissions;
    break;
  }
  EXPECT_TRUE(report.isolated());
  EXPECT_FALSE(report.sampled);
  EXPECT_EQ(report.crossPairsChecked, 500u * 499u);
  // every cross pair, every own image, every guest against the shareable image
  EXPECT_EQ(report.pairsChecked, 500u * 499u + 500u + 500u);
}

TEST(Isolation, EveryCrossPairLeaksWithoutTheMcsConstraints) {
  auto report = checkIsolation(testing::kTestPolicyWithoutMcs,
                               makeSyntheticGuests(20, SelinuxConfig{}), withShareable());
  ASSERT_EQ(report.findings.size(), 20u * 19u);
  for (const auto& finding : report.findings) {
    EXPECT_EQ(finding.kind, FindingKind::CrossGuestAccess);
  }
  EXPECT_EQ(report.findings[0].permissions, "read,write,open");
}

TEST(Isolation, TwoGuestsWithTheSameLabelLeakToEachOther) {
  auto guests = makeSyntheticGuests(3, SelinuxConfig{});
  guests[2].processContext = guests[0].processContext;
  guests[2].imageContext = guests[0].imageContext;
  auto report = checkIsolation(kTestPolicy, guests);
  ASSERT_EQ(report.findings.size(), 2u);
  EXPECT_EQ(report.findings[0].kind, FindingKind::CrossGuestAccess);
  EXPECT_EQ(report.findings[0].subject, "synthetic-1");
  EXPECT_EQ(report.findings[0].object, "synthetic-3");
}

TEST(Isolation, GuestWithCategoriesAboveItsImageIsALeakNotOwnDenied) {
  // A guest at s0:c0.c1023 dominates everybody: it reads every image.
  auto guests = makeSyntheticGuests(4, SelinuxConfig{});
  guests[0].processContext = "system_u:system_r:svirt_t:s0-s0:c0.c1023";
  auto report = checkIsolation(kTestPolicy, guests);
  ASSERT_EQ(report.findings.size(), 3u);
  for (const auto& finding : report.findings) {
    EXPECT_EQ(finding.kind, FindingKind::CrossGuestAccess);
    EXPECT_EQ(finding.subject, "synthetic-1");
  }
}

TEST(Isolation, ImageTypeTheGuestCannotUseIsOwnImageDenied) {
  auto guests = makeSyntheticGuests(2, SelinuxConfig{});
  guests[1].imageContext = "system_u:object_r:virt_content_t:s0:c0,c2";
  auto report = checkIsolation(kTestPolicy, guests);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, FindingKind::OwnImageDenied);
  EXPECT_EQ(report.findings[0].permissions, "write");
}

TEST(Isolation, UnknownContextIsAFinding) {
  auto guests = makeSyntheticGuests(2, SelinuxConfig{});
  guests[1].processContext = "system_u:system_r:nope_t:s0:c0,c2";
  auto report = checkIsolation(kTestPolicy, guests);
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].kind, FindingKind::InvalidContext);
  EXPECT_EQ(report.findings[0].subject, "synthetic-2");
}

TEST(Isolation, BeyondTheLimitCrossPairsAreSampledReproducibly) {
  IsolationOptions options = withShareable();
  options.allPairsGuestLimit = 50;
  options.sampledCrossPairs = 1000;
  auto guests = makeSyntheticGuests(60, SelinuxConfig{});
  auto report = checkIsolation(kTestPolicy, guests, options);
  EXPECT_TRUE(report.sampled);
  EXPECT_EQ(report.crossPairsChecked, 1000u);
  EXPECT_EQ(report.pairsChecked, 1000u + 60u + 60u);
  EXPECT_TRUE(report.isolated());
  // A sample still finds a leak that is everywhere.
  auto leaky = checkIsolation(testing::kTestPolicyWithoutMcs, guests, options);
  EXPECT_EQ(leaky.findings.size(), 1000u);
}

TEST(Isolation, DebianRefpolicyKeepsSyntheticGuestsApart) {
  if (!testing::debianPolicyInstalled()) {
    GTEST_SKIP() << testing::kDebianPolicy << " absent (package selinux-policy-default)";
  }
  auto report = checkIsolation(testing::kDebianPolicy, makeSyntheticGuests(100, SelinuxConfig{}),
                               withShareable());
  for (const auto& finding : report.findings) {
    ADD_FAILURE() << findingKindName(finding.kind) << " " << finding.subject << " -> "
                  << finding.object << " " << finding.permissions;
    break;
  }
  EXPECT_TRUE(report.isolated());
}

}  // namespace
}  // namespace seclabel

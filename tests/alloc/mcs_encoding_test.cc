#include "alloc/mcs_encoding.h"

#include <gtest/gtest.h>

#include <set>

#include "alloc/allocation_space.h"
#include "core/error.h"

namespace seclabel {
namespace {

TEST(McsEncoding, NumbersPairsColumnByColumn) {
  EXPECT_EQ(encodeMcsPair(0, 1), 0u);
  EXPECT_EQ(encodeMcsPair(0, 2), 1u);
  EXPECT_EQ(encodeMcsPair(1, 2), 2u);
  EXPECT_EQ(encodeMcsPair(0, 3), 3u);
  EXPECT_EQ(encodeMcsPair(1022, 1023), 523775u);
}

TEST(McsEncoding, DecodesEveryCodeOfTheDefaultRangeBackToItsPair) {
  uint64_t code = 0;
  for (uint32_t second = 1; second <= 1023; ++second) {
    for (uint32_t first = 0; first < second; ++first, ++code) {
      ASSERT_EQ(encodeMcsPair(first, second), code);
      ASSERT_EQ(decodeMcsPair(code), (McsPair(first, second))) << code;
    }
  }
  EXPECT_EQ(code, (CategoryRange{0, 1023}.pairCount()));
}

TEST(McsEncoding, RoundTripsAtTheLargestCategories) {
  for (uint32_t second : {kMaxMcsCategory - 1, kMaxMcsCategory}) {
    for (uint32_t first : {0u, 1u, second / 2, second - 1}) {
      EXPECT_EQ(decodeMcsPair(encodeMcsPair(first, second)), (McsPair(first, second)));
    }
  }
}

TEST(McsEncoding, RefusesAPairThatIsNotAscending) {
  EXPECT_THROW(encodeMcsPair(5, 5), Error);
  EXPECT_THROW(encodeMcsPair(7, 3), Error);
}

TEST(McsEncoding, RefusesCategoriesAndCodesBeyondTheEncoding) {
  EXPECT_THROW(encodeMcsPair(0, kMaxMcsCategory + 1), Error);
  EXPECT_THROW(decodeMcsPair(encodeMcsPair(kMaxMcsCategory - 1, kMaxMcsCategory) + 1), Error);
}

TEST(AllocationSpace, DefaultMcsRangeIsOneIntervalOfAllPairs) {
  AllocationSpace space = AllocationSpace::mcs(CategoryRange{0, 1023});
  EXPECT_EQ(space.size(), 523776u);
  ASSERT_EQ(space.intervals().size(), 1u);
  EXPECT_EQ(space.intervals()[0], (IdInterval{0, 523775}));
  EXPECT_EQ(space.description(), "c0.c1023");
}

TEST(AllocationSpace, McsRangeNotStartingAtZeroHoldsExactlyItsPairs) {
  CategoryRange range{10, 20};
  AllocationSpace space = AllocationSpace::mcs(range);
  EXPECT_EQ(space.size(), range.pairCount());
  std::set<uint64_t> expected;
  for (uint32_t b = 11; b <= 20; ++b)
    for (uint32_t a = 10; a < b; ++a) expected.insert(encodeMcsPair(a, b));
  std::set<uint64_t> members;
  for (uint64_t code = 0; code < encodeMcsPair(0, 25); ++code)
    if (space.contains(code)) members.insert(code);
  EXPECT_EQ(members, expected);
}

TEST(AllocationSpace, FirstAtOrAfterJumpsOverHolesBetweenIntervals) {
  AllocationSpace space = AllocationSpace::mcs(CategoryRange{10, 20});
  // (10,11) is the first pair; the next is (10,12), skipping (0..9, 12).
  EXPECT_EQ(space.firstId(), encodeMcsPair(10, 11));
  EXPECT_EQ(space.firstAtOrAfter(encodeMcsPair(10, 11) + 1), encodeMcsPair(10, 12));
  EXPECT_EQ(space.firstAtOrAfter(encodeMcsPair(19, 20) + 1), std::nullopt);
}

TEST(AllocationSpace, McsRangeNeedsTwoCategories) {
  EXPECT_THROW(AllocationSpace::mcs(CategoryRange{5, 5}), Error);
}

TEST(AllocationSpace, DacRangeComesFromTheConfiguredRange) {
  DacConfig config;
  config.range = IdRange::parse("1879048192-1879048255", "dac.range");
  AllocationSpace space = AllocationSpace::dac(config);
  EXPECT_EQ(space.size(), 64u);
  EXPECT_EQ(space.description(), "1879048192-1879048255");
  EXPECT_TRUE(space.contains(1879048192));
  EXPECT_TRUE(space.contains(1879048255));
  EXPECT_FALSE(space.contains(1879048256));
  EXPECT_NE(space.key(), AllocationSpace::mcs(CategoryRange{0, 1023}).key());
}

TEST(AllocationSpace, DacGidFollowsUidOrTheSameOffsetIntoGidRange) {
  DacConfig config;
  config.range = IdRange{1000000, 1000099};
  EXPECT_EQ(dacLabelForIdentity(config, 1000005), (DacLabel{1000005, 1000005}));
  config.gidRange = IdRange{2000000, 2000099};
  EXPECT_EQ(dacLabelForIdentity(config, 1000005), (DacLabel{1000005, 2000005}));
}

TEST(AllocationSpace, DacExcludesIdsKnownToPasswdOrGroup) {
  ASSERT_TRUE(uidExists(0));
  ASSERT_TRUE(gidExists(0));
  DacConfig config;
  config.range = IdRange{0, 10};
  AllocationSpace space = AllocationSpace::dac(config);
  EXPECT_TRUE(space.isExcluded(0));  // root
  EXPECT_FALSE(uidExists(1879048250));
  EXPECT_FALSE(gidExists(1879048250));
}

}  // namespace
}  // namespace seclabel

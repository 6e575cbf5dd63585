// The refusal audit rate limit on its own, with time passed in: per-uid
// token buckets, the bucket all non-root uids share, root never limited,
// and summaries that account for every record left out.
#include "fdpass/refusal_audit_limiter.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace seclabel {
namespace {

using Clock = RefusalAuditLimiter::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uid_t kUser = 1001, kOther = 1002;

RefusalAuditLimits limits(double rate, std::uint32_t burst, milliseconds interval = seconds(10)) {
  return {rate, burst, interval};
}

int admitted(RefusalAuditLimiter& limiter, uid_t uid, int tries, Clock::time_point at) {
  int yes = 0;
  for (int i = 0; i < tries; ++i) yes += limiter.admit(uid, at);
  return yes;
}

TEST(RefusalAuditLimiter, AUidGetsItsBurstThenNothingUntilTheBucketRefills) {
  RefusalAuditLimiter limiter(limits(2, 5));
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(admitted(limiter, kUser, 100, t0), 5);
  EXPECT_EQ(admitted(limiter, kUser, 100, t0 + milliseconds(499)), 0);
  EXPECT_EQ(admitted(limiter, kUser, 100, t0 + milliseconds(500)), 1);  // 2 per second
  EXPECT_EQ(admitted(limiter, kUser, 100, t0 + seconds(60)), 5);        // never above the burst
}

TEST(RefusalAuditLimiter, OneUidsFloodDoesNotUseUpAnotherUidsBucket) {
  RefusalAuditLimiter limiter(limits(1, 3));
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(admitted(limiter, kUser, 1000, t0), 3);
  EXPECT_EQ(admitted(limiter, kOther, 10, t0), 3);
}

TEST(RefusalAuditLimiter, RootIsNeverLimitedNorCounted) {
  RefusalAuditLimiter limiter(limits(0.001, 1));
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(admitted(limiter, 0, 10000, t0), 10000);
  EXPECT_FALSE(limiter.nextSummaryDue().has_value());
  EXPECT_TRUE(limiter.takeAllSummaries().empty());
}

TEST(RefusalAuditLimiter, ThousandsOfUidsShareOneBucketOnTopOfTheirOwn) {
  // A user with a range of subordinate uids asks once from each of them.
  RefusalAuditLimiter limiter(limits(0.001, 2));
  const Clock::time_point t0 = Clock::now();
  int yes = 0;
  for (uid_t uid = 100000; uid < 110000; ++uid) yes += limiter.admit(uid, t0);
  EXPECT_EQ(yes, static_cast<int>(2 * kSharedRefusalAuditFactor));
}

TEST(RefusalAuditLimiter, EveryRecordLeftOutIsInASummaryOnce) {
  RefusalAuditLimiter limiter(limits(1, 4, seconds(10)));
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(admitted(limiter, kUser, 1000, t0), 4);
  EXPECT_EQ(admitted(limiter, kOther, 10, t0 + seconds(1)), 4);
  ASSERT_TRUE(limiter.nextSummaryDue().has_value());
  EXPECT_EQ(*limiter.nextSummaryDue(), t0 + seconds(10));  // from the first left out
  EXPECT_TRUE(limiter.takeDueSummaries(t0 + seconds(9)).empty());

  std::vector<SuppressedRefusals> summaries = limiter.takeDueSummaries(t0 + seconds(10));
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries[0].uid, kUser);  // most left out first
  EXPECT_EQ(summaries[0].count, 996u);
  EXPECT_EQ(summaries[1].uid, kOther);
  EXPECT_EQ(summaries[1].count, 6u);
  EXPECT_FALSE(limiter.nextSummaryDue().has_value());
  EXPECT_TRUE(limiter.takeAllSummaries().empty());
}

TEST(RefusalAuditLimiter, SummariesNameTheLargestUidsAndSumUpTheRest) {
  RefusalAuditLimiter limiter(limits(0.001, 1));
  const Clock::time_point t0 = Clock::now();
  // uid 5000+i tries i+2 times: the later a uid, the more it is left out.
  const std::size_t uids = kMaxNamedRefusalSummaries + 10;
  std::uint64_t tries = 0, written = 0;
  for (std::size_t i = 0; i < uids; ++i) {
    written += admitted(limiter, static_cast<uid_t>(5000 + i), static_cast<int>(i + 2), t0);
    tries += i + 2;
  }
  std::vector<SuppressedRefusals> summaries = limiter.takeAllSummaries();
  ASSERT_EQ(summaries.size(), kMaxNamedRefusalSummaries + 1);
  EXPECT_EQ(summaries.front().uid, static_cast<uid_t>(5000 + uids - 1));
  EXPECT_EQ(summaries.front().count, uids + 1);
  for (std::size_t i = 0; i < kMaxNamedRefusalSummaries; ++i) {
    EXPECT_TRUE(summaries[i].uid.has_value());
    EXPECT_EQ(summaries[i].uids, 1u);
  }
  EXPECT_FALSE(summaries.back().uid.has_value());
  EXPECT_EQ(summaries.back().uids, 10u);
  std::uint64_t counted = 0;
  for (const auto& summary : summaries) counted += summary.count;
  EXPECT_EQ(counted, tries - written) << "every record left out is counted, once";
}

TEST(RefusalAuditLimiter, ZeroRateOrBurstIsInvalid) {
  EXPECT_THROW(RefusalAuditLimiter(limits(0, 5)), Error);
  EXPECT_THROW(RefusalAuditLimiter(limits(1, 0)), Error);
}

}  // namespace
}  // namespace seclabel

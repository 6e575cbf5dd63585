#include "fdpass/refusal_audit_limiter.h"

#include <algorithm>

#include "core/error.h"

namespace seclabel {

RefusalAuditLimiter::RefusalAuditLimiter(RefusalAuditLimits limits) : limits_(limits) {
  if (!(limits_.ratePerSecond > 0)) {
    throw Error::invalidInput("refusal audit rate must be above 0 records per second");
  }
  if (limits_.burst < 1) throw Error::invalidInput("refusal audit burst must be at least 1");
}

void RefusalAuditLimiter::refill(Bucket& bucket, Clock::time_point now, double rate,
                                 double burst) {
  if (now <= bucket.updated) return;
  const double seconds = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(burst, bucket.tokens + seconds * rate);
  bucket.updated = now;
}

bool RefusalAuditLimiter::admit(uid_t uid, Clock::time_point now) {
  if (uid == 0) return true;  // root-side: never limited, never counted
  const double burst = limits_.burst;
  const double sharedBurst = burst * kSharedRefusalAuditFactor;
  const double sharedRate = limits_.ratePerSecond * kSharedRefusalAuditFactor;
  if (!shared_) shared_ = Bucket{sharedBurst, now};
  // Bounded memory whatever the number of uids: at most once a second, once
  // the table is large, drop the uids whose bucket is full again.
  if (buckets_.size() >= kBucketsBeforePruning && now - lastPruned_ >= std::chrono::seconds(1)) {
    forgetRefilledBuckets(now);
  }
  auto [own, fresh] = buckets_.try_emplace(uid, Bucket{burst, now});
  refill(own->second, now, limits_.ratePerSecond, burst);
  refill(*shared_, now, sharedRate, sharedBurst);
  if (own->second.tokens >= 1 && shared_->tokens >= 1) {
    own->second.tokens -= 1;
    shared_->tokens -= 1;
    return true;
  }
  ++suppressed_[uid];
  if (!firstSuppressed_) firstSuppressed_ = now;
  return false;
}

std::optional<RefusalAuditLimiter::Clock::time_point> RefusalAuditLimiter::nextSummaryDue()
    const {
  if (!firstSuppressed_) return std::nullopt;
  return *firstSuppressed_ + limits_.summaryInterval;
}

std::vector<SuppressedRefusals> RefusalAuditLimiter::takeDueSummaries(Clock::time_point now) {
  std::optional<Clock::time_point> due = nextSummaryDue();
  if (!due || now < *due) return {};
  std::vector<SuppressedRefusals> summaries = takeAllSummaries();
  forgetRefilledBuckets(now);
  return summaries;
}

std::vector<SuppressedRefusals> RefusalAuditLimiter::takeAllSummaries() {
  std::vector<std::pair<uid_t, std::uint64_t>> counts(suppressed_.begin(), suppressed_.end());
  suppressed_.clear();
  firstSuppressed_.reset();
  std::stable_sort(counts.begin(), counts.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<SuppressedRefusals> summaries;
  SuppressedRefusals rest{std::nullopt, 0, 0};
  for (const auto& [uid, count] : counts) {
    if (summaries.size() < kMaxNamedRefusalSummaries) {
      summaries.push_back({uid, count, 1});
    } else {
      rest.count += count;
      ++rest.uids;
    }
  }
  if (rest.uids > 0) summaries.push_back(rest);
  return summaries;
}

void RefusalAuditLimiter::forgetRefilledBuckets(Clock::time_point now) {
  lastPruned_ = now;
  const double burst = limits_.burst;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    refill(it->second, now, limits_.ratePerSecond, burst);
    it = it->second.tokens >= burst ? buckets_.erase(it) : std::next(it);
  }
}

}  // namespace seclabel

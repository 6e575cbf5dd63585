// How many refusal audit records the broker writes per caller: a token
// bucket per peer uid, and a count of what it left out.
//
// Anyone on the host may talk to the broker, and each refusal is an audit
// record of about 600 bytes: one unprivileged client wrote 37,060 of them
// (44 MiB) in 5 s, enough to rotate away what an administrator needed or to
// fill the disk auditd writes to. So each non-root uid gets a bucket of
// `burst` records that refills at `ratePerSecond`; on top of that all
// non-root uids share one bucket ten times as large and as fast, because a
// user with a range of subordinate uids (newuidmap, user namespaces) asks
// from thousands of uids. A refusal that finds no token in either bucket is
// not written but counted, per uid; the counts are written as summary
// records at most once per `summaryInterval`, and all of them when the
// broker stops, so nothing is left out without a trace.
//
// Only refusals pass through here. A grant (root opened a file for a guest)
// and anything root asked for are always written: the limiter admits uid 0
// without counting, and the broker never asks it about grants.
//
// Not thread-safe: the broker's one thread owns it. Time is passed in, so
// tests can drive it without sleeping.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "fdpass/broker_directory.h"

namespace seclabel {

struct RefusalAuditLimits {
  double ratePerSecond = 1.0;  // records per second per uid, after the burst
  std::uint32_t burst = 20;    // records a uid may have written at once
  std::chrono::milliseconds summaryInterval = std::chrono::seconds(10);
};

// All non-root uids together get this many times a single uid's rate and
// burst.
inline constexpr std::uint32_t kSharedRefusalAuditFactor = 10;
// Summaries name at most this many uids per interval (those with the most
// left out); the others are summed up in one record.
inline constexpr std::size_t kMaxNamedRefusalSummaries = 16;

class RefusalAuditLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `limits.ratePerSecond` > 0 and `limits.burst` >= 1 (else InvalidInput).
  explicit RefusalAuditLimiter(RefusalAuditLimits limits);

  // May a refusal record about `uid` be written at `now`? True for root,
  // always. False means it was counted for the next summary instead.
  bool admit(uid_t uid, Clock::time_point now);

  // The counts left out since the last summary, once `summaryInterval` has
  // passed since the first of them (empty otherwise): named uids first,
  // most left out first, then at most one record for the rest.
  std::vector<SuppressedRefusals> takeDueSummaries(Clock::time_point now);
  // Every count left out, due or not (the broker is stopping).
  std::vector<SuppressedRefusals> takeAllSummaries();
  // When takeDueSummaries will have something to say; nullopt when nothing
  // was left out.
  std::optional<Clock::time_point> nextSummaryDue() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  static void refill(Bucket& bucket, Clock::time_point now, double rate, double burst);
  // Forgets uids whose bucket is full again: they are as good as new, and
  // the table must not keep every uid that was ever refused.
  void forgetRefilledBuckets(Clock::time_point now);

  RefusalAuditLimits limits_;
  std::unordered_map<uid_t, Bucket> buckets_;
  std::optional<Bucket> shared_;
  std::map<uid_t, std::uint64_t> suppressed_;
  std::optional<Clock::time_point> firstSuppressed_;
  Clock::time_point lastPruned_{};
  static constexpr std::size_t kBucketsBeforePruning = 4096;
};

}  // namespace seclabel

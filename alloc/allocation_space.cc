#include "alloc/allocation_space.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "alloc/mcs_encoding.h"
#include "core/error.h"

namespace seclabel {

namespace {

uint64_t totalSize(const std::vector<IdInterval>& intervals) {
  uint64_t size = 0;
  for (const auto& interval : intervals) size += interval.last - interval.first + 1;
  return size;
}

// Sorted, disjoint, non-empty: the allocator's gap search relies on it.
void checkIntervals(const std::vector<IdInterval>& intervals, const std::string& what) {
  if (intervals.empty()) throw Error::invalidInput(what + ": empty allocation space");
  for (std::size_t i = 0; i < intervals.size(); ++i) {
    if (intervals[i].first > intervals[i].last ||
        (i > 0 && intervals[i].first <= intervals[i - 1].last))
      throw Error::invalidInput(what + ": intervals must be sorted and disjoint");
  }
}

}  // namespace

const char* identityKindName(IdentityKind kind) {
  return kind == IdentityKind::Dac ? "dac" : "mcs";
}

AllocationSpace AllocationSpace::dac(const DacConfig& config) {
  std::string description = config.range.format();
  std::vector<IdInterval> intervals{{config.range.first, config.range.last}};
  DacConfig copy = config;
  return custom(IdentityKind::Dac, description, std::move(intervals),
                [copy](uint64_t uid) {
                  DacLabel label = dacLabelForIdentity(copy, uid);
                  return uidExists(label.uid) || gidExists(label.gid);
                });
}

AllocationSpace AllocationSpace::mcs(const CategoryRange& categories) {
  if (categories.high <= categories.low || categories.high > kMaxMcsCategory)
    throw Error::invalidInput("selinux categories " + categories.format() +
                              ": need at least two categories, at most c" +
                              std::to_string(kMaxMcsCategory));
  // Column B (pairs with second category B) holds codes start(B)+A for
  // A < B; the range keeps low <= A. With low = 0 the columns touch and the
  // whole space is one interval.
  std::vector<IdInterval> intervals;
  for (uint64_t second = uint64_t(categories.low) + 1; second <= categories.high; ++second) {
    uint64_t first = mcsColumnStart(uint32_t(second)) + categories.low;
    uint64_t last = mcsColumnStart(uint32_t(second)) + second - 1;
    if (!intervals.empty() && intervals.back().last + 1 == first)
      intervals.back().last = last;
    else
      intervals.push_back({first, last});
  }
  return custom(IdentityKind::Mcs, categories.format(), std::move(intervals));
}

AllocationSpace AllocationSpace::custom(IdentityKind kind, std::string description,
                                        std::vector<IdInterval> intervals,
                                        std::function<bool(uint64_t)> isExcluded) {
  checkIntervals(intervals, description);
  AllocationSpace space;
  space.kind_ = kind;
  space.key_ = std::string(identityKindName(kind)) + " " + description;
  space.description_ = std::move(description);
  space.size_ = totalSize(intervals);
  space.intervals_ = std::move(intervals);
  space.isExcluded_ = std::move(isExcluded);
  return space;
}

std::string AllocationSpace::noun() const {
  return kind_ == IdentityKind::Dac ? "dac identity" : "selinux category pair";
}

bool AllocationSpace::contains(uint64_t id) const {
  auto next = firstAtOrAfter(id);
  return next && *next == id;
}

std::optional<uint64_t> AllocationSpace::firstAtOrAfter(uint64_t id) const {
  // First interval whose last >= id.
  auto it = std::lower_bound(intervals_.begin(), intervals_.end(), id,
                             [](const IdInterval& interval, uint64_t value) {
                               return interval.last < value;
                             });
  if (it == intervals_.end()) return std::nullopt;
  return std::max(id, it->first);
}

DacLabel dacLabelForIdentity(const DacConfig& config, uint64_t uid) {
  DacLabel label;
  label.uid = uid_t(uid);
  label.gid = config.gidRange ? gid_t(config.gidRange->first + (uid - config.range.first))
                              : gid_t(uid);
  return label;
}

}  // namespace seclabel

// The set of ids an allocation may hand out, as configured.
//
// A space is a sorted list of disjoint intervals of absolute ids (DAC: uids;
// MCS: pair codes, alloc/mcs_encoding.h), plus an exclusion test asked at
// allocation time (DAC: ids present in the passwd or group database).
// Identities are stored by absolute id, so two spaces that overlap (a range
// changed in the config) still never hand out the same id twice.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/nss.h"
#include "xml/labels.h"

namespace seclabel {

enum class IdentityKind { Dac, Mcs };
// "dac", "mcs"
const char* identityKindName(IdentityKind kind);

struct IdInterval {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
  bool operator==(const IdInterval&) const = default;
};

class AllocationSpace {
 public:
  // Uids of config.range; an id is excluded when the uid exists in the
  // passwd database or its gid (uid, or the same offset into gidRange) in
  // the group database.
  static AllocationSpace dac(const DacConfig& config);
  // Every pair cA,cB with low <= A < B <= high.
  static AllocationSpace mcs(const CategoryRange& categories);
  // For tests and special callers: explicit intervals and exclusion test.
  static AllocationSpace custom(IdentityKind kind, std::string description,
                                std::vector<IdInterval> intervals,
                                std::function<bool(uint64_t)> isExcluded = {});

  IdentityKind kind() const { return kind_; }
  // Identifies the space for its persistent cursor: "dac 1879048192-1879113727".
  const std::string& key() const { return key_; }
  // For messages: "1879048192-1879048255", "c0.c1023".
  const std::string& description() const { return description_; }
  // "dac identity", "selinux category pair"
  std::string noun() const;
  uint64_t size() const { return size_; }
  const std::vector<IdInterval>& intervals() const { return intervals_; }

  bool contains(uint64_t id) const;
  // The smallest id of the space >= id, nullopt past the end. O(log intervals).
  std::optional<uint64_t> firstAtOrAfter(uint64_t id) const;
  uint64_t firstId() const { return intervals_.front().first; }
  // Asked for every candidate id; may consult NSS.
  bool isExcluded(uint64_t id) const { return isExcluded_ && isExcluded_(id); }

 private:
  AllocationSpace() = default;
  IdentityKind kind_ = IdentityKind::Dac;
  std::string key_;
  std::string description_;
  std::vector<IdInterval> intervals_;
  uint64_t size_ = 0;
  std::function<bool(uint64_t)> isExcluded_;
};

// The DAC label of identity `uid` under `config`: gid = uid, or the same
// offset into gidRange when one is set.
DacLabel dacLabelForIdentity(const DacConfig& config, uint64_t uid);

// uidExists/gidExists (the NSS checks of a DAC space): core/nss.h.

}  // namespace seclabel

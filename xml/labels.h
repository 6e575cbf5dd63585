// Parsed security labels: the DAC `user:group` label, the SELinux context and
// its MCS category pair. Each type checks its invariants once, at parse or
// construction, so a value of the type is always well formed.
#pragma once

#include "core/export.h"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seclabel {

// Longest label accepted anywhere (libvirt uses 4096 for a security label).
inline constexpr std::size_t kMaxLabelLength = 4096;

// Rejects labels over kMaxLabelLength bytes, empty ones and ones containing
// control characters; `what` names the label in the error ("label", ...).
void checkLabelText(std::string_view text, std::string_view what);

// One side of a DAC label as written: `+N` is a number, anything else a name
// resolved through NSS at prepare time.
struct DacId {
  std::optional<uint32_t> number;  // set for `+N` (and plain digits)
  std::string name;                // set otherwise
};

// `user:group` exactly as written in XML. Syntax only; resolve() asks NSS.
struct DacLabelSpec {
  DacId user;
  DacId group;

  // Throws Error(InvalidInput) on anything but `user:group` with valid parts:
  // no empty part, no negative number, no 4294967295 ((uid_t)-1), no space.
  static DacLabelSpec parse(std::string_view text);
};

// A resolved DAC identity.
struct SECLABEL_API DacLabel {
  uid_t uid = 0;
  gid_t gid = 0;

  // Parses and resolves names through getpwnam_r/getgrnam_r.
  static DacLabel parse(std::string_view text);
  static DacLabel resolve(const DacLabelSpec& spec);
  // `+UID:+GID`, libvirt's live form.
  std::string format() const;
  bool operator==(const DacLabel&) const = default;
};

// An MCS category pair cA,cB with A < B (sVirt's per-guest pair).
class SECLABEL_API McsPair {
 public:
  // Throws Error(InvalidInput) unless first < second.
  McsPair(uint32_t first, uint32_t second);
  uint32_t first() const noexcept { return first_; }
  uint32_t second() const noexcept { return second_; }
  // `cA,cB`
  std::string format() const;
  bool operator==(const McsPair&) const = default;

 private:
  uint32_t first_;
  uint32_t second_;
};

// user:role:type:level, level being an MLS range such as `s0`,
// `s0:c1,c2` or `s0-s0:c0.c1023`.
struct SECLABEL_API SelinuxContext {
  std::string user;
  std::string role;
  std::string type;
  std::string level;

  // Throws Error(InvalidInput) naming what is wrong with `text`.
  static SelinuxContext parse(std::string_view text);
  std::string format() const;
  // The same user:role:type with level `s0:cA,cB`.
  SelinuxContext withCategories(const McsPair& pair) const;
  // The same user:role:type with level `s0`.
  SelinuxContext atSystemLow() const;
  // The pair when the level is exactly `sN:cA,cB` with A < B.
  std::optional<McsPair> mcsPair() const;
  bool operator==(const SelinuxContext&) const = default;
};

// Checks an MLS level/range (`s0`, `s0:c1,c2`, `s0-s0:c0.c1023`).
// Throws Error(InvalidInput) naming the problem.
void checkMlsRange(std::string_view level);

}  // namespace seclabel

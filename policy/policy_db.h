// A compiled binary SELinux policy, loaded with libsepol, that answers
// access questions offline: no SELinux kernel needed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seclabel {

using PolicySid = uint32_t;
using PolicyClass = uint16_t;
using AccessVector = uint32_t;

// Why the requested permissions were not all granted (libsepol's reasons).
enum class DenialReason : unsigned {
  None = 0,
  NoAllowRule = 1u << 0,   // type enforcement: no allow rule grants it
  Constraint = 1u << 1,    // a (mls)constrain expression failed
  RoleRules = 1u << 2,     // RBAC
  TypeBounds = 1u << 3,    // typebounds
};

struct AccessDecision {
  AccessVector allowed = 0;  // the requested permissions that are granted
  unsigned reasons = 0;      // DenialReason bits for the ones that are not
  // With Explain::Constraints: each failing constraint expression in
  // libsepol's infix notation, one per entry (only the constraints that
  // name a denied permission).
  std::vector<std::string> failedConstraints;
};

enum class Explain { No, Constraints };

class PolicyDb {
 public:
  // Reads a binary policy (policy.NN). Throws Error(InvalidInput) when the
  // file cannot be read or is not a binary policy libsepol understands.
  static PolicyDb load(const std::string& path);

  PolicyDb(PolicyDb&&) noexcept;
  PolicyDb& operator=(PolicyDb&&) noexcept;
  ~PolicyDb();

  const std::string& path() const noexcept;
  bool mls() const noexcept;

  // The SID of `context`, or nullopt when the policy rejects the context
  // (unknown user, role or type; role not authorized for the user or the
  // type; level outside the user's range). `why` receives the reason.
  std::optional<PolicySid> sidOf(std::string_view context, std::string* why = nullptr) const;
  std::optional<PolicyClass> classNamed(std::string_view name) const;
  std::optional<AccessVector> permissionNamed(PolicyClass cls, std::string_view name) const;
  // Comma-separated names of the permission bits in `vector`.
  std::string permissionNames(PolicyClass cls, AccessVector vector) const;

  // What the policy decides for `requested` on `cls` from source to target.
  // Thread-safe: libsepol's services work on one global policy, so each
  // call takes a process-wide lock and points libsepol at this policy.
  AccessDecision decide(PolicySid source, PolicySid target, PolicyClass cls,
                        AccessVector requested, Explain explain = Explain::No) const;

 private:
  struct Tables;
  explicit PolicyDb(std::unique_ptr<Tables> tables);
  std::unique_ptr<Tables> tables_;
};

}  // namespace seclabel

// A compiled binary SELinux policy, loaded with libsepol, that answers
// access questions offline: no SELinux kernel needed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

// What loading one policy may cost. A binary policy declares its table
// sizes in 32-bit counts, and libsepol 3.4 allocates tables of the declared
// size before it finds out that the data is not there; freeing them after
// the failed read walks every entry. The 27 KB test policy declaring 200
// million types made the previous loader touch 3 GB and take 20 s (80 s on
// a loaded host) before it said "not a policy". So libsepol first reads the
// policy in a child process under these limits; the child exits without
// freeing anything, and only a policy that loaded there is loaded here.
struct PolicyLoadLimits {
  std::size_t fileBytes = std::size_t(64) << 20;   // Fedora's whole policy is ~10 MiB
  unsigned cpuSeconds = 20;                         // Debian's refpolicy: ~1 s
  std::size_t memoryBytes = std::size_t(1) << 30;  // the child's address space;
                                                    // Debian's refpolicy loads in 64 MiB
};

// Test seam (never set in production): runs in the trial child, under its
// limits, right before libsepol reads the policy. Tests make it spin to
// prove the CPU bound.
void setPolicyLoadTrialHookForTesting(std::function<void()> hook);

class PolicyDb {
 public:
  // Reads a binary policy (policy.NN): a regular file of at most
  // limits.fileBytes. Throws Error(InvalidInput) when the file cannot be
  // read, is not a binary policy libsepol understands, or cannot be loaded
  // within the limits ("too complex: gave up after N s of CPU time").
  static PolicyDb load(const std::string& path, const PolicyLoadLimits& limits = {});

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

// Policy expectations: what a security engineer states a policy must allow
// or deny, checked offline against a compiled policy.
//
// The format, one expectation a line (docs/policy.md):
//
//   allow|deny SOURCE_CONTEXT TARGET_CONTEXT CLASS PERM[,PERM...]
//
// `#` starts a comment, blank lines are ignored. `allow` passes when the
// policy grants every listed permission; `deny` passes when it grants none
// of them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy_db.h"

namespace seclabel {

enum class ExpectedVerdict { Allow, Deny };

struct Expectation {
  std::size_t line = 0;  // 1-based line number in the expectations text
  ExpectedVerdict verdict = ExpectedVerdict::Allow;
  std::string source;
  std::string target;
  std::string objectClass;
  std::vector<std::string> permissions;
};

// The longest line accepted; longer ones are malformed (a context is at
// most 4095 bytes, so a real line is far shorter).
inline constexpr std::size_t kMaxExpectationLineLength = 64 * 1024;
// The largest expectations file read (checked while reading).
inline constexpr std::size_t kMaxExpectationsSize = 16u << 20;

// Parses the whole text. A malformed line throws Error(InvalidInput)
// "line N: <what is wrong>"; nothing is checked against a policy here.
std::vector<Expectation> parseExpectations(std::string_view text);

// What the policy did with one expectation.
enum class AccessOutcome {
  Allowed,             // every permission granted
  Denied,              // one or more denied; see the per-reason lists
  InvalidContext,      // the policy rejects the source or target context
};

struct ExpectationResult {
  Expectation expectation;
  bool passed = false;
  AccessOutcome outcome = AccessOutcome::Allowed;
  std::string grantedPermissions;       // comma-separated
  std::string deniedNoAllowRule;        // comma-separated
  std::string deniedByConstraint;       // comma-separated
  std::string deniedOtherwise;          // by role rules or type bounds
  std::vector<std::string> constraints; // the failing constraint expressions
  std::string invalidContext;           // which context, and why
  // One line: "allowed", "denied, no allow rule (write); denied by a
  // constraint (read,open): mlsconstrain file {...}", "invalid context ...".
  std::string reason() const;
};

struct ExpectationReport {
  std::vector<ExpectationResult> results;
  std::size_t passed = 0;
  std::size_t failed = 0;
};

// Checks every expectation. An unknown class or permission is a mistake in
// the expectations (not a property of the policy): Error(InvalidInput)
// naming the line.
ExpectationReport checkExpectations(const PolicyDb& policy,
                                    const std::vector<Expectation>& expectations);
// Loads the policy and reads the expectations from files.
ExpectationReport checkExpectationsFile(const std::string& policyPath,
                                        const std::string& expectationsPath);

// The expectation as written: "allow SOURCE TARGET CLASS PERMS".
std::string formatExpectation(const Expectation& expectation);

}  // namespace seclabel

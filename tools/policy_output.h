// What `seclabel policy ...` prints, and its exit code: the policy/ library
// returns reports (ExpectationReport, IsolationReport), the command line
// prints them here. These throw seclabel::Error for what the command
// reports as `seclabel: <message>` (a malformed expectation: InvalidInput,
// exit 2), and return the exit code otherwise.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "core/config.h"
#include "policy/expectations.h"
#include "policy/isolation.h"

namespace seclabel {

// `seclabel policy check POLICY EXPECTATIONS`: one line per expectation,
//   PASS line 3: allow S T file read,open: allowed
//   FAIL line 5: deny S T file read: allowed
// then `N passed, M failed` on its own line. Returns 0 when nothing failed,
// 1 otherwise.
int runPolicyCheckCommand(const std::string& policyPath, const std::string& expectationsPath,
                          std::ostream& out, std::ostream& err);

// `seclabel policy isolation POLICY` over the given guests (the store's, or
// makeSyntheticGuests for `--synthetic N`). The shareable image context is
// the configured image type at s0. Prints the policy, the guest count, every
// finding on its own line and ends with
//   N pairs checked (all pairs|M cross pairs sampled), K leaks
// Returns 0 when isolated, 1 on any finding. `err` gets a note when the
// cross pairs were sampled.
int runPolicyIsolationCommand(const std::string& policyPath, const std::vector<GuestLabels>& guests,
                              const SelinuxConfig& selinux, std::ostream& out, std::ostream& err);
// The same over `count` synthetic guests from the configured contexts and
// category range.
int runPolicyIsolationCommand(const std::string& policyPath, std::size_t syntheticCount,
                              const SelinuxConfig& selinux, std::ostream& out, std::ostream& err);

void printExpectationReport(const ExpectationReport& report, std::ostream& out);
void printIsolationReport(const IsolationReport& report, std::ostream& out);

}  // namespace seclabel

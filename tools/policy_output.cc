#include "tools/policy_output.h"

namespace seclabel {

void printExpectationReport(const ExpectationReport& report, std::ostream& out) {
  for (const auto& result : report.results) {
    out << (result.passed ? "PASS" : "FAIL") << " line " << result.expectation.line << ": "
        << formatExpectation(result.expectation) << ": " << result.reason() << '\n';
  }
  out << report.passed << " passed, " << report.failed << " failed\n";
}

void printIsolationReport(const IsolationReport& report, std::ostream& out) {
  for (const auto& finding : report.findings) {
    out << findingKindName(finding.kind) << ": ";
    switch (finding.kind) {
      case FindingKind::CrossGuestAccess:
        out << finding.subject << " (" << finding.subjectContext << ") may " << finding.permissions
            << " the image of " << finding.object << " (" << finding.objectContext << ")";
        break;
      case FindingKind::OwnImageDenied:
      case FindingKind::SharedImageDenied:
        out << finding.subject << " (" << finding.subjectContext << ") may not "
            << finding.permissions << " "
            << (finding.kind == FindingKind::OwnImageDenied ? "its own image" : "the shareable image")
            << " (" << finding.objectContext << ")";
        break;
      case FindingKind::InvalidContext:
        out << finding.subject << " " << finding.object << " context " << finding.subjectContext
            << " is " << finding.permissions;
        break;
    }
    out << '\n';
  }
  out << report.pairsChecked << " pairs checked ("
      << (report.sampled ? std::to_string(report.crossPairsChecked) + " cross pairs sampled"
                         : std::string("all pairs"))
      << "), " << report.findings.size() << (report.findings.size() == 1 ? " leak" : " leaks")
      << '\n';
}

int runPolicyCheckCommand(const std::string& policyPath, const std::string& expectationsPath,
                          std::ostream& out, std::ostream& /*err*/) {
  auto report = checkExpectationsFile(policyPath, expectationsPath);
  printExpectationReport(report, out);
  return report.failed == 0 ? 0 : 1;
}

int runPolicyIsolationCommand(const std::string& policyPath, const std::vector<GuestLabels>& guests,
                              const SelinuxConfig& selinux, std::ostream& out, std::ostream& err) {
  const IsolationOptions options = isolationOptionsFor(selinux);
  auto report = checkIsolation(policyPath, guests, options);
  out << "policy: " << policyPath << '\n';
  out << "guests: " << report.guests << '\n';
  if (report.sampled) {
    err << "seclabel: " << report.guests << " guests is over "
        << options.allPairsGuestLimit << ": checked every own and shareable image and "
        << report.crossPairsChecked << " random cross pairs (seed " << options.sampleSeed << ")\n";
  }
  printIsolationReport(report, out);
  return report.isolated() ? 0 : 1;
}

int runPolicyIsolationCommand(const std::string& policyPath, std::size_t syntheticCount,
                              const SelinuxConfig& selinux, std::ostream& out, std::ostream& err) {
  return runPolicyIsolationCommand(policyPath, makeSyntheticGuests(syntheticCount, selinux),
                                   selinux, out, err);
}

}  // namespace seclabel

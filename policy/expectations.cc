#include "policy/expectations.h"

#include <cerrno>

#include "core/error.h"
#include "core/file_read.h"

namespace seclabel {

namespace {

constexpr std::string_view kFormat = "allow|deny SOURCE_CONTEXT TARGET_CONTEXT CLASS PERM[,PERM...]";

// A user-supplied token inside an error message: bounded, printable.
std::string quoted(std::string_view token) {
  constexpr std::size_t kShown = 80;
  std::string shown;
  for (char c : token.substr(0, kShown)) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      shown += "\\x";
      shown += kHex[byte >> 4];
      shown += kHex[byte & 15];
    } else {
      shown += c;
    }
  }
  if (token.size() > kShown) shown += "...";
  return "'" + shown + "'";
}

Error lineError(std::size_t line, const std::string& what) {
  return Error::invalidInput("line " + std::to_string(line) + ": " + what);
}

std::vector<std::string_view> splitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

Expectation parseLine(std::string_view text, std::size_t line) {
  if (text.size() > kMaxExpectationLineLength) {
    throw lineError(line, "longer than " + std::to_string(kMaxExpectationLineLength) + " bytes");
  }
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      throw lineError(line, "contains a control character (byte " + std::to_string(byte) + ")");
    }
  }
  auto fields = splitFields(text);
  if (fields.size() != 5) {
    throw lineError(line, "expected 5 fields `" + std::string(kFormat) + "`, got " +
                              std::to_string(fields.size()));
  }
  Expectation expectation;
  expectation.line = line;
  if (fields[0] == "allow") {
    expectation.verdict = ExpectedVerdict::Allow;
  } else if (fields[0] == "deny") {
    expectation.verdict = ExpectedVerdict::Deny;
  } else {
    throw lineError(line, "expected allow or deny, got " + quoted(fields[0]));
  }
  expectation.source = fields[1];
  expectation.target = fields[2];
  expectation.objectClass = fields[3];
  std::string_view permissions = fields[4];
  std::size_t start = 0;
  while (true) {
    auto comma = permissions.find(',', start);
    auto name = permissions.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                          : comma - start);
    if (name.empty()) {
      throw lineError(line, "empty permission name in " + quoted(permissions));
    }
    expectation.permissions.emplace_back(name);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return expectation;
}

void appendName(std::string& list, const std::string& names) {
  if (names.empty()) return;
  if (!list.empty()) list += ',';
  list += names;
}

}  // namespace

std::vector<Expectation> parseExpectations(std::string_view text) {
  std::vector<Expectation> expectations;
  std::size_t line = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    ++line;
    auto end = text.find('\n', start);
    std::string_view content =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? text.size() : end + 1;
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    if (auto hash = content.find('#'); hash != std::string_view::npos) {
      content = content.substr(0, hash);
    }
    if (content.find_first_not_of(" \t") == std::string_view::npos) {
      if (content.size() > kMaxExpectationLineLength) {
        throw lineError(line, "longer than " + std::to_string(kMaxExpectationLineLength) + " bytes");
      }
      continue;
    }
    expectations.push_back(parseLine(content, line));
  }
  return expectations;
}

std::string formatExpectation(const Expectation& expectation) {
  std::string text = expectation.verdict == ExpectedVerdict::Allow ? "allow " : "deny ";
  text += expectation.source + " " + expectation.target + " " + expectation.objectClass + " ";
  for (std::size_t i = 0; i < expectation.permissions.size(); ++i) {
    if (i) text += ',';
    text += expectation.permissions[i];
  }
  return text;
}

std::string ExpectationResult::reason() const {
  switch (outcome) {
    case AccessOutcome::Allowed:
      return "allowed";
    case AccessOutcome::InvalidContext:
      return "invalid context: " + invalidContext;
    case AccessOutcome::Denied:
      break;
  }
  std::string text;
  auto part = [&](const std::string& piece) {
    if (!text.empty()) text += "; ";
    text += piece;
  };
  if (!grantedPermissions.empty()) part("allowed (" + grantedPermissions + ")");
  if (!deniedNoAllowRule.empty()) part("denied, no allow rule (" + deniedNoAllowRule + ")");
  if (!deniedByConstraint.empty()) {
    std::string piece = "denied by a constraint (" + deniedByConstraint + ")";
    for (std::size_t i = 0; i < constraints.size(); ++i) {
      piece += (i == 0 ? ": " : " | ") + constraints[i];
    }
    part(piece);
  }
  if (!deniedOtherwise.empty()) {
    part("denied by role rules or type bounds (" + deniedOtherwise + ")");
  }
  return text;
}

ExpectationReport checkExpectations(const PolicyDb& policy,
                                    const std::vector<Expectation>& expectations) {
  ExpectationReport report;
  for (const auto& expectation : expectations) {
    ExpectationResult result;
    result.expectation = expectation;
    auto cls = policy.classNamed(expectation.objectClass);
    if (!cls) {
      throw lineError(expectation.line, "class " + quoted(expectation.objectClass) +
                                            " is not defined in " + policy.path());
    }
    std::vector<AccessVector> bits;
    for (const auto& name : expectation.permissions) {
      auto bit = policy.permissionNamed(*cls, name);
      if (!bit) {
        throw lineError(expectation.line, "permission " + quoted(name) + " is not defined for class " +
                                              quoted(expectation.objectClass) + " in " +
                                              policy.path());
      }
      bits.push_back(*bit);
    }
    std::string why;
    auto source = policy.sidOf(expectation.source, &why);
    std::optional<PolicySid> target;
    if (!source) {
      result.invalidContext = "source " + quoted(expectation.source) + " " + why;
    } else if (!(target = policy.sidOf(expectation.target, &why))) {
      result.invalidContext = "target " + quoted(expectation.target) + " " + why;
    }
    if (!source || !target) {
      result.outcome = AccessOutcome::InvalidContext;
      result.passed = false;
    } else {
      // One decision per permission, so each denied one gets its own reason.
      AccessVector granted = 0;
      for (std::size_t i = 0; i < bits.size(); ++i) {
        auto decision = policy.decide(*source, *target, *cls, bits[i], Explain::Constraints);
        const std::string& name = expectation.permissions[i];
        if (decision.allowed == bits[i]) {
          granted |= bits[i];
          appendName(result.grantedPermissions, name);
        } else if (decision.reasons & static_cast<unsigned>(DenialReason::NoAllowRule)) {
          appendName(result.deniedNoAllowRule, name);
        } else if (decision.reasons & static_cast<unsigned>(DenialReason::Constraint)) {
          appendName(result.deniedByConstraint, name);
          for (auto& constraint : decision.failedConstraints) {
            bool known = false;
            for (const auto& seen : result.constraints) known = known || seen == constraint;
            if (!known) result.constraints.push_back(std::move(constraint));
          }
        } else {
          appendName(result.deniedOtherwise, name);
        }
      }
      bool allGranted = result.deniedNoAllowRule.empty() && result.deniedByConstraint.empty() &&
                        result.deniedOtherwise.empty();
      result.outcome = allGranted ? AccessOutcome::Allowed : AccessOutcome::Denied;
      result.passed = expectation.verdict == ExpectedVerdict::Allow ? allGranted : granted == 0;
    }
    (result.passed ? report.passed : report.failed)++;
    report.results.push_back(std::move(result));
  }
  return report;
}

ExpectationReport checkExpectationsFile(const std::string& policyPath,
                                        const std::string& expectationsPath) {
  // Regular files only, bounded while read (a FIFO or /dev/zero is refused).
  std::string text =
      readRegularFile(expectationsPath, {"expectations", kMaxExpectationsSize, FileTrust::Any});
  std::vector<Expectation> expectations;
  try {
    expectations = parseExpectations(text);
  } catch (const Error& error) {
    throw error.withContext(expectationsPath);
  }
  auto policy = PolicyDb::load(policyPath);
  try {
    return checkExpectations(policy, expectations);
  } catch (const Error& error) {
    if (error.code() == ExitCode::InvalidInput) throw error.withContext(expectationsPath);
    throw;
  }
}

}  // namespace seclabel

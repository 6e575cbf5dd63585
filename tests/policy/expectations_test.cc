// The expectation runner: the file format, and each reason it reports.
#include "policy/expectations.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "tests/policy/test_paths.h"

namespace seclabel {
namespace {

using testing::kTestPolicy;
using testing::testData;

constexpr const char* kGuestA = "system_u:system_r:svirt_t:s0:c1,c2";
constexpr const char* kImageA = "system_u:object_r:svirt_image_t:s0:c1,c2";
constexpr const char* kImageB = "system_u:object_r:svirt_image_t:s0:c3,c4";

// The message of the Error(InvalidInput) that `parse` throws.
std::string invalidInputMessage(std::string_view text) {
  try {
    parseExpectations(text);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    return error.what();
  }
  ADD_FAILURE() << "no error for: " << text.substr(0, 100);
  return "";
}

ExpectationReport check(const std::string& text, const std::string& policy = kTestPolicy) {
  return checkExpectations(PolicyDb::load(policy), parseExpectations(text));
}

TEST(ExpectationFormat, ReadsVerdictContextsClassAndPermissions) {
  auto parsed = parseExpectations(
      "# comment line\n"
      "\n"
      "   \t\n"
      "allow a:b:c:s0 d:e:f:s0 file read,write   # trailing comment\n"
      "deny\tx:y:z:s0\tx:y:z:s0\tprocess\tsignal\r\n");
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0].line, 4u);
  EXPECT_EQ(parsed[0].verdict, ExpectedVerdict::Allow);
  EXPECT_EQ(parsed[0].source, "a:b:c:s0");
  EXPECT_EQ(parsed[0].target, "d:e:f:s0");
  EXPECT_EQ(parsed[0].objectClass, "file");
  EXPECT_EQ(parsed[0].permissions, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(parsed[1].line, 5u);
  EXPECT_EQ(parsed[1].verdict, ExpectedVerdict::Deny);
  EXPECT_EQ(parsed[1].permissions, (std::vector<std::string>{"signal"}));
}

TEST(ExpectationFormat, EmptyTextHasNoExpectations) {
  EXPECT_TRUE(parseExpectations("").empty());
  EXPECT_TRUE(parseExpectations("# only a comment\n\n").empty());
}

TEST(ExpectationFormat, UnknownVerdictNamesTheLine) {
  auto message = invalidInputMessage("# ok\npermit a b file read\n");
  EXPECT_NE(message.find("line 2: expected allow or deny, got 'permit'"), std::string::npos)
      << message;
}

TEST(ExpectationFormat, WrongFieldCountNamesTheLineAndTheFormat) {
  auto message = invalidInputMessage("allow a b file read\nallow a b file\n");
  EXPECT_NE(message.find("line 2: expected 5 fields"), std::string::npos) << message;
  EXPECT_NE(message.find("allow|deny SOURCE_CONTEXT TARGET_CONTEXT CLASS PERM"), std::string::npos);
  message = invalidInputMessage("allow a b file read extra\n");
  EXPECT_NE(message.find("line 1: expected 5 fields"), std::string::npos) << message;
}

TEST(ExpectationFormat, EmptyPermissionInTheListIsMalformed) {
  EXPECT_NE(invalidInputMessage("allow a b file read,,write\n").find("line 1: empty permission"),
            std::string::npos);
  EXPECT_NE(invalidInputMessage("allow a b file read,\n").find("line 1: empty permission"),
            std::string::npos);
}

TEST(ExpectationFormat, HugeLineIsRejectedWithoutEchoingIt) {
  std::string text = "allow a b file read\n\nallow " + std::string(1 << 20, 'x') + " b file read\n";
  auto message = invalidInputMessage(text);
  EXPECT_NE(message.find("line 3: longer than 65536 bytes"), std::string::npos) << message.substr(0, 200);
  EXPECT_LT(message.size(), 300u);
}

TEST(ExpectationFormat, HugeCommentOrBlankLineIsAlsoRejected) {
  EXPECT_NE(invalidInputMessage(std::string(70000, ' ') + "\n").find("line 1: longer"),
            std::string::npos);
}

TEST(ExpectationFormat, ControlCharactersAreRejectedAndNotEchoed) {
  auto message = invalidInputMessage(std::string("allow a\x1b[2J b file read\n"));
  EXPECT_NE(message.find("line 1: contains a control character"), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
  message = invalidInputMessage(std::string("allow a\0b c file read\n", 22));
  EXPECT_NE(message.find("line 1: contains a control character (byte 0)"), std::string::npos);
}

TEST(ExpectationFormat, LongTokenInAnErrorIsShortened) {
  auto message = invalidInputMessage(std::string(5000, 'v') + " a b file read\n");
  EXPECT_NE(message.find("..."), std::string::npos);
  EXPECT_LT(message.size(), 300u);
}

TEST(ExpectationCheck, TestPolicyMeetsItsExpectations) {
  auto report = checkExpectationsFile(kTestPolicy, testData("test-policy-holds.expect"));
  for (const auto& result : report.results) {
    EXPECT_TRUE(result.passed) << "line " << result.expectation.line << ": " << result.reason();
  }
  EXPECT_EQ(report.failed, 0u);
  EXPECT_EQ(report.passed, 11u);
}

TEST(ExpectationCheck, ViolatedExpectationsAllFailEachWithItsReason) {
  auto report = checkExpectationsFile(kTestPolicy, testData("test-policy-violated.expect"));
  EXPECT_EQ(report.passed, 0u);
  ASSERT_EQ(report.failed, 5u);
  const auto& crossRead = report.results[0];
  EXPECT_EQ(crossRead.outcome, AccessOutcome::Denied);
  EXPECT_EQ(crossRead.deniedByConstraint, "read");
  ASSERT_FALSE(crossRead.constraints.empty());
  EXPECT_NE(crossRead.reason().find("denied by a constraint (read): mlsconstrain file"),
            std::string::npos) << crossRead.reason();
  EXPECT_NE(crossRead.reason().find("h1 dom h2 -Fail-"), std::string::npos) << crossRead.reason();

  EXPECT_EQ(report.results[1].outcome, AccessOutcome::Allowed);
  EXPECT_EQ(report.results[1].reason(), "allowed");

  EXPECT_EQ(report.results[2].outcome, AccessOutcome::Denied);
  EXPECT_EQ(report.results[2].reason(), "denied, no allow rule (write)");

  EXPECT_EQ(report.results[3].outcome, AccessOutcome::InvalidContext);
  EXPECT_NE(report.results[3].reason().find("invalid context: target 'system_u:object_r:no_such_t:s0'"),
            std::string::npos) << report.results[3].reason();
  EXPECT_EQ(report.results[4].outcome, AccessOutcome::InvalidContext);
  EXPECT_NE(report.results[4].reason().find("source"), std::string::npos);
}

TEST(ExpectationCheck, AllowNeedsEveryPermissionAndDenyNeedsNone) {
  // own image: read and write granted; relabelto has no allow rule.
  std::string own = std::string(kGuestA) + " " + kImageA + " file ";
  auto report = check("allow " + own + "read,relabelto\n" + "deny " + own + "read,relabelto\n");
  EXPECT_FALSE(report.results[0].passed);
  EXPECT_FALSE(report.results[1].passed);
  EXPECT_EQ(report.results[0].reason(), "allowed (read); denied, no allow rule (relabelto)");
}

TEST(ExpectationCheck, ReportsNoAllowRuleAndConstraintSeparately) {
  auto report = check(std::string("allow ") + kGuestA + " " + kImageB + " file read,relabelto\n");
  const auto& result = report.results[0];
  EXPECT_EQ(result.deniedNoAllowRule, "relabelto");
  EXPECT_EQ(result.deniedByConstraint, "read");
}

TEST(ExpectationCheck, UnknownClassIsInvalidInputNamingTheLine) {
  try {
    check(std::string("\nallow ") + kGuestA + " " + kImageA + " no_such_class read\n");
    FAIL() << "unknown class accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(error.what()).find("line 2: class 'no_such_class' is not defined"),
              std::string::npos) << error.what();
  }
}

TEST(ExpectationCheck, UnknownPermissionIsInvalidInputNamingTheLine) {
  try {
    check(std::string("allow ") + kGuestA + " " + kImageA + " file read,fly\n");
    FAIL() << "unknown permission accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(error.what()).find("line 1: permission 'fly' is not defined for class 'file'"),
              std::string::npos) << error.what();
  }
}

TEST(ExpectationCheck, MalformedContextsAreFailedResultsNotCrashes) {
  for (std::string context : {std::string("::::"), std::string("a:b"), std::string(5000, 'c'),
                              std::string("system_u:system_r:svirt_t:s0:c9999"),
                              std::string("system_u:system_r:svirt_t:s0-s0:c2.c1")}) {
    auto report = check("deny " + context + " " + kImageA + " file read\n");
    ASSERT_EQ(report.results.size(), 1u);
    EXPECT_EQ(report.results[0].outcome, AccessOutcome::InvalidContext) << context.substr(0, 50);
    EXPECT_FALSE(report.results[0].passed);
    EXPECT_LT(report.results[0].reason().size(), 400u);
  }
}

TEST(ExpectationCheck, FileErrorsNameTheFile) {
  const std::string path = ::testing::TempDir() + "/bad.expect";
  std::ofstream(path) << "allow too few fields\n";
  try {
    checkExpectationsFile(kTestPolicy, path);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(error.what()).find(path + ": line 1:"), std::string::npos) << error.what();
  }
  EXPECT_THROW(checkExpectationsFile(kTestPolicy, "/nonexistent.expect"), Error);
}

TEST(DebianRefpolicy, SvirtReadsItsOwnImageAndNotAnotherGuests) {
  if (!testing::debianPolicyInstalled()) {
    GTEST_SKIP() << testing::kDebianPolicy << " absent (package selinux-policy-default)";
  }
  auto report = checkExpectationsFile(testing::kDebianPolicy, testData("refpolicy-svirt.expect"));
  ASSERT_EQ(report.results.size(), 2u);
  EXPECT_TRUE(report.results[0].passed) << report.results[0].reason();
  EXPECT_TRUE(report.results[1].passed) << report.results[1].reason();
  EXPECT_EQ(report.results[1].deniedByConstraint, "read");
  EXPECT_NE(report.results[1].reason().find("mcs_constrained_type"), std::string::npos)
      << report.results[1].reason();
}

}  // namespace
}  // namespace seclabel

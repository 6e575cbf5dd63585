// The `seclabel policy check|isolation` output and exit codes, as the
// command line prints them (tools/policy_output.h; policy/ returns reports).
#include "tools/policy_output.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "tests/policy/test_paths.h"

namespace seclabel {
namespace {

using testing::kTestPolicy;
using testing::testData;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream input(text);
  for (std::string line; std::getline(input, line);) result.push_back(line);
  return result;
}

TEST(PolicyCheckCommand, PrintsOneLinePerExpectationThenTotalsAndExits0) {
  std::ostringstream out, err;
  int status = runPolicyCheckCommand(kTestPolicy, testData("test-policy-holds.expect"), out, err);
  EXPECT_EQ(status, 0);
  auto printed = lines(out.str());
  ASSERT_EQ(printed.size(), 12u);
  EXPECT_EQ(printed[0].rfind("PASS line 5: allow system_u:system_r:svirt_t:s0:c1,c2 "
                             "system_u:object_r:svirt_image_t:s0:c1,c2 file read,write,open,getattr: allowed",
                             0),
            0u)
      << printed[0];
  EXPECT_EQ(printed.back(), "11 passed, 0 failed");
}

TEST(PolicyCheckCommand, FailuresExit1WithTheReasonOnEachLine) {
  std::ostringstream out, err;
  int status = runPolicyCheckCommand(kTestPolicy, testData("test-policy-violated.expect"), out, err);
  EXPECT_EQ(status, 1);
  auto printed = lines(out.str());
  ASSERT_EQ(printed.size(), 6u);
  EXPECT_EQ(printed[0].rfind("FAIL line 5: allow ", 0), 0u) << printed[0];
  EXPECT_NE(printed[0].find(": denied by a constraint (read): mlsconstrain file"), std::string::npos);
  EXPECT_NE(printed[2].find(": denied, no allow rule (write)"), std::string::npos) << printed[2];
  EXPECT_NE(printed[3].find(": invalid context: target"), std::string::npos) << printed[3];
  EXPECT_EQ(printed.back(), "0 passed, 5 failed");
}

TEST(PolicyCheckCommand, MalformedLineThrowsInvalidInputAndPrintsNothing) {
  const std::string path = ::testing::TempDir() + "/malformed.expect";
  std::ofstream(path) << "allow a b file read\n\nallow oops\n";
  std::ostringstream out, err;
  try {
    runPolicyCheckCommand(kTestPolicy, path, out, err);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.exitCode(), 2);
    EXPECT_NE(std::string(error.what()).find("line 3"), std::string::npos) << error.what();
  }
  EXPECT_EQ(out.str(), "");
}

TEST(PolicyIsolationCommand, SyntheticGuestsReportPairsCheckedAndNoLeaks) {
  std::ostringstream out, err;
  int status = runPolicyIsolationCommand(kTestPolicy, 50, SelinuxConfig{}, out, err);
  EXPECT_EQ(status, 0);
  auto printed = lines(out.str());
  ASSERT_EQ(printed.size(), 3u);
  EXPECT_EQ(printed[0], "policy: " + kTestPolicy);
  EXPECT_EQ(printed[1], "guests: 50");
  EXPECT_EQ(printed[2], "2550 pairs checked (all pairs), 0 leaks");
  EXPECT_EQ(err.str(), "");
}

TEST(PolicyIsolationCommand, LeaksArePrintedOneALineAndExit1) {
  std::ostringstream out, err;
  int status = runPolicyIsolationCommand(testing::kTestPolicyWithoutMcs, 3, SelinuxConfig{}, out, err);
  EXPECT_EQ(status, 1);
  auto printed = lines(out.str());
  ASSERT_EQ(printed.size(), 2u + 6u + 1u);
  EXPECT_EQ(printed[2],
            "leak: synthetic-1 (system_u:system_r:svirt_t:s0:c0,c1) may read,write,open the image "
            "of synthetic-2 (system_u:object_r:svirt_image_t:s0:c0,c2)");
  EXPECT_EQ(printed.back(), "12 pairs checked (all pairs), 6 leaks");
}

}  // namespace
}  // namespace seclabel

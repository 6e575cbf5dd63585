// PolicyDb: loading compiled policies and answering access questions.
#include "policy/policy_db.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "tests/policy/test_paths.h"

namespace seclabel {
namespace {

using testing::kTestPolicy;

TEST(PolicyDb, LoadsTheMcsTestPolicy) {
  auto policy = PolicyDb::load(kTestPolicy);
  EXPECT_TRUE(policy.mls());
  EXPECT_TRUE(policy.classNamed("file").has_value());
  EXPECT_FALSE(policy.classNamed("no_such_class").has_value());
}

TEST(PolicyDb, MissingFileIsInvalidInputNamingIt) {
  try {
    PolicyDb::load("/nonexistent/policy.33");
    FAIL() << "loaded a missing file";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(error.what()).find("/nonexistent/policy.33"), std::string::npos);
  }
}

TEST(PolicyDb, FileThatIsNotAPolicyIsInvalidInput) {
  const std::string path = ::testing::TempDir() + "/not-a-policy";
  std::ofstream(path) << "allow a b file read\n";
  try {
    PolicyDb::load(path);
    FAIL() << "loaded a text file as a policy";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::InvalidInput);
    EXPECT_NE(std::string(error.what()).find("not a binary SELinux policy"), std::string::npos);
  }
}

TEST(PolicyDb, RejectsContextsThePolicyDoesNotKnow) {
  auto policy = PolicyDb::load(kTestPolicy);
  std::string why;
  EXPECT_TRUE(policy.sidOf("system_u:system_r:svirt_t:s0:c1,c2").has_value());
  EXPECT_FALSE(policy.sidOf("system_u:system_r:nope_t:s0", &why).has_value());
  EXPECT_NE(why.find("not valid"), std::string::npos);
  EXPECT_FALSE(policy.sidOf("system_u:system_r:svirt_t:s0:c1,c1024").has_value());
  EXPECT_FALSE(policy.sidOf("garbage").has_value());
  EXPECT_FALSE(policy.sidOf(std::string(5000, 'a'), &why).has_value());
  EXPECT_NE(why.find("longer"), std::string::npos);
}

TEST(PolicyDb, TwoPoliciesInOneProcessAnswerIndependently) {
  // libsepol keeps one global policy; PolicyDb switches it per call.
  auto mcs = PolicyDb::load(kTestPolicy);
  auto noMcs = PolicyDb::load(testing::kTestPolicyWithoutMcs);
  auto decideCrossRead = [](const PolicyDb& policy) {
    auto source = policy.sidOf("system_u:system_r:svirt_t:s0:c1,c2");
    auto target = policy.sidOf("system_u:object_r:svirt_image_t:s0:c3,c4");
    auto cls = policy.classNamed("file");
    auto read = policy.permissionNamed(*cls, "read");
    return policy.decide(*source, *target, *cls, *read).allowed;
  };
  EXPECT_EQ(decideCrossRead(mcs), 0u);
  EXPECT_NE(decideCrossRead(noMcs), 0u);
  EXPECT_EQ(decideCrossRead(mcs), 0u);
}

}  // namespace
}  // namespace seclabel

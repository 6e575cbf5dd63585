// Paths the policy tests use (set by tests/policy/CMakeLists.txt).
#pragma once

#include <filesystem>
#include <string>

namespace seclabel::testing {

inline const std::string kTestPolicy = SECLABEL_TEST_POLICY;
inline const std::string kTestPolicyWithoutMcs = SECLABEL_TEST_POLICY_NOMCS;
// Debian's compiled reference policy (selinux-policy-default).
inline const std::string kDebianPolicy = "/etc/selinux/default/policy/policy.33";

inline std::string testData(const std::string& name) {
  return std::string(SECLABEL_POLICY_TEST_DATA) + "/" + name;
}

inline bool debianPolicyInstalled() { return std::filesystem::exists(kDebianPolicy); }

}  // namespace seclabel::testing

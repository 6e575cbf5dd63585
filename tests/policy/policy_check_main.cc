// policy_check EXPECTATIONS POLICY: runPolicyCheckCommand without the rest of
// the seclabel command, for script tests that check a policy built during
// the test (tests/policy/module_test.sh).
#include <iostream>

#include "core/error.h"
#include "tools/policy_output.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: policy_check POLICY EXPECTATIONS\n";
    return 2;
  }
  try {
    return seclabel::runPolicyCheckCommand(argv[1], argv[2], std::cout, std::cerr);
  } catch (const seclabel::Error& error) {
    std::cerr << "policy_check: " << error.what() << '\n';
    return error.exitCode();
  }
}

// The guest's child shares the launcher's memory until its execve
// (clone(CLONE_VM)). Clearing its capabilities must change only the child:
// libcap-ng keeps its state in a thread-local struct, which such a child
// would share with the launcher's thread, so the step uses capset(2) on its
// own stack instead.
#include <cap-ng.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "process/process_spawn.h"
#include "tests/process/test_support.h"

namespace seclabel {
namespace {

using testing::FakeSelinuxHost;
using testing::guestIdentity;
using testing::runInChild;

TEST(GuestChild, LeavesTheLaunchersLibcapNgStateAsItWas) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  // In a child of the test: the launcher here reads its capabilities into
  // libcap-ng's state, spawns a guest, and looks at that state again.
  testing::ChildResult child = runInChild([&] {
    capng_clear(CAPNG_SELECT_BOTH);
    if (capng_get_caps_process() != 0) return std::string("setup: capng_get_caps_process");
    if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) != 1)
      return std::string("setup: no CAP_SETUID");
    try {
      const pid_t pid = spawnWithIdentity({"/bin/true"}, prepared, host);
      int status = 0;
      if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return std::string("the guest did not run");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string(capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) == 1
                           ? "state kept"
                           : "the guest's child cleared the launcher's libcap-ng state");
  });
  EXPECT_EQ(child.output, "state kept");
}

}  // namespace
}  // namespace seclabel

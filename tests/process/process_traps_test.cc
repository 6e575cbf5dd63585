// The known traps of dropping privileges before exec, each shown on the real
// kernel (or, for SELinux, which this kernel has off, at the host interface):
// what goes wrong with the naive sequence, and that applyProcessIdentity
// does not fall into it.
#include <cap-ng.h>
#include <gtest/gtest.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "process/process.h"
#include "tests/process/test_support.h"

namespace seclabel {
namespace {

using testing::FakeSelinuxHost;
using testing::guestIdentity;
using testing::kGuestGid;
using testing::kGuestUid;
using testing::ownStatus;
using testing::runInChild;
using testing::statusField;

const std::string kNoCaps = "0000000000000000";
const std::string kNetBindService = "0000000000000400";  // bit 10

// Raises CAP_NET_BIND_SERVICE into the inheritable and ambient sets, the way
// a launcher started with AmbientCapabilities= would have it.
bool raiseAmbientNetBindService() {
  capng_get_caps_process();
  capng_update(CAPNG_ADD, CAPNG_INHERITABLE, CAP_NET_BIND_SERVICE);
  return capng_apply(CAPNG_SELECT_CAPS) == 0 &&
         ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE,
                 0, 0) == 0;
}

std::string applyGuestIdentity(const ProcessIdentity& identity) {
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  ProcessStepFailure failure;
  if (!applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd())) {
    return "failed: " + describeFailure(failure, prepared);
  }
  return ownStatus();
}

// Trap 1: setresgid leaves the supplementary groups alone, so a launcher
// running as root with root's groups hands them to the guest.
TEST(ProcessTraps, SetresgidAloneKeepsTheLaunchersSupplementaryGroups) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    const gid_t rootGroups[] = {0, 4, 27};
    if (::setgroups(3, rootGroups) != 0) return std::string("setup");
    ::setresgid(kGuestGid, kGuestGid, kGuestGid);
    ::setresuid(kGuestUid, kGuestUid, kGuestUid);
    return statusField(ownStatus(), "Groups");
  });
  EXPECT_EQ(child.output, "0 4 27");
}

TEST(ProcessTraps, TheGuestEndsWithNoneOfTheLaunchersGroups) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    const gid_t rootGroups[] = {0, 4, 27};
    if (::setgroups(3, rootGroups) != 0) return std::string("setup");
    return statusField(applyGuestIdentity(guestIdentity()), "Groups");
  });
  EXPECT_EQ(child.output, "");
}

// Trap 2: the uid change wipes the ambient set (the kernel does that on a
// root-to-nonroot change) but not the inheritable set, and with
// PR_SET_KEEPCAPS not the permitted set either.
TEST(ProcessTraps, AUidChangeWipesAmbientButKeepsInheritableAndKeptCaps) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    if (!raiseAmbientNetBindService()) return std::string("setup");
    std::string before = statusField(ownStatus(), "CapAmb");
    ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    ::setresgid(kGuestGid, kGuestGid, kGuestGid);
    ::setresuid(kGuestUid, kGuestUid, kGuestUid);
    std::string after = ownStatus();
    return "CapAmb " + before + " -> " + statusField(after, "CapAmb") +
           ", CapInh " + statusField(after, "CapInh") + ", CapPrm empty " +
           (statusField(after, "CapPrm") == kNoCaps ? "yes" : "no");
  });
  EXPECT_EQ(child.output, "CapAmb " + kNetBindService + " -> " + kNoCaps +
                              ", CapInh " + kNetBindService +
                              ", CapPrm empty no");
}

TEST(ProcessTraps, NoAmbientInheritableOrKeptCapabilitySurvivesTheIdentity) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    if (!raiseAmbientNetBindService()) return std::string("setup");
    ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    std::string status = applyGuestIdentity(guestIdentity());
    std::string caps;
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
      caps += std::string(set) + "=" + statusField(status, set) + " ";
    }
    return caps;
  });
  EXPECT_EQ(child.output, "CapInh=" + kNoCaps + " CapPrm=" + kNoCaps +
                              " CapEff=" + kNoCaps + " CapBnd=" + kNoCaps +
                              " CapAmb=" + kNoCaps + " ");
}

// Why the bounding set is dropped before setresuid, with raw prctl: after the
// uid change CAP_SETPCAP is gone, the kernel refuses PR_CAPBSET_DROP, and
// libcap-ng's capng_apply(CAPNG_SELECT_ALL) skips the bounding set yet
// reports success.
TEST(ProcessTraps, AfterTheUidChangeTheBoundingSetCanNoLongerBeDropped) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    std::string bounding = statusField(ownStatus(), "CapBnd");
    ::setresgid(kGuestGid, kGuestGid, kGuestGid);
    ::setresuid(kGuestUid, kGuestUid, kGuestUid);
    int dropped = ::prctl(PR_CAPBSET_DROP, CAP_CHOWN, 0, 0, 0);
    int dropErrno = errno;
    capng_clear(CAPNG_SELECT_ALL);
    int applied = capng_apply(CAPNG_SELECT_ALL);
    bool unchanged = statusField(ownStatus(), "CapBnd") == bounding;
    return "drop " + std::to_string(dropped) + " errno " +
           std::to_string(dropErrno) + ", capng_apply " +
           std::to_string(applied) + ", bounding unchanged " +
           (unchanged ? "yes" : "no");
  });
  EXPECT_EQ(child.output, "drop -1 errno " + std::to_string(EPERM) +
                              ", capng_apply 0, bounding unchanged yes");
}

// Trap 3: SELinux checks no_new_privs at execve. The exec context is set
// first, while the thread is still root and NNP is still off (after the uid
// change the task is non-dumpable and its attr files are root's).
TEST(ProcessTraps, TheExecContextIsSetBeforeTheUidChangeAndBeforeNoNewPrivs) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Enforcing);
  ProcessIdentity identity = guestIdentity();
  identity.execContext = "system_u:system_r:svirt_t:s0:c12,c345";
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  testing::ChildResult child = runInChild([&] {
    ProcessStepFailure failure;
    if (!applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd())) {
      return describeFailure(failure, prepared);
    }
    return statusField(ownStatus(), "NoNewPrivs");
  });
  EXPECT_EQ(child.output, "1");
  const testing::ExecContextCall& call = host.lastCall();
  EXPECT_EQ(call.calls, 1);
  EXPECT_STREQ(call.context, "system_u:system_r:svirt_t:s0:c12,c345");
  EXPECT_STREQ(call.uid, "0\t0\t0\t0");
  EXPECT_STREQ(call.noNewPrivs, "0");
}

TEST(ProcessTraps, OnAnEnforcingHostAFailedExecContextStopsEverything) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Enforcing, EACCES);
  ProcessIdentity identity = guestIdentity();
  identity.execContext = "system_u:system_r:svirt_t:s0:c1,c2";
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  testing::ChildResult child = runInChild([&] {
    ProcessStepFailure failure;
    if (applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd())) return std::string("applied");
    return describeFailure(failure, prepared) + " | uid still " +
           statusField(ownStatus(), "Uid");
  });
  EXPECT_EQ(child.output,
            "cannot set SELinux exec context to "
            "system_u:system_r:svirt_t:s0:c1,c2 (the host is enforcing): "
            "Permission denied | uid still 0 0 0 0");
}

TEST(ProcessTraps, OnAPermissiveOrDisabledHostAFailedExecContextIsTolerated) {
  SECLABEL_SKIP_UNLESS_ROOT();
  for (SelinuxMode mode : {SelinuxMode::Permissive, SelinuxMode::Disabled}) {
    FakeSelinuxHost host(mode, EINVAL);
    ProcessIdentity identity = guestIdentity();
    identity.execContext = "system_u:system_r:svirt_t:s0:c1,c2";
    PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
    testing::ChildResult child = runInChild([&] {
      ProcessStepFailure failure;
      if (!applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd())) {
        return describeFailure(failure, prepared);
      }
      return statusField(ownStatus(), "Uid");
    });
    EXPECT_EQ(child.output, "1879113700 1879113700 1879113700 1879113700");
    EXPECT_EQ(host.lastCall().calls, 1);
  }
}

TEST(ProcessTraps, AnExecRefusedUnderNoNewPrivsPointsAtNnpTransition) {
  FakeSelinuxHost host(SelinuxMode::Enforcing);
  ProcessIdentity identity = guestIdentity();
  identity.execContext = "system_u:system_r:svirt_t:s0:c1,c2";
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  ProcessStepFailure refused;
  refused.step = ProcessStep::Exec;
  refused.errnum = EPERM;
  EXPECT_EQ(describeFailure(refused, prepared, "/usr/bin/qemu-system-x86_64"),
            "cannot execute /usr/bin/qemu-system-x86_64: Operation not "
            "permitted (no_new_privs is set: the SELinux policy must allow "
            "process2 nnp_transition into system_u:system_r:svirt_t:s0:c1,c2, "
            "or set [process] no_new_privs = false)");
}

}  // namespace
}  // namespace seclabel

// applyProcessIdentity as the kernel sees it afterwards: every test applies
// the identity in a forked child and reads the child's own status.
#include "process/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/error.h"
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

const std::string kGuestIds4 =
    "1879113700 1879113700 1879113700 1879113700";
const std::string kNoCaps = "0000000000000000";

// Applies `identity` in a child; returns the child's status afterwards, or
// "failed: <message>" when a step refused.
std::string statusAfterApplying(ProcessIdentity identity,
                                SelinuxMode mode = SelinuxMode::Disabled) {
  FakeSelinuxHost host(mode);
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  testing::ChildResult child = runInChild([&] {
    ProcessStepFailure failure;
    if (!applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd())) {
      return "failed: " + describeFailure(failure, prepared);
    }
    return ownStatus();
  });
  EXPECT_TRUE(child.exitedCleanly());
  return child.output;
}

void expectNoCapabilities(const std::string& status) {
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(statusField(status, set), kNoCaps) << set;
  }
}

TEST(ApplyProcessIdentity, KernelShowsTheGuestIdsNoGroupsNoCapsAndNoNewPrivs) {
  SECLABEL_SKIP_UNLESS_ROOT();
  std::string status = statusAfterApplying(guestIdentity());
  ASSERT_EQ(status.rfind("failed", 0), std::string::npos) << status;
  EXPECT_EQ(statusField(status, "Uid"), kGuestIds4);
  EXPECT_EQ(statusField(status, "Gid"), kGuestIds4);
  EXPECT_EQ(statusField(status, "Groups"), "");
  expectNoCapabilities(status);
  EXPECT_EQ(statusField(status, "NoNewPrivs"), "1");
}

TEST(ApplyProcessIdentity, NoNewPrivsStaysOffWhenTheConfigDisablesIt) {
  SECLABEL_SKIP_UNLESS_ROOT();
  ProcessIdentity identity = guestIdentity();
  identity.noNewPrivs = false;
  std::string status = statusAfterApplying(identity);
  ASSERT_EQ(status.rfind("failed", 0), std::string::npos) << status;
  EXPECT_EQ(statusField(status, "NoNewPrivs"), "0");
  EXPECT_EQ(statusField(status, "Uid"), kGuestIds4);
  expectNoCapabilities(status);
}

TEST(ApplyProcessIdentity, ConfiguredGroupsAreExactlyTheSupplementaryGroups) {
  SECLABEL_SKIP_UNLESS_ROOT();
  ProcessIdentity identity = guestIdentity();
  // "adm" is in every Debian's base group file; +4242 is a group no name has.
  identity.groups = resolveGroupNames({"adm", "+4242"});
  ASSERT_EQ(identity.groups, (std::vector<gid_t>{4, 4242}));
  std::string status = statusAfterApplying(identity);
  ASSERT_EQ(status.rfind("failed", 0), std::string::npos) << status;
  EXPECT_EQ(statusField(status, "Groups"), "4 4242");
  EXPECT_EQ(statusField(status, "Gid"), kGuestIds4);
}

TEST(ApplyProcessIdentity, FdsNotKeptAreClosedAndKeptOnesLoseCloseOnExec) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  testing::ChildResult child = runInChild([&] {
    // A leaked launcher fd (inheritable) and a guest fd opened O_CLOEXEC,
    // as fds usually are: the first must go, the second must reach QEMU.
    int leaked = ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD, 100);
    int forGuest =
        ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD_CLOEXEC, 110);
    // (The two originals leak only into this child, which the identity's
    // close step then cleans up as well.)
    ProcessIdentity identity = guestIdentity();
    identity.keepFds = {forGuest, 1};
    PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
    ProcessStepFailure failure;
    if (!applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd())) {
      return "failed: " + describeFailure(failure, prepared);
    }
    int leakedFlags = ::fcntl(leaked, F_GETFD);
    int leakedErrno = errno;
    int keptFlags = ::fcntl(forGuest, F_GETFD);
    return "leaked " + std::to_string(leakedFlags) + " errno " +
           std::to_string(leakedErrno) + ", kept flags " +
           std::to_string(keptFlags);
  });
  EXPECT_EQ(child.output, "leaked -1 errno " + std::to_string(EBADF) +
                              ", kept flags 0");
}

TEST(ApplyProcessIdentity, AKeptFdThatIsNotOpenFailsThatStep) {
  SECLABEL_SKIP_UNLESS_ROOT();
  ProcessIdentity identity = guestIdentity();
  identity.keepFds = {987};
  EXPECT_EQ(statusAfterApplying(identity),
            "failed: cannot keep fd 987 open for the guest: Bad file "
            "descriptor");
}

TEST(ApplyProcessIdentity, WithoutCapSetuidTheSetresuidStepFailsPrecisely) {
  SECLABEL_SKIP_UNLESS_ROOT();
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  testing::ChildResult child = runInChild([&] {
    // Everything the earlier steps need, but not CAP_SETUID.
    if (::prctl(PR_CAPBSET_DROP, CAP_SETUID, 0, 0, 0) != 0) return std::string("setup");
    capng_get_caps_process();
    capng_update(CAPNG_DROP, capng_type_t(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                 CAP_SETUID);
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) return std::string("setup");
    ProcessStepFailure failure;
    if (applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd())) return std::string("applied");
    return describeFailure(failure, prepared) + " | uid now " +
           statusField(ownStatus(), "Uid");
  });
  EXPECT_EQ(child.output,
            "cannot setresuid to 1879113700: Operation not permitted | uid "
            "now 0 0 0 0");
}

// A launcher without CAP_SETPCAP cannot drop from the bounding set; when
// the set is already empty there is nothing to drop and the identity
// applies, and when something is left the step fails naming it.
std::string applyWithoutSetpcap(int keptInBoundingSet) {
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
  testing::ChildResult child = runInChild([&] {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap)
      if (cap != keptInBoundingSet && cap != CAP_SETPCAP) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (keptInBoundingSet != CAP_SETPCAP) ::prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0);
    capng_get_caps_process();
    capng_update(CAPNG_DROP, capng_type_t(CAPNG_EFFECTIVE | CAPNG_PERMITTED), CAP_SETPCAP);
    if (capng_apply(CAPNG_SELECT_CAPS) != 0) return std::string("setup");
    ProcessStepFailure failure;
    if (!applyProcessIdentity(prepared, host, &failure, testing::childReportFd()))
      return describeFailure(failure, prepared);
    return "applied, CapBnd " + statusField(ownStatus(), "CapBnd");
  });
  return child.output;
}

TEST(ApplyProcessIdentity, WithoutCapSetpcapAnEmptyBoundingSetIsAlreadyDone) {
  SECLABEL_SKIP_UNLESS_ROOT();
  EXPECT_EQ(applyWithoutSetpcap(-1), "applied, CapBnd 0000000000000000");
}

TEST(ApplyProcessIdentity, WithoutCapSetpcapACapabilityLeftInTheBoundingSetFailsThatStep) {
  SECLABEL_SKIP_UNLESS_ROOT();
  EXPECT_EQ(applyWithoutSetpcap(CAP_NET_RAW),
            "cannot drop capability " + std::to_string(CAP_NET_RAW) +
                " from the bounding set: Operation not permitted");
}

TEST(ApplyProcessIdentity, AVerificationMismatchRefusesAndNamesTheField) {
  SECLABEL_SKIP_UNLESS_ROOT();
  ProcessIdentity identity = guestIdentity();
  identity.noNewPrivs = false;
  FakeSelinuxHost host(SelinuxMode::Disabled);
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  testing::ChildResult child = runInChild([&] {
    // Something changed the thread after the steps: here no_new_privs,
    // which an unprivileged thread can still switch on.
    ApplyHooks hooks;
    hooks.beforeVerify = [](void*) { ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); };
    ProcessStepFailure failure;
    if (applyProcessIdentity(prepared, host, &failure,
                              testing::childReportFd(), &hooks)) return std::string("applied");
    return describeFailure(failure, prepared);
  });
  EXPECT_EQ(child.output,
            "refusing to exec: after applying the identity the kernel shows "
            "NoNewPrivs \"1\", expected \"0\"");
}

TEST(ResolveGroupNames, AnUnknownGroupIsInvalidInputNamingIt) {
  try {
    resolveGroupNames({"adm", "no-such-group-for-seclabel"});
    FAIL() << "an unknown group was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InvalidInput);
    EXPECT_STREQ(e.what(),
                 "[dac] groups: unknown group \"no-such-group-for-seclabel\"");
  }
}

TEST(ResolveGroupNames, NamesAndPlusNumbersKeepTheirOrder) {
  EXPECT_EQ(resolveGroupNames({"+107", "adm", "root"}),
            (std::vector<gid_t>{107, 4, 0}));
  EXPECT_TRUE(resolveGroupNames({}).empty());
}

TEST(PreparedIdentity, SortsAndDeduplicatesGroupsAndKeptFdsAndLeavesStdioAlone) {
  FakeSelinuxHost host(SelinuxMode::Disabled);
  ProcessIdentity identity = guestIdentity();
  identity.groups = {107, 4, 107};
  identity.keepFds = {9, 2, 5, 9, 0};
  PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
  EXPECT_EQ(prepared.groups(), (std::vector<gid_t>{4, 107}));
  EXPECT_EQ(prepared.keepFds(), (std::vector<int>{5, 9}));
}

TEST(PreparedIdentity, RejectsANegativeFdAndAnEmptyContext) {
  FakeSelinuxHost host(SelinuxMode::Enforcing);
  ProcessIdentity badFd = guestIdentity();
  badFd.keepFds = {-1};
  EXPECT_THROW(PreparedIdentity::prepare(badFd, host), Error);
  ProcessIdentity emptyContext = guestIdentity();
  emptyContext.execContext = "";
  EXPECT_THROW(PreparedIdentity::prepare(emptyContext, host), Error);
}

TEST(PreparedIdentity, RemembersWhetherTheHostEnforces) {
  FakeSelinuxHost enforcing(SelinuxMode::Enforcing);
  FakeSelinuxHost permissive(SelinuxMode::Permissive);
  EXPECT_TRUE(PreparedIdentity::prepare(guestIdentity(), enforcing)
                  .selinuxEnforcing());
  EXPECT_FALSE(PreparedIdentity::prepare(guestIdentity(), permissive)
                   .selinuxEnforcing());
}

}  // namespace
}  // namespace seclabel

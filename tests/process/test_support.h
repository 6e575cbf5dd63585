// Shared pieces of the process-side tests: a forked child to change
// credentials in, the kernel's status fields, and a fake SelinuxHost (the one
// host interface this kernel, without SELinux, cannot serve).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "process/process.h"
#include "secdriver/selinux_host.h"

namespace seclabel::testing {

// An id of the default [dac] range above the slices tests allocate from
// (tests/support/dac_slice.h): a guest restored by another test running at
// the same time ends every process of its uid, never of this one.
inline constexpr uid_t kGuestUid = 1879113700;
inline constexpr gid_t kGuestGid = 1879113700;

#define SECLABEL_SKIP_UNLESS_ROOT()                                         \
  if (::geteuid() != 0)                                                     \
  GTEST_SKIP() << "needs root: the test changes uid, gid, groups and "     \
                  "capabilities (in a forked child)"

// What a forked child returned, and how it ended.
struct ChildResult {
  std::string output;
  int waitStatus = 0;
  bool exitedCleanly() const;
};

// Runs `body` in a forked child: credential changes never reach the test
// process. The child sends back what `body` returns ("exception: ..." if it
// threw) and exits 0.
ChildResult runInChild(const std::function<std::string()>& body);

// Inside runInChild's body: the fd the result goes back through. Pass it as
// applyProcessIdentity's reportFd, or the close step cuts the child off.
int childReportFd();

// The value of `name` in /proc status text, blanks collapsed to one space
// ("1879113700 1879113700 1879113700 1879113700"); "(missing)" if absent.
std::string statusField(const std::string& statusText,
                        const std::string& name);
std::string readWholeFile(const std::string& path);
std::string ownStatus();  // /proc/thread-self/status of the caller

// The guest identity most tests apply: the guest uid and gid, no groups,
// no_new_privs on, nothing kept.
ProcessIdentity guestIdentity();

// What the fake host saw when setExecContext was called; lives in memory
// shared with forked children, so a child's call is visible to the test.
struct ExecContextCall {
  int calls;
  char context[256];
  char uid[64];         // the caller's Uid: line at the time of the call
  char noNewPrivs[8];   // the caller's NoNewPrivs: at the time of the call
};

class FakeSelinuxHost : public SelinuxHost {
 public:
  // setExecContext returns `execContextErrno` (0: success).
  explicit FakeSelinuxHost(SelinuxMode mode, int execContextErrno = 0);
  ~FakeSelinuxHost() override;
  FakeSelinuxHost(const FakeSelinuxHost&) = delete;
  FakeSelinuxHost& operator=(const FakeSelinuxHost&) = delete;

  const ExecContextCall& lastCall() const { return *call_; }

  SelinuxMode mode() const override { return mode_; }
  std::optional<SelinuxPolicyContexts> policyContexts() const override {
    return std::nullopt;
  }
  std::optional<std::string> getFileLabel(int) const override {
    return std::nullopt;
  }
  void setFileLabel(int, const std::string&) override {}
  void removeFileLabel(int) override {}
  // Allocation-free: it runs in the child between fork and exec.
  int setExecContext(const char* context) noexcept override;

 private:
  SelinuxMode mode_;
  int execContextErrno_;
  ExecContextCall* call_;
};

}  // namespace seclabel::testing

// The process side of a guest's identity (docs/architecture.md, "The
// process step"): what the guest process becomes right before execve().
//
// Two halves, split at clone():
//  - before clone, in ordinary C++: ProcessIdentity says what the guest gets;
//    PreparedIdentity::prepare() checks it and does every allocation and every
//    lookup (group names, the host's SELinux mode, the last capability);
//  - in the child (clone(CLONE_VM | CLONE_VFORK): it shares the launcher's
//    memory until its execve), or in the launcher itself right before an
//    in-place execve: applyProcessIdentity() performs the steps in order and
//    checks each. It allocates nothing, takes no lock, throws nothing and
//    writes only its own stack (the memory is the launcher's; another
//    thread may hold the malloc lock), and reports a failure in a
//    fixed-size struct that the launcher turns into an Error (see
//    process/process_spawn.h).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/environment.h"
#include "core/export.h"
#include "secdriver/selinux_host.h"

namespace seclabel {

// Whether the guest may use a terminal the launcher holds. A process that
// can read a terminal reads what root types there next (a password); one
// that can write to it can send the escape sequences a terminal answers by
// "typing" the answer into whatever reads it (root's shell).
enum class TerminalAccess {
  // The default: a terminal on stdin, stdout or stderr is replaced by
  // /dev/null in the guest, and a kept fd that is a terminal fails the start.
  Withhold,
  // The caller asked for it (seclabel --tty): stdio and kept fds stay as
  // given. The guest still never gets a controlling terminal (ProcessStep::
  // Session), so TIOCSTI and job-control signals cannot reach the launcher's.
  Grant,
};

// What the guest process gets. Plain data: checked by PreparedIdentity.
struct ProcessIdentity {
  // SELinux context for the guest's execve (setexeccon); none for DAC only.
  std::optional<std::string> execContext;
  uid_t uid = 0;
  gid_t gid = 0;
  // Supplementary groups; empty means none at all (not "keep the caller's").
  std::vector<gid_t> groups;
  // [process] no_new_privs.
  bool noNewPrivs = true;
  // Fds above 2 the guest inherits (QEMU's -add-fd fds). Stdio always stays
  // (but see `terminal`).
  std::vector<int> keepFds;
  // The guest's whole environment, "NAME=VALUE" each: nothing of the
  // launcher's own is passed on (core/environment.h).
  std::vector<std::string> environment = guestEnvironment({}, {});
  TerminalAccess terminal = TerminalAccess::Withhold;
};

// `[dac] groups` names (or "+N" numbers) as gids, through NSS. Runs before
// fork: NSS may allocate, open files and talk to daemons. Throws
// Error(InvalidInput) naming an unknown group.
std::vector<gid_t> resolveGroupNames(const std::vector<std::string>& names);

// A ProcessIdentity checked and laid out so that applying it needs no
// allocation. Built only by prepare(); read-only afterwards.
class SECLABEL_API PreparedIdentity {
 public:
  // Reads the host's SELinux mode (a failed exec context is fatal only when
  // enforcing, as in libvirt) and the kernel's last capability. Throws
  // Error(InvalidInput) for a negative fd, an empty exec context or an
  // environment entry checkEnvironmentEntry refuses.
  static PreparedIdentity prepare(ProcessIdentity identity,
                                  const SelinuxHost& host);

  const std::optional<std::string>& execContext() const {
    return identity_.execContext;
  }
  bool selinuxEnforcing() const { return selinuxEnforcing_; }
  uid_t uid() const { return identity_.uid; }
  gid_t gid() const { return identity_.gid; }
  // Sorted, without duplicates.
  const std::vector<gid_t>& groups() const { return identity_.groups; }
  bool noNewPrivs() const { return identity_.noNewPrivs; }
  // Sorted, without duplicates, every one above 2.
  const std::vector<int>& keepFds() const { return identity_.keepFds; }
  const std::vector<std::string>& environment() const { return identity_.environment; }
  TerminalAccess terminal() const { return identity_.terminal; }
  int lastCapability() const { return lastCapability_; }

 private:
  PreparedIdentity() = default;
  ProcessIdentity identity_;
  bool selinuxEnforcing_ = false;
  int lastCapability_ = 0;
};

// At most this many launcher fds survive the identity's close step.
inline constexpr size_t kMaxLauncherFds = 4;

// The steps, in the order they run.
enum class ProcessStep : uint8_t {
  None = 0,
  Session,         // setsid, or giving up the controlling terminal
  Terminal,        // a terminal on stdio replaced by /dev/null, or refused
  ExecContext,     // SelinuxHost::setExecContext
  SetGroups,       // setgroups
  SetResGid,       // setresgid
  DropBounding,    // PR_CAPBSET_DROP, while CAP_SETPCAP is still there
  SetResUid,       // setresuid
  ClearCapabilities,  // capset(2): effective, permitted, inheritable
  ClearAmbient,    // PR_CAP_AMBIENT_CLEAR_ALL
  NoNewPrivs,      // PR_SET_NO_NEW_PRIVS
  KeepFd,          // clear FD_CLOEXEC on an fd the guest inherits
  CloseFds,        // close_range over the gaps between kept fds
  ReadStatus,      // read /proc/thread-self/status
  Verify,          // the kernel's view differs from what was asked
  Exec,            // execve itself (filled by the spawn helpers)
};

// Which step failed and why. Fixed size and trivially copyable: the child
// writes it into a pipe in one write() (well under PIPE_BUF, so atomic).
struct ProcessStepFailure {
  ProcessStep step = ProcessStep::None;
  int errnum = 0;
  int64_t detail = 0;  // the capability, fd, or fd range start of the step
  int64_t detail2 = 0;  // the fd range end for CloseFds; Session/Terminal: why
  char field[16] = {};  // Verify: the status field that differs
  char seen[112] = {};  // Verify: what the kernel showed
};

// "cannot setresuid to 1879048193: Operation not permitted", naming the
// object of the step; `command` is used for the Exec step.
std::string describeFailure(const ProcessStepFailure& failure,
                            const PreparedIdentity& identity,
                            const std::string& command = {});

// Test seams, never set in production: a function run after every step and
// before the verification, so a test can change the kernel's view and watch
// the verification refuse.
struct ApplyHooks {
  void (*beforeVerify)(void* argument) = nullptr;
  void* argument = nullptr;
};

// Applies `identity` to the calling thread, in the order of
// docs/architecture.md ("The process step"), each step checked, then
// verifies the result from /proc/thread-self/status.
// Returns true when the thread may now execve(); otherwise fills `failure`
// (the thread is then half-changed and must not exec: _exit()).
//
// First of all the process leaves the launcher's session and terminal
// (process/session.h): a session of its own (setsid), or, where the kernel
// refuses that to a process group leader (an in-place exec), at least no
// controlling terminal; then terminals on stdio are withheld unless
// identity.terminal() grants them.
//
// Contract: called in a clone() child or right before an in-place execve();
// allocation-free and async-signal-safe; needs CAP_SETGID, CAP_SETUID and
// CAP_SETPCAP (root). `launcherFds` (the spawn helper's report pipe, say; at
// most kMaxLauncherFds, each O_CLOEXEC so execve closes it) stay open while
// every other fd above 2 that is not in keepFds() is closed.
bool applyProcessIdentity(const PreparedIdentity& identity, SelinuxHost& host,
                          ProcessStepFailure* failure, std::span<const int> launcherFds,
                          const ApplyHooks* hooks = nullptr) noexcept;
// The same with one launcher fd (-1: none).
bool applyProcessIdentity(const PreparedIdentity& identity, SelinuxHost& host,
                          ProcessStepFailure* failure, int reportFd = -1,
                          const ApplyHooks* hooks = nullptr) noexcept;

}  // namespace seclabel

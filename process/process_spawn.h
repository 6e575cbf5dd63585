// Starting a guest command under its identity: in a child (seclabel run, a
// C++ launcher) or in place (seclabel exec).
//
// The child reports a failed step to the parent through a close-on-exec
// pipe (the self-pipe trick): it writes one ProcessStepFailure and _exits;
// when execve() succeeds the kernel closes the pipe and the parent reads EOF.
// So the parent knows, before it returns, whether the guest is running.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "process/process.h"
#include "secdriver/selinux_host.h"

namespace seclabel {

// Exit status of a child that did not reach the guest command, as shells use
// them: 127 when the command does not exist, 126 for every other failure.
inline constexpr int kExitCommandNotFound = int(ExitCode::CommandNotFound);
inline constexpr int kExitCannotRun = int(ExitCode::CannotExecute);

// argv[0] as execve() needs it: unchanged when it contains '/', otherwise
// the first regular executable file of that name in the launcher's $PATH
// (default /usr/local/bin:/usr/bin:/bin). Runs before fork, as root. Throws
// Error(CommandNotFound, ENOENT) "cannot execute NAME: command not found in
// PATH".
std::string resolveCommand(const std::string& name);

// The exit code of a failed start: CommandNotFound or CannotExecute when
// execve() itself failed (ENOENT or anything else), Failed when a step of
// the identity did.
ExitCode exitCodeFor(const ProcessStepFailure& failure);

// Starts a child (clone, as posix_spawn does: it shares the caller's memory
// until its execve); the child applies `identity` (applyProcessIdentity: its
// own session first) and execs argv (argv[0] through resolveCommand) with
// identity.environment(), never the caller's environment. Returns
// the pid once the command is running: its execve() succeeded. Otherwise
// reaps the child and throws Error with the failed step, for example
// "cannot setresuid to 1879048193: Operation not permitted". The caller's
// signal mask and dispositions are untouched; the child starts with no
// signal blocked and every handler at its default. `hooks` is for tests.
pid_t spawnWithIdentity(const std::vector<std::string>& argv,
                        const PreparedIdentity& identity, SelinuxHost& host,
                        const ApplyHooks* hooks = nullptr);

// spawnWithIdentity in two halves: startWithIdentity starts the child and
// returns once it has exec'd or given up (the calling thread sleeps until
// then); awaitExec() then returns if the command runs, or reaps the child and
// throws as spawnWithIdentity does. A child that was never awaited is killed
// and reaped when the object goes away: no guest runs that its launcher
// stopped watching.
class StartingChild {
 public:
  StartingChild(StartingChild&&) noexcept = default;
  StartingChild& operator=(StartingChild&&) = delete;
  ~StartingChild();
  pid_t pid() const { return pid_; }
  void awaitExec();

 private:
  friend StartingChild startWithIdentity(const std::vector<std::string>&,
                                         const PreparedIdentity&, SelinuxHost&,
                                         const ApplyHooks*);
  StartingChild(pid_t pid, UniqueFd report, std::string path, const PreparedIdentity& identity);
  pid_t pid_ = -1;
  UniqueFd report_;  // the read end of the report pipe; closed once awaited
  std::string path_;
  const PreparedIdentity* identity_;
};

StartingChild startWithIdentity(const std::vector<std::string>& argv,
                                const PreparedIdentity& identity, SelinuxHost& host,
                                const ApplyHooks* hooks = nullptr);

// Applies `identity` to the calling process and execve()s argv in place
// (same pid) with identity.environment(). Returns only by throwing Error;
// the process has then lost part of its privileges and should only report
// and exit. The caller must be the only thread that runs (credentials are
// per thread, and the identity is applied with system calls that change the
// calling thread only). `launcherFds` (O_CLOEXEC, at most 3) stay open
// until the execve, for the caller to report a failure through.
//
// The process leaves its session first (process/session.h); where it leads
// its process group the kernel refuses it a new one, and it then only gives
// up its controlling terminal (a session leader that has one is refused:
// canLeaveSessionInPlace). When a terminal on stderr is withheld from the
// guest, a failure is still reported on it: stderr is put back before the
// Error is thrown.
[[noreturn]] void execWithIdentity(const std::vector<std::string>& argv,
                                   const PreparedIdentity& identity, SelinuxHost& host,
                                   std::span<const int> launcherFds = {});

}  // namespace seclabel

// The start record of a guest that `exec` starts in place, written once the
// outcome is known.
//
// In place, the launcher becomes the guest. After a successful execve
// nothing of seclabel runs any more; a failed one (a binary the kernel
// refuses with ENOEXEC, say) returns to a process that already has the
// guest's uid, no capability (the kernel refuses user records without
// CAP_AUDIT_WRITE) and none of seclabel's fds (the identity's close step
// closed the file sink's). A record written before the execve is a guess,
// one written after it cannot be written. So a witness, a small root
// process forked before the identity is applied, writes it: it waits on a
// close-on-exec pipe whose write end only the launcher holds. EOF without a
// byte means the execve succeeded (the kernel closed the pipe as it loaded
// the new image); a byte means it failed. It then writes `op=start
// reason=booted vm-pid=PID res=success|failed` and exits.
//
// What EOF cannot tell apart, as for `run`'s report pipe: a launcher killed
// (SIGKILL, by root) between the identity and the execve also closes the
// pipe, and is then logged as started.
#pragma once

#include <sys/types.h>

#include "audit/audit.h"
#include "core/unique_fd.h"

namespace seclabel {

class ExecWitness {
 public:
  // Forks the witness, twice, so that init (or the nearest subreaper) reaps
  // it and the guest never has it as a child; it leaves this session, so
  // the terminal's ^C does not stop it before it has written. The caller
  // must be single-threaded (the witness runs C++ after fork). Throws Error
  // when it cannot be started; nothing is written then.
  static ExecWitness start(AuditLog& log, const AuditGuest& guest, pid_t guestPid);

  ExecWitness(ExecWitness&&) noexcept = default;
  ExecWitness& operator=(ExecWitness&&) = delete;
  // As startFailed() unless told already: a launcher that gives up before
  // its execve never started the guest.
  ~ExecWitness();

  // The write end of the report pipe: O_CLOEXEC; keep it open through the
  // identity's close step (execWithIdentity's launcherFds).
  int reportFd() const { return report_.get(); }

  // The start failed: the witness writes res=failed. Returns once it has
  // written, so the record comes before whatever the caller logs next (the
  // restore of a guest prepared for this exec).
  void startFailed() noexcept;

 private:
  ExecWitness(UniqueFd report, UniqueFd done) : report_(std::move(report)), done_(std::move(done)) {}
  UniqueFd report_;  // write end; closed once the outcome is told
  UniqueFd done_;    // read end; EOF once the witness has written and exited
};

}  // namespace seclabel

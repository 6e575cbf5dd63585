#include "launcher/exec_witness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "core/error.h"

namespace seclabel {

namespace {

[[noreturn]] void witness(AuditLog& log, const AuditGuest& guest, pid_t guestPid, int reportRead,
                          int reportWrite, int doneRead) {
  // Its own session: a ^C or hangup of the launcher's terminal must not end
  // it before it has written.
  ::setsid();
  // Only the launcher may hold the write end, or EOF never comes.
  ::close(reportWrite);
  ::close(doneRead);
  char byte = 0;
  ssize_t n;
  while ((n = ::read(reportRead, &byte, 1)) < 0 && errno == EINTR) {
  }
  const AuditOutcome outcome = n == 1 ? AuditOutcome::Failure : AuditOutcome::Success;
  try {
    log.write(audit::control(guest, AuditControlOp::Start, "booted", guestPid, outcome));
  } catch (const Error& e) {
    std::fprintf(stderr, "seclabel: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seclabel: audit witness: %s\n", e.what());
  }
  // The done pipe's write end closes with this process: the launcher's
  // startFailed() returns.
  std::fflush(nullptr);
  ::_exit(0);
}

}  // namespace

ExecWitness ExecWitness::start(AuditLog& log, const AuditGuest& guest, pid_t guestPid) {
  int report[2], done[2];
  if (::pipe2(report, O_CLOEXEC) != 0)
    throw Error::fromErrno("cannot create the audit witness's pipe", errno);
  UniqueFd reportRead(report[0]), reportWrite(report[1]);
  if (::pipe2(done, O_CLOEXEC) != 0)
    throw Error::fromErrno("cannot create the audit witness's pipe", errno);
  UniqueFd doneRead(done[0]), doneWrite(done[1]);

  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t first = ::fork();
  if (first < 0) throw Error::fromErrno("cannot start the audit witness", errno);
  if (first == 0) {
    const pid_t second = ::fork();
    if (second == 0) {
      witness(log, guest, guestPid, reportRead.get(), reportWrite.get(), doneRead.get());
    }
    ::_exit(second < 0 ? 1 : 0);
  }
  int status = 0;
  while (::waitpid(first, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error(ExitCode::Failed, "cannot start the audit witness: fork failed");
  return ExecWitness(std::move(reportWrite), std::move(doneRead));
}

void ExecWitness::startFailed() noexcept {
  if (!report_) return;
  const char failed = 'F';
  while (::write(report_.get(), &failed, 1) < 0 && errno == EINTR) {
  }
  report_.reset();
  char byte;
  while (::read(done_.get(), &byte, 1) < 0 && errno == EINTR) {
  }
  done_.reset();
}

ExecWitness::~ExecWitness() { startFailed(); }

}  // namespace seclabel

#include "process/session.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "process/process.h"

namespace seclabel {

namespace {

bool fail(ProcessStepFailure* failure, ProcessStep step, int errnum, int64_t detail,
          int64_t why) {
  failure->step = step;
  failure->errnum = errnum;
  failure->detail = detail;
  failure->detail2 = why;
  return false;
}

// The controlling terminal, opened through /dev/tty; -1 with errno ENXIO
// when there is none (or EIO once it was hung up: then no ioctl reaches it).
int openControllingTerminal() noexcept {
  return ::open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
}

bool noControllingTerminal(int err) { return err == ENXIO || err == EIO; }

}  // namespace

bool isTerminal(int fd) noexcept {
  struct termios settings;
  return ::ioctl(fd, TCGETS, &settings) == 0;
}

bool canLeaveSessionInPlace() noexcept {
  if (::getsid(0) != ::getpid()) return true;
  int tty = openControllingTerminal();
  if (tty < 0) return true;
  ::close(tty);
  return false;
}

bool leaveLaunchersSession(ProcessStepFailure* failure) noexcept {
  if (::setsid() >= 0) return true;
  if (errno != EPERM) {
    return fail(failure, ProcessStep::Session, errno, 0, int64_t(SessionProblem::Setsid));
  }
  const int tty = openControllingTerminal();
  if (tty < 0) {
    if (noControllingTerminal(errno)) return true;
    return fail(failure, ProcessStep::Session, errno, 0, int64_t(SessionProblem::CheckTerminal));
  }
  if (::getsid(0) == ::getpid()) {
    ::close(tty);
    return fail(failure, ProcessStep::Session, 0, 0,
                int64_t(SessionProblem::LeaderWithTerminal));
  }
  const int result = ::ioctl(tty, TIOCNOTTY);
  const int err = errno;
  ::close(tty);
  if (result != 0) {
    return fail(failure, ProcessStep::Session, err, 0, int64_t(SessionProblem::DropTerminal));
  }
  return true;
}

bool withholdTerminals(const int* keep, size_t keepCount, ProcessStepFailure* failure) noexcept {
  for (size_t i = 0; i < keepCount; ++i) {
    if (isTerminal(keep[i])) {
      return fail(failure, ProcessStep::Terminal, 0, keep[i],
                  int64_t(TerminalProblem::KeptTerminal));
    }
  }
  int devNull = -1;
  for (int fd = 0; fd <= 2; ++fd) {
    if (!isTerminal(fd)) continue;
    if (devNull < 0) devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
    // dup2 leaves the new fd without FD_CLOEXEC: the guest keeps it.
    if (devNull < 0 || ::dup2(devNull, fd) != fd) {
      const int err = errno;
      if (devNull >= 0) ::close(devNull);
      return fail(failure, ProcessStep::Terminal, err, fd, int64_t(TerminalProblem::Replace));
    }
  }
  if (devNull >= 0) ::close(devNull);
  return true;
}

}  // namespace seclabel

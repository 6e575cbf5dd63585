// The guest's session and terminal: nothing of the launcher's.
//
// A guest that shares its launcher's session and controlling terminal owns
// that terminal as much as the root shell does:
//  - TIOCSTI pushes bytes into the terminal's input queue, and the kernel
//    allows it on the caller's controlling terminal (drivers/tty/tty_io.c,
//    tiocsti(): with dev.tty.legacy_tiocsti=1, as Debian 12 ships, only a tty
//    that is not current->signal->tty needs CAP_SYS_ADMIN). "id > /tmp/x\n"
//    pushed there runs in root's shell as soon as seclabel returns;
//  - open("/dev/tty") always reaches the caller's controlling terminal,
//    whatever the device's mode, even with stdio redirected;
//  - SIGCONT may be sent to any process of the same session whatever the
//    uids (kernel/signal.c, check_kill_permission()): a guest resumes a
//    launcher that was stopped.
// A process in a session of its own has no controlling terminal, cannot take
// one that belongs to another session (TIOCSCTTY: EPERM without
// CAP_SYS_ADMIN), so TIOCSTI fails with EPERM on any terminal fd it holds,
// and its SIGCONT reaches no process of the launcher's session.
#pragma once

#include <cstddef>
#include <cstdint>

namespace seclabel {

struct ProcessStepFailure;

// Why a Session step failed (ProcessStepFailure::detail2).
enum class SessionProblem : int64_t {
  Setsid = 0,             // setsid() failed other than with EPERM
  LeaderWithTerminal = 1,  // a session leader that has a controlling terminal
  DropTerminal = 2,        // TIOCNOTTY failed
  CheckTerminal = 3,       // /dev/tty could not be opened to check
};

// Why a Terminal step failed (ProcessStepFailure::detail2).
enum class TerminalProblem : int64_t {
  Replace = 0,     // /dev/null could not be opened or dup2'd over a terminal
  KeptTerminal = 1,  // a kept fd is a terminal and none may reach the guest
};

// Whether `fd` is a terminal (TCGETS succeeds). Allocation-free.
bool isTerminal(int fd) noexcept;

// Whether this process may give a program it execs in place a session
// without a controlling terminal: every process may except a session leader
// that has one. setsid() refuses a process group leader, and a session
// leader that gives up its terminal (TIOCNOTTY) hangs up the terminal's
// foreground job. Checked before anything is prepared (seclabel exec);
// the Session step refuses the same case again.
bool canLeaveSessionInPlace() noexcept;

// The Session step, first of applyProcessIdentity. setsid(): always
// possible in a freshly cloned child, which leads no process group. The
// kernel refuses it (EPERM) to a process group leader, which an in-place
// exec may be (a shell job, a launcher that called setpgid): that process
// stays in its session but gives up its controlling terminal (TIOCNOTTY,
// which only a session leader's call turns into a hangup), so no TIOCSTI
// and no /dev/tty. A session leader that has a controlling terminal fails
// the step. Allocation-free; false with `failure` filled on failure.
bool leaveLaunchersSession(ProcessStepFailure* failure) noexcept;

// The Terminal step when terminals are withheld: a kept fd that is a
// terminal fails the step; a terminal on fd 0, 1 or 2 is replaced by
// /dev/null (open as the launcher, before the identity changes).
// Allocation-free.
bool withholdTerminals(const int* keep, size_t keepCount, ProcessStepFailure* failure) noexcept;

}  // namespace seclabel

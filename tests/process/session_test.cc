// The guest gets nothing of its launcher's session, terminal or
// environment: a session of its own without a controlling terminal (so no
// TIOCSTI into the launcher's terminal, no /dev/tty, no SIGCONT into the
// launcher's session), /dev/null instead of a terminal on its stdio unless
// granted, and only the environment its identity names.
//
// Each test that needs a controlling terminal builds one: a forked child
// (runInChild) starts a session, opens a fresh pty and makes it its
// controlling terminal, as a root login shell has it.
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/unique_fd.h"
#include "process/process_spawn.h"
#include "process/session.h"
#include "tests/process/test_support.h"

namespace seclabel {
namespace {

using testing::FakeSelinuxHost;
using testing::guestIdentity;
using testing::runInChild;

// Prints, on the fd named by its first argument, what the guest can do
// with terminals: its process group, session and controlling tty
// (/proc/self/stat, from the last ')'), and the result of TIOCSTI on
// stdio, on every further fd named and on /dev/tty.
constexpr char kTerminalProbe[] = R"(
import errno, fcntl, os, sys, termios
out = int(sys.argv[1])
stat = open('/proc/self/stat').read()
fields = stat[stat.rindex(')') + 2:].split()
lines = ['pid=%d pgrp=%s session=%s tty=%s' % (os.getpid(), fields[2], fields[3], fields[4])]
def sti(fd):
    try:
        fcntl.ioctl(fd, termios.TIOCSTI, b'x')
        return 'injected'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
for fd in [0, 1, 2] + [int(a) for a in sys.argv[2:]]:
    lines.append('fd%d=%s' % (fd, sti(fd)))
try:
    lines.append('devtty=' + sti(os.open('/dev/tty', os.O_RDWR)))
except OSError as e:
    lines.append('devtty=' + errno.errorcode.get(e.errno, str(e.errno)))
for fd in (0, 1, 2):
    lines.append('link%d=%s' % (fd, os.readlink('/proc/self/fd/%d' % fd)))
os.write(out, ('\n'.join(lines) + '\n').encode())
)";

std::string valueOf(const std::string& text, const std::string& key) {
  const std::string needle = key + "=";
  size_t at = 0;
  while ((at = text.find(needle, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n' || text[at - 1] == ' ') {
      size_t end = text.find_first_of(" \n", at + needle.size());
      return text.substr(at + needle.size(), end - at - needle.size());
    }
    at += needle.size();
  }
  return "(missing)";
}

// A pty pair; the slave made the controlling terminal of the calling
// process, which must be a session leader without one.
struct Terminal {
  UniqueFd master;
  UniqueFd slave;
};

Terminal controllingTerminal() {
  // Closing the master at the end hangs the terminal up, which sends SIGHUP
  // to its controlling process: this one, before it has reported.
  ::signal(SIGHUP, SIG_IGN);
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) throw Error::fromErrno("openpty", errno);
  Terminal terminal{UniqueFd(master), UniqueFd(slave)};
  ::fcntl(master, F_SETFD, FD_CLOEXEC);
  ::fcntl(slave, F_SETFD, FD_CLOEXEC);
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) throw Error::fromErrno("TIOCSCTTY", errno);
  return terminal;
}

// What is waiting in the terminal's input queue, without blocking.
std::string pendingInput(int slave) {
  struct termios raw;
  ::tcgetattr(slave, &raw);
  ::cfmakeraw(&raw);
  ::tcsetattr(slave, TCSANOW, &raw);
  int flags = ::fcntl(slave, F_GETFL);
  ::fcntl(slave, F_SETFL, flags | O_NONBLOCK);
  char buffer[256];
  ssize_t n = ::read(slave, buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, size_t(n)) : std::string();
}

// Runs the probe as the guest, spawned by this process; returns its report.
std::string probeSpawned(const ProcessIdentity& identity, const std::vector<int>& extraFds = {}) {
  FakeSelinuxHost host(SelinuxMode::Disabled);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
  ProcessIdentity withPipe = identity;
  withPipe.keepFds.push_back(writeEnd.get());
  PreparedIdentity prepared = PreparedIdentity::prepare(withPipe, host);
  std::vector<std::string> argv{"/usr/bin/python3", "-c", kTerminalProbe,
                                std::to_string(writeEnd.get())};
  for (int fd : extraFds) argv.push_back(std::to_string(fd));
  pid_t pid = spawnWithIdentity(argv, prepared, host);
  writeEnd.reset();
  std::string report;
  char buffer[1024];
  ssize_t n;
  while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0) report.append(buffer, size_t(n));
  int status = 0;
  ::waitpid(pid, &status, 0);
  return report;
}

TEST(GuestSession, TheGuestLeadsASessionOfItsOwnWithoutAControllingTerminal) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    // The launcher: a session leader with a controlling terminal, as a root
    // shell on a terminal is.
    ::setsid();
    Terminal terminal = controllingTerminal();
    std::string report = probeSpawned(guestIdentity());
    return report + "launcher-session=" + std::to_string(::getsid(0)) + "\n";
  });
  ASSERT_TRUE(child.exitedCleanly()) << child.output;
  const std::string& report = child.output;
  const std::string pid = valueOf(report, "pid");
  EXPECT_EQ(valueOf(report, "session"), pid) << report;
  EXPECT_EQ(valueOf(report, "pgrp"), pid) << report;
  EXPECT_NE(valueOf(report, "session"), valueOf(report, "launcher-session")) << report;
  EXPECT_EQ(valueOf(report, "tty"), "0") << "the guest has a controlling terminal: " << report;
  EXPECT_EQ(valueOf(report, "devtty"), "ENXIO") << report;
}

// The attack on a root shell, at the process level: the guest holds
// the launcher's terminal (granted here, so only the session protects it)
// and pushes bytes into its input queue. Outside its own controlling
// terminal the kernel refuses TIOCSTI (EPERM) to a process without
// CAP_SYS_ADMIN.
TEST(GuestSession, AGrantedTerminalAcceptsNoInjectedInput) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    ::setsid();
    Terminal terminal = controllingTerminal();
    for (int fd = 0; fd <= 2; ++fd) ::dup2(terminal.slave.get(), fd);
    ProcessIdentity identity = guestIdentity();
    identity.terminal = TerminalAccess::Grant;
    std::string report = probeSpawned(identity);
    return report + "pending=" + std::to_string(pendingInput(terminal.slave.get()).size()) + "\n";
  });
  ASSERT_TRUE(child.exitedCleanly()) << child.output;
  const std::string& report = child.output;
  EXPECT_EQ(valueOf(report, "link0").rfind("/dev/pts/", 0), 0u) << "granted: " << report;
  for (const char* fd : {"fd0", "fd1", "fd2"}) EXPECT_EQ(valueOf(report, fd), "EPERM") << report;
  EXPECT_EQ(valueOf(report, "devtty"), "ENXIO") << report;
  EXPECT_EQ(valueOf(report, "pending"), "0") << report;
}

TEST(GuestSession, AWithheldTerminalOnStdioBecomesDevNull) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    ::setsid();
    Terminal terminal = controllingTerminal();
    // stdin and stderr on the terminal, stdout on a file: only the terminal
    // ones are replaced.
    ::dup2(terminal.slave.get(), 0);
    ::dup2(terminal.slave.get(), 2);
    char path[] = "/tmp/seclabel-stdout-XXXXXX";
    UniqueFd file(::mkstemp(path));
    ::unlink(path);
    ::dup2(file.get(), 1);
    std::string report = probeSpawned(guestIdentity());
    return report + "pending=" + std::to_string(pendingInput(terminal.slave.get()).size()) + "\n";
  });
  ASSERT_TRUE(child.exitedCleanly()) << child.output;
  const std::string& report = child.output;
  EXPECT_EQ(valueOf(report, "link0"), "/dev/null") << report;
  EXPECT_EQ(valueOf(report, "link2"), "/dev/null") << report;
  EXPECT_EQ(valueOf(report, "link1").rfind("/tmp/seclabel-stdout-", 0), 0u) << report;
  EXPECT_EQ(valueOf(report, "fd0"), "ENOTTY") << report;
  EXPECT_EQ(valueOf(report, "pending"), "0") << report;
}

TEST(GuestSession, AKeptTerminalIsRefusedUnlessGranted) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    ::setsid();
    Terminal terminal = controllingTerminal();
    UniqueFd kept(::fcntl(terminal.slave.get(), F_DUPFD_CLOEXEC, 20));
    ProcessIdentity identity = guestIdentity();
    identity.keepFds = {kept.get()};
    try {
      probeSpawned(identity);
      return std::string("spawned");
    } catch (const Error& e) {
      std::string refused = e.what();
      identity.terminal = TerminalAccess::Grant;
      std::string granted = probeSpawned(identity, {kept.get()});
      return refused + "\n" + granted;
    }
  });
  ASSERT_TRUE(child.exitedCleanly()) << child.output;
  EXPECT_EQ(child.output.substr(0, child.output.find('\n')),
            "refusing to hand fd 20 to the guest: it is a terminal (--tty allows it)");
  EXPECT_EQ(valueOf(child.output, "fd20"), "EPERM") << child.output;
}

TEST(GuestSession, TheGuestGetsOnlyTheEnvironmentItsIdentityNames) {
  SECLABEL_SKIP_UNLESS_ROOT();
  ASSERT_EQ(::setenv("SECLABEL_TEST_LAUNCHER_SECRET", "root-only", 1), 0);
  testing::ChildResult child = runInChild([] {
    FakeSelinuxHost host(SelinuxMode::Disabled);
    int fds[2];
    ::pipe2(fds, O_CLOEXEC);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    ProcessIdentity identity = guestIdentity();
    identity.environment = {"PATH=/usr/bin:/bin", "ONLY=this"};
    identity.keepFds = {writeEnd.get()};
    PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
    // The environment execve gave the guest, before its shell added any.
    pid_t pid = spawnWithIdentity(
        {"/bin/bash", "-c", "tr '\\0' '\\n' < /proc/$$/environ >&" + std::to_string(writeEnd.get())},
        prepared, host);
    writeEnd.reset();
    std::string environment;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0) environment.append(buffer, size_t(n));
    ::waitpid(pid, nullptr, 0);
    return environment;
  });
  ::unsetenv("SECLABEL_TEST_LAUNCHER_SECRET");
  ASSERT_TRUE(child.exitedCleanly()) << child.output;
  EXPECT_EQ(child.output, "PATH=/usr/bin:/bin\nONLY=this\n");
}

TEST(GuestSession, AnIdentityWithAMalformedEnvironmentEntryIsRefused) {
  FakeSelinuxHost host(SelinuxMode::Disabled);
  for (const char* entry : {"NOEQUALS", "=value", "1ABC=x", "A-B=x", "A B=x"}) {
    ProcessIdentity identity = guestIdentity();
    identity.environment = {entry};
    try {
      PreparedIdentity::prepare(identity, host);
      ADD_FAILURE() << entry << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::InvalidInput) << entry;
      EXPECT_NE(std::string(e.what()).find(entry), std::string::npos) << e.what();
    }
  }
  ProcessIdentity withNul = guestIdentity();
  withNul.environment = {std::string("A=b\0c", 5)};
  EXPECT_THROW(PreparedIdentity::prepare(withNul, host), Error);
}

// In place (seclabel exec) the process may lead its process group (a shell
// job, a launcher that called setpgid): the kernel refuses it setsid(), so
// it stays in the caller's session but gives up its controlling terminal.
TEST(GuestSession, ExecInPlaceByAProcessGroupLeaderGivesUpTheControllingTerminal) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    ::setsid();
    Terminal terminal = controllingTerminal();
    int fds[2];
    ::pipe2(fds, O_CLOEXEC);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    UniqueFd kept(::fcntl(terminal.slave.get(), F_DUPFD_CLOEXEC, 20));
    FakeSelinuxHost host(SelinuxMode::Disabled);
    ProcessIdentity identity = guestIdentity();
    identity.terminal = TerminalAccess::Grant;
    identity.keepFds = {writeEnd.get(), kept.get()};
    PreparedIdentity prepared = PreparedIdentity::prepare(identity, host);
    pid_t launcher = ::fork();
    if (launcher == 0) {
      ::setpgid(0, 0);
      try {
        execWithIdentity({"/usr/bin/python3", "-c", kTerminalProbe, std::to_string(writeEnd.get()),
                          "20"},
                         prepared, host);
      } catch (...) {
      }
      ::_exit(99);
    }
    writeEnd.reset();
    std::string report;
    char buffer[1024];
    ssize_t n;
    while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0) report.append(buffer, size_t(n));
    int status = 0;
    ::waitpid(launcher, &status, 0);
    return report + "exit=" + std::to_string(WEXITSTATUS(status)) +
           "\ncaller-session=" + std::to_string(::getsid(0)) + "\n" +
           "pending=" + std::to_string(pendingInput(terminal.slave.get()).size()) + "\n";
  });
  ASSERT_TRUE(child.exitedCleanly()) << child.output;
  const std::string& report = child.output;
  EXPECT_EQ(valueOf(report, "exit"), "0") << report;
  EXPECT_EQ(valueOf(report, "pgrp"), valueOf(report, "pid")) << report;
  EXPECT_EQ(valueOf(report, "session"), valueOf(report, "caller-session"))
      << "a process group leader keeps its session: " << report;
  EXPECT_EQ(valueOf(report, "tty"), "0") << report;
  EXPECT_EQ(valueOf(report, "devtty"), "ENXIO") << report;
  EXPECT_EQ(valueOf(report, "fd20"), "EPERM") << report;
  EXPECT_EQ(valueOf(report, "pending"), "0") << report;
}

// A session leader that has a controlling terminal can neither start a new
// session nor give its terminal up without hanging up the terminal's
// foreground job: exec in place refuses, before anything changed.
TEST(GuestSession, ExecInPlaceByASessionLeaderWithATerminalIsRefused) {
  SECLABEL_SKIP_UNLESS_ROOT();
  testing::ChildResult child = runInChild([] {
    ::setsid();
    std::string before = canLeaveSessionInPlace() ? "can" : "cannot";
    Terminal terminal = controllingTerminal();
    std::string after = canLeaveSessionInPlace() ? "can" : "cannot";
    FakeSelinuxHost host(SelinuxMode::Disabled);
    PreparedIdentity prepared = PreparedIdentity::prepare(guestIdentity(), host);
    try {
      execWithIdentity({"/bin/true"}, prepared, host);
    } catch (const Error& e) {
      uid_t r, e2, s;
      ::getresuid(&r, &e2, &s);
      return before + " " + after + "\n" + e.what() + "\nuid=" + std::to_string(e2);
    }
    return std::string("executed");
  });
  ASSERT_TRUE(child.exitedCleanly()) << child.output;
  EXPECT_EQ(child.output,
            "can cannot\n"
            "refusing to exec: this process leads a session that has a controlling terminal, "
            "which the guest would own (start seclabel exec under setsid(1), or use seclabel "
            "run)\nuid=0");
}

}  // namespace
}  // namespace seclabel

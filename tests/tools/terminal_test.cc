// A root shell on a terminal runs `seclabel run`/`exec`, and the guest tries
// to type into that shell: TIOCSTI of "id > FILE\n" on its stdio and on
// /dev/tty. Anything it manages to push is read by the shell after seclabel
// returns and runs as root, so "FILE exists" is the attack succeeding. The
// shell is a real interactive /bin/sh on a fresh pty (its controlling
// terminal, job control on), driven through the pty master as a person at
// a terminal would.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/tools/e2e_support.h"

namespace seclabel::e2e {
namespace {

// argv[1]: the file the injected command creates; argv[2]: where to write
// what each attempt gave (for the test's messages).
constexpr char kInjector[] = R"(import errno, fcntl, os, sys, termios
payload = ('id > %s\n' % sys.argv[1]).encode()
results = []
def inject(fd, name):
    try:
        for b in payload:
            fcntl.ioctl(fd, termios.TIOCSTI, bytes([b]))
        results.append(name + '=injected')
    except OSError as e:
        results.append(name + '=' + errno.errorcode.get(e.errno, str(e.errno)))
for fd in (0, 1, 2):
    inject(fd, 'fd%d' % fd)
try:
    inject(os.open('/dev/tty', os.O_RDWR), 'devtty')
except OSError as e:
    results.append('devtty=' + errno.errorcode.get(e.errno, str(e.errno)))
if len(sys.argv) > 2:
    open(sys.argv[2], 'w').write(' '.join(results) + '\n')
print(' '.join(results))
)";

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// An interactive /bin/sh whose controlling terminal is a new pty.
class PtyShell {
 public:
  PtyShell() {
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      ::ioctl(slave, TIOCSCTTY, 0);
      for (int fd = 0; fd <= 2; ++fd) ::dup2(slave, fd);
      ::closefrom(3);
      ::setenv("PS1", "test-shell$ ", 1);
      ::unsetenv("ENV");
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execl("/bin/sh", "sh", "-i", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(slave);
    master_ = master;
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
  }
  ~PtyShell() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  PtyShell(const PtyShell&) = delete;
  PtyShell& operator=(const PtyShell&) = delete;

  bool started() const { return master_ >= 0 && pid_ > 0; }
  void type(const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(master_, text.data() + done, text.size() - done);
      if (n <= 0) return;
      done += size_t(n);
    }
  }
  // Reads what the terminal shows until `text` appears after `from`.
  bool waitFor(const std::string& text, size_t from = 0, int timeoutMs = 60000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (shown_.find(text, from) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd pfd{master_, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t n = ::read(master_, buffer, sizeof buffer);
      if (n <= 0) return shown_.find(text, from) != std::string::npos;  // hung up
      shown_.append(buffer, size_t(n));
    }
    return true;
  }
  const std::string& shown() const { return shown_; }
  size_t mark() const { return shown_.size(); }

  // Runs `command` and waits until it returned and the shell has read
  // everything queued on its terminal before the next line: whatever a
  // guest pushed into the input queue during `command` has run by then.
  // The echo's words are split by quotes so that the terminal's echo of
  // the typed line never matches.
  bool runToCompletion(const std::string& command, const std::string& tag) {
    size_t from = mark();
    type(command + "; echo " + tag + "-st''atus=$?\n");
    if (!waitFor(tag + "-status=", from)) return false;
    from = mark();
    type("echo " + tag + "-drai''ned\n");
    return waitFor(tag + "-drained", from);
  }

 private:
  pid_t pid_ = -1;
  int master_ = -1;
  std::string shown_;
};

class TerminalAttack : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: a root shell, chown, the guest's uid";
    if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/python3";
    if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs setpriv (util-linux)";
    writeConfig(config_, {});
    makeImage(image_);
    writeDomain(xml_, "tty-guest", uuid_, {{image_, "vda"}});
    std::ofstream(injector_) << kInjector;
    ::chmod(injector_.c_str(), 0644);
    ::mkdir(reports_.c_str(), 0);
    ::chmod(reports_.c_str(), 01777);  // the guest's uid writes its report here
    ASSERT_TRUE(shell_.started());
    ASSERT_TRUE(shell_.waitFor("test-shell$ ")) << shell_.shown();
  }

  std::string seclabelCommand(const std::string& args) const {
    return seclabelBinary() + " --config " + config_ + " --state-dir " + state_ + " " + args;
  }
  std::string injectorCommand(const std::string& target, const std::string& report) const {
    return "/usr/bin/python3 " + injector_ + " " + target + " " + report;
  }
  std::string report(const std::string& name) const { return readFile(reports_ + "/" + name); }

  // The kernel fact the attack needs, shown on this very terminal: a
  // process without privileges (uid nobody, no capabilities) that has the
  // terminal as its controlling terminal can push input into it. If it
  // cannot (dev.tty.legacy_tiocsti=0), the attack cannot be shown here.
  void requireTiocstiForTheSessionsProcesses() {
    const std::string control = dir_ / "control-injected";
    ASSERT_TRUE(shell_.runToCompletion(
        "/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " +
            injectorCommand(control, reports_ + "/control"),
        "control"))
        << shell_.shown();
    if (!eventually([&] { return exists(control); }, 2000))
      GTEST_SKIP() << "TIOCSTI on its controlling terminal is refused to an unprivileged "
                      "process on this kernel (dev.tty.legacy_tiocsti=0): "
                   << report("control");
  }

  TempDir dir_;
  std::string config_ = dir_ / "seclabel.toml";
  std::string state_ = dir_ / "state";
  std::string image_ = dir_ / "guest.qcow2";
  std::string xml_ = dir_ / "guest.xml";
  std::string injector_ = dir_ / "inject.py";
  std::string reports_ = dir_ / "reports";
  std::string uuid_ = freshUuid();
  PtyShell shell_;
};

TEST_F(TerminalAttack, AGuestRunFromARootShellCannotTypeIntoIt) {
  requireTiocstiForTheSessionsProcesses();
  const std::string injected = dir_ / "injected-by-run";
  ASSERT_TRUE(shell_.runToCompletion(
      seclabelCommand("run " + xml_ + " -- " + injectorCommand(injected, reports_ + "/run")),
      "run"))
      << shell_.shown();
  EXPECT_NE(shell_.shown().find("run-status=0"), std::string::npos) << shell_.shown();
  EXPECT_FALSE(exists(injected)) << "the guest typed into root's shell: " << report("run");
  // Its stdio was /dev/null, and it had no controlling terminal.
  EXPECT_EQ(report("run"), "fd0=ENOTTY fd1=ENOTTY fd2=ENOTTY devtty=ENXIO\n");
  EXPECT_TRUE(listGuests(config_, state_).empty());
}

// --tty hands the guest the terminal on its stdio: it may read and write it,
// but it is not its controlling terminal, so TIOCSTI is still refused.
TEST_F(TerminalAttack, AGuestGivenTheTerminalWithTtyStillCannotTypeIntoIt) {
  requireTiocstiForTheSessionsProcesses();
  const std::string injected = dir_ / "injected-by-run-tty";
  ASSERT_TRUE(shell_.runToCompletion(
      seclabelCommand("run --tty " + xml_ + " -- " + injectorCommand(injected, reports_ + "/tty")),
      "tty"))
      << shell_.shown();
  EXPECT_NE(shell_.shown().find("tty-status=0"), std::string::npos) << shell_.shown();
  EXPECT_FALSE(exists(injected)) << "the guest typed into root's shell: " << report("tty");
  EXPECT_EQ(report("tty"), "fd0=EPERM fd1=EPERM fd2=EPERM devtty=ENXIO\n");
  // What it printed reached the terminal: it had the terminal, as asked.
  EXPECT_NE(shell_.shown().find("fd0=EPERM fd1=EPERM"), std::string::npos) << shell_.shown();
}

// In place, from a job-control shell: seclabel is its job's process group
// leader, which the kernel refuses a new session; it gives up the
// controlling terminal instead, and the guest cannot type into it either.
TEST_F(TerminalAttack, AGuestExecedInPlaceFromARootShellCannotTypeIntoIt) {
  requireTiocstiForTheSessionsProcesses();
  const std::string injected = dir_ / "injected-by-exec";
  ASSERT_TRUE(shell_.runToCompletion(
      seclabelCommand("exec --tty " + xml_ + " -- " + injectorCommand(injected, reports_ + "/exec")),
      "exec"))
      << shell_.shown();
  EXPECT_NE(shell_.shown().find("exec-status=0"), std::string::npos) << shell_.shown();
  EXPECT_FALSE(exists(injected)) << "the guest typed into root's shell: " << report("exec");
  EXPECT_EQ(report("exec"), "fd0=EPERM fd1=EPERM fd2=EPERM devtty=ENXIO\n");
  Finished restore = runSeclabel(config_, state_, {"restore", uuid_});
  EXPECT_EQ(restore.code(), 0) << restore.err;
}

// The guest's stderr is /dev/null, but seclabel's own message about an exec
// that failed after the identity was applied still reaches the terminal.
TEST_F(TerminalAttack, AnExecThatFailsReportsOnTheCallersTerminal) {
  const std::string garbage = dir_ / "garbage.bin";
  std::ofstream(garbage) << "\x7f" "ELF but not really";
  ::chmod(garbage.c_str(), 0755);
  const size_t from = shell_.mark();
  ASSERT_TRUE(shell_.runToCompletion(seclabelCommand("exec " + xml_ + " -- " + garbage), "fail"))
      << shell_.shown();
  EXPECT_NE(shell_.shown().find("seclabel: cannot execute " + garbage + ": Exec format error", from),
            std::string::npos)
      << shell_.shown();
  EXPECT_NE(shell_.shown().find("fail-status=126", from), std::string::npos) << shell_.shown();
  Finished recover = runSeclabel(config_, state_, {"recover"});
  EXPECT_EQ(recover.code(), 0) << recover.err;
  EXPECT_EQ(ownerOf(image_).uid, 0u);
}

// A session leader that has a controlling terminal (here: the shell itself
// replaced by seclabel exec) cannot give the guest a session without it:
// refused before anything is opened or prepared.
TEST_F(TerminalAttack, ExecBySessionLeaderWithATerminalIsRefusedBeforeAnythingIsPrepared) {
  const size_t from = shell_.mark();
  shell_.type("exec " + seclabelCommand("exec " + xml_ + " -- /bin/true") + "\n");
  ASSERT_TRUE(shell_.waitFor("use seclabel run", from)) << shell_.shown();
  EXPECT_NE(shell_.shown().find("seclabel: exec: this process leads a session that has a "
                                "controlling terminal",
                                from),
            std::string::npos)
      << shell_.shown();
  EXPECT_FALSE(exists(state_)) << "the state directory was created";
  EXPECT_EQ(ownerOf(image_).uid, 0u);
}

}  // namespace
}  // namespace seclabel::e2e

#include "process/process_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "core/error.h"
#include "core/unique_fd.h"
#include "process/session.h"

namespace seclabel {

namespace {

bool isExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         (info.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
}

// argv as execve() wants it; the pointers stay valid while `argv` lives.
std::vector<char*> execArguments(const std::vector<std::string>& argv) {
  std::vector<char*> pointers;
  pointers.reserve(argv.size() + 1);
  for (const std::string& argument : argv) {
    pointers.push_back(const_cast<char*>(argument.c_str()));
  }
  pointers.push_back(nullptr);
  return pointers;
}

void requireCommand(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) {
    throw Error::invalidInput("no command to execute");
  }
}

// Writes the whole report; a pipe write under PIPE_BUF is atomic.
void report(int fd, const ProcessStepFailure& failure) {
  const char* bytes = reinterpret_cast<const char*>(&failure);
  size_t left = sizeof failure;
  while (left > 0) {
    ssize_t n = ::write(fd, bytes, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes += n;
    left -= size_t(n);
  }
}

// The child between clone() and execve(): no allocation, no throw. It
// shares the launcher's memory, so it writes only its own stack (and the
// calling thread's libcap-ng state, which every apply resets first).
[[noreturn]] void runChild(const char* path, char* const* args, char* const* envp,
                           int reportFd, const PreparedIdentity& identity, SelinuxHost& host,
                           const ApplyHooks* hooks) {
  // The launcher's handlers must not run in the guest's process (they
  // would touch the launcher's state); execve keeps ignored signals
  // ignored, so reset those too. Signals stay blocked until the exec.
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  sigemptyset(&defaults.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &defaults, nullptr);
  }

  ProcessStepFailure failure;
  // Enters the guest's cgroup too (ProcessStep::EnterCgroup), before any
  // credential changes.
  if (!applyProcessIdentity(identity, host, &failure, reportFd, hooks)) {
    report(reportFd, failure);
    ::_exit(kExitCannotRun);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(path, args, envp);
  const int err = errno;
  failure.step = ProcessStep::Exec;
  failure.errnum = err;
  report(reportFd, failure);
  ::_exit(err == ENOENT ? kExitCommandNotFound : kExitCannotRun);
}

}  // namespace

std::string resolveCommand(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string directories =
      path != nullptr && *path != '\0' ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  for (;;) {
    size_t end = directories.find(':', start);
    std::string directory = directories.substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    // An empty $PATH entry is the current directory; a launcher running as
    // root must not pick up a binary from wherever it was started.
    if (!directory.empty() && directory[0] == '/') {
      std::string candidate = directory + "/" + name;
      if (isExecutableFile(candidate)) return candidate;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  throw Error(ExitCode::CommandNotFound,
              "cannot execute " + name + ": command not found in PATH",
              ENOENT);
}

ExitCode exitCodeFor(const ProcessStepFailure& failure) {
  if (failure.step != ProcessStep::Exec) return ExitCode::Failed;
  return failure.errnum == ENOENT ? ExitCode::CommandNotFound : ExitCode::CannotExecute;
}

namespace {

// What the child of startWithIdentity needs, all of it built before clone.
struct ChildArguments {
  const char* path;
  char* const* args;
  char* const* envp;
  int reportFd;
  const PreparedIdentity* identity;
  SelinuxHost* host;
  const ApplyHooks* hooks;
};

int childMain(void* raw) {
  const ChildArguments& child = *static_cast<const ChildArguments*>(raw);
  runChild(child.path, child.args, child.envp, child.reportFd, *child.identity, *child.host,
           child.hooks);
}

// The child's stack: mapped before clone, unmapped once the child has
// exec'd or exited (CLONE_VFORK: the parent resumes only then).
class ChildStack {
 public:
  static constexpr size_t kSize = 256 * 1024;  // applyProcessIdentity needs ~10 KiB
  ChildStack()
      : base_(::mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {
    if (base_ == MAP_FAILED) throw Error::fromErrno("cannot map the child's stack", errno);
  }
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  ~ChildStack() { ::munmap(base_, kSize); }
  void* top() const { return static_cast<char*>(base_) + kSize; }  // x86-64: grows down

 private:
  void* base_;
};

}  // namespace

StartingChild startWithIdentity(const std::vector<std::string>& argv,
                                const PreparedIdentity& identity, SelinuxHost& host,
                                const ApplyHooks* hooks) {
  requireCommand(argv);
  // Everything the child needs is allocated here, before clone.
  std::string path = resolveCommand(argv[0]);
  std::vector<char*> args = execArguments(argv);
  std::vector<char*> envp = execArguments(identity.environment());

  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    throw Error::fromErrno("cannot create the exec report pipe", errno);
  }
  UniqueFd readEnd(pipeFds[0]);
  UniqueFd writeEnd(pipeFds[1]);
  ChildStack stack;
  ChildArguments child{path.c_str(), args.data(), envp.data(), writeEnd.get(),
                      &identity, &host, hooks};

  // As posix_spawn does: the child shares our memory (CLONE_VM: no page
  // tables to copy, nothing to unmap at its execve) and we sleep until it
  // has exec'd or exited (CLONE_VFORK), so nothing here changes under it.
  // It gets its own fd table and signal handlers, touches only its stack,
  // `child` and the identity, allocates nothing, and changes credentials
  // with raw system calls (applyProcessIdentity). No signal handler of ours
  // may run in it before it resets them: everything is blocked until then.
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t pid = ::clone(childMain, stack.top(), CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
  const int cloneErrno = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) throw Error::fromErrno("cannot start a child process", cloneErrno);
  return StartingChild(pid, std::move(readEnd), std::move(path), identity);
}

StartingChild::StartingChild(pid_t pid, UniqueFd report, std::string path,
                             const PreparedIdentity& identity)
    : pid_(pid), report_(std::move(report)), path_(std::move(path)), identity_(&identity) {}

StartingChild::~StartingChild() {
  if (!report_) return;  // awaited (or moved from)
  report_.reset();
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void StartingChild::awaitExec() {
  UniqueFd report = std::move(report_);
  ProcessStepFailure failure;
  char* bytes = reinterpret_cast<char*>(&failure);
  size_t got = 0;
  while (got < sizeof failure) {
    ssize_t n = ::read(report.get(), bytes + got, sizeof failure - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  if (got == 0) return;  // EOF: execve() closed the pipe, CMD runs

  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof failure) {
    throw Error(ExitCode::Failed,
                "cannot start " + path_ + ": the child's failure report was cut short");
  }
  throw Error(exitCodeFor(failure), describeFailure(failure, *identity_, path_), failure.errnum);
}

pid_t spawnWithIdentity(const std::vector<std::string>& argv,
                        const PreparedIdentity& identity, SelinuxHost& host,
                        const ApplyHooks* hooks) {
  StartingChild child = startWithIdentity(argv, identity, host, hooks);
  child.awaitExec();
  return child.pid();
}

void execWithIdentity(const std::vector<std::string>& argv,
                      const PreparedIdentity& identity, SelinuxHost& host,
                      std::span<const int> launcherFds) {
  requireCommand(argv);
  const std::string path = resolveCommand(argv[0]);
  std::vector<char*> args = execArguments(argv);
  std::vector<char*> envp = execArguments(identity.environment());

  // A terminal on stderr becomes /dev/null for the guest; seclabel's own
  // message about a failure still belongs on it. Close-on-exec: the guest
  // never sees this copy.
  UniqueFd callersStderr;
  if (identity.terminal() == TerminalAccess::Withhold && isTerminal(2)) {
    callersStderr.reset(::fcntl(2, F_DUPFD_CLOEXEC, 3));
  }
  if (launcherFds.size() + 1 > kMaxLauncherFds) {
    throw Error(ExitCode::Failed, "execWithIdentity: too many launcher fds");
  }
  int fds[kMaxLauncherFds];
  size_t count = 0;
  for (int fd : launcherFds) fds[count++] = fd;
  if (callersStderr) fds[count++] = callersStderr.get();
  auto reportOnCallersStderr = [&] {
    if (callersStderr) ::dup2(callersStderr.get(), 2);
  };

  ProcessStepFailure failure;
  if (!applyProcessIdentity(identity, host, &failure, std::span<const int>(fds, count))) {
    reportOnCallersStderr();
    throw Error(exitCodeFor(failure), describeFailure(failure, identity, path), failure.errnum);
  }
  ::execve(path.c_str(), args.data(), envp.data());
  failure.step = ProcessStep::Exec;
  failure.errnum = errno;
  reportOnCallersStderr();
  throw Error(exitCodeFor(failure), describeFailure(failure, identity, path), failure.errnum);
}

}  // namespace seclabel

// Test helpers for hostile files: a scratch tree under /tmp, and running a
// reader in a child that cannot hang or eat the machine, so a test of
// "a FIFO is refused" or "/dev/zero is refused" fails instead of blocking
// forever when the reader is wrong.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include "core/error.h"

namespace seclabel::testing {

// uid/gid 65534: nobody/nogroup on Debian, the "other user" of these tests.
inline constexpr uid_t kOtherUser = 65534;

// A fresh directory under /tmp (root-owned, mode 0755), removed afterwards.
class ScratchTree {
 public:
  ScratchTree() {
    std::string pattern = "/tmp/seclabel-hostile-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    ::chmod(root_.c_str(), 0755);
  }
  ~ScratchTree() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  ScratchTree(const ScratchTree&) = delete;
  ScratchTree& operator=(const ScratchTree&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& relative) const { return root_ + "/" + relative; }

  // A directory (parents included), mode `mode` exactly.
  std::string directory(const std::string& relative, mode_t mode = 0755) const {
    std::string p = path(relative);
    std::filesystem::create_directories(p);
    if (::chmod(p.c_str(), mode) != 0) throw std::runtime_error("chmod " + p);
    return p;
  }
  // A file with `content`, mode `mode` exactly.
  std::string file(const std::string& relative, const std::string& content,
                   mode_t mode = 0644) const {
    std::string p = path(relative);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << content;
    if (::chmod(p.c_str(), mode) != 0) throw std::runtime_error("chmod " + p);
    return p;
  }

 private:
  std::string root_;
};

// How a reader run by runGuarded ended.
struct GuardedOutcome {
  bool finished = false;     // returned or threw (did not hang, was not killed)
  bool threw = false;
  int exitCode = -1;         // Error::exitCode() when it threw a seclabel::Error
  std::string message;       // its what()
  int signal = 0;            // the signal that killed it, if one did
};

// Runs `body` in a forked child with a hang guard (SIGALRM after
// `guardSeconds`, far above what the body needs) and an address-space limit
// (`memoryBytes`), and reports how it ended. The child never returns into
// the test framework. Not a timing assertion: a correct reader ends in
// microseconds; the guard only turns a hang into a failure.
inline GuardedOutcome runGuarded(const std::function<void()>& body, unsigned guardSeconds = 30,
                                 rlim_t memoryBytes = rlim_t(512) << 20) {
  int pipeFds[2];
  if (::pipe(pipeFds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);  // the child must not write the parent's buffered output again
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(pipeFds[0]);
    struct rlimit limit{memoryBytes, memoryBytes};
    ::setrlimit(RLIMIT_AS, &limit);
    ::alarm(guardSeconds);
    std::string report = "ok";
    int code = 0;
    try {
      body();
    } catch (const Error& e) {
      report = std::string("error:") + e.what();
      code = e.exitCode();
    } catch (const std::exception& e) {
      report = std::string("exception:") + e.what();
      code = 100;
    }
    (void)!::write(pipeFds[1], report.data(), report.size());
    ::_exit(code);
  }
  ::close(pipeFds[1]);
  std::string report;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(pipeFds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) report.append(buffer, std::size_t(n));
  ::close(pipeFds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  GuardedOutcome outcome;
  if (WIFSIGNALED(status)) {
    outcome.signal = WTERMSIG(status);
    outcome.message = report;
    return outcome;
  }
  outcome.finished = true;
  outcome.threw = report != "ok";
  outcome.exitCode = WEXITSTATUS(status);
  auto colon = report.find(':');
  outcome.message = colon == std::string::npos ? report : report.substr(colon + 1);
  return outcome;
}

// A sparse regular file of `size` bytes (no disk space used): a reader that
// reads it whole, before checking a limit, needs `size` bytes of memory.
inline std::string sparseFile(const std::string& path, off_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || ::ftruncate(fd, size) != 0) throw std::runtime_error("sparse file " + path);
  ::close(fd);
  return path;
}

}  // namespace seclabel::testing

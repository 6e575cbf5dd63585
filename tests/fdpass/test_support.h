// Real things for the fdpass tests: temporary directories, images made by
// qemu-img, QEMU processes (TCG, no guest code runs), children running as
// another uid, and counting our own open fds.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace seclabel::testing {

// A uid and gid that no account on a Debian test host uses.
inline constexpr uid_t kGuestUid = 61234;
inline constexpr uid_t kStrangerUid = 61235;

// Runs a program, waits, returns its exit status (-1 if it did not exit).
int runProgram(const std::vector<std::string>& argv);

// `qemu-img create -f FORMAT PATH 1M`; fails the test if it does not work.
std::string makeImage(const std::string& path, const std::string& format = "qcow2");

// Forks; the child drops to uid:gid (no supplementary groups), runs `body`
// and exits with what it returns (an exception is exit 99). Returns the
// child's exit status.
int runAsUid(uid_t uid, const std::function<int()>& body);

// Number of entries in /proc/self/fd right now.
int countOpenFds();

bool runningAsRoot();

class QemuProcess {
 public:
  struct Options {
    std::vector<std::string> qmpSockets;   // one -qmp server per path
    std::vector<std::string> extraArgs;    // e.g. -add-fd, -blockdev
    std::optional<uid_t> uid;              // run as uid:uid, no groups
    std::string logPath;                   // stdout+stderr
  };
  // Starts QEMU and waits until every QMP socket exists (10 s at most).
  explicit QemuProcess(const Options& options);
  ~QemuProcess();
  QemuProcess(const QemuProcess&) = delete;
  QemuProcess& operator=(const QemuProcess&) = delete;
  pid_t pid() const { return pid_; }
  // The log so far (for failure messages).
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string logPath_;
};

}  // namespace seclabel::testing

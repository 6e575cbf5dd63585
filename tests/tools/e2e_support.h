// Command-line end-to-end tests: run the built `seclabel` binary as a real
// process against its own state dir, config and image dir, and look at real
// files, real /proc entries and real child processes.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.h"

namespace seclabel::e2e {

// One temporary directory helper for every test (tests/support/temp_dir.h).
using TempDir = seclabel::testing::TempDir;

struct Finished {
  int waitStatus = 0;
  std::string out;
  std::string err;
  // Exit code, or 128+N when signal N ended the process.
  int code() const;
};

struct SpawnOptions {
  // fds to leave open in the child, each a dup of /dev/null at that number
  // (without O_CLOEXEC, so they survive into seclabel).
  std::vector<int> openDevNullAt;
  // fds to close in the child before it execs seclabel (after the above).
  std::vector<int> closeFds;
  // Close every fd from this number up, before the above are opened (-1:
  // none), so that seclabel starts with only what the test gives it.
  int closeFrom = -1;
  bool pipeStdout = true;
  bool pipeStderr = true;
  std::optional<std::string> stdoutFile;  // instead of a pipe
};

// A process started from the test, with its stdout/stderr pipes.
// SpawnOptions with one field set (designated initializers would leave the
// others to -Wmissing-field-initializers).
inline SpawnOptions devNullAt(std::vector<int> fds) {
  SpawnOptions options;
  options.openDevNullAt = std::move(fds);
  return options;
}
inline SpawnOptions stdoutTo(std::string path) {
  SpawnOptions options;
  options.stdoutFile = std::move(path);
  return options;
}

class Child {
 public:
  Child(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  ~Child();  // SIGKILLs and reaps it if still there
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  // Reads stdout until `line` appears as a whole line (or EOF / timeout).
  bool waitForLine(const std::string& line, int timeoutMs = 10000);
  Finished wait(int timeoutMs = 30000);  // SIGKILLs after the timeout
  bool running() const { return !reaped_; }

 private:
  pid_t pid_ = -1;
  int outFd_ = -1, errFd_ = -1;
  std::string out_, err_;
  bool reaped_ = false;
};

std::string seclabelBinary();
// seclabel --config CONFIG --state-dir STATE ARGS..., run to completion.
Finished runSeclabel(const std::string& config, const std::string& stateDir,
                     const std::vector<std::string>& args,
                     const SpawnOptions& options = {});
std::vector<std::string> seclabelArgv(const std::string& config, const std::string& stateDir,
                                      const std::vector<std::string>& args);

// 480 ids of the default DAC range past its first 4096, chosen by this
// process's pid.
std::string testDacRange();

struct ConfigOptions {
  std::vector<std::string> drivers = {"selinux", "dac"};
  std::string fdpass = "never";
  std::vector<std::string> groups;
  std::string auditSink = "none";
  bool auditRequired = false;
  std::vector<std::string> processEnv;  // [process] env
  // A slice of the default range of its own per test process: restoring a
  // guest ends every process of its uid, so tests running at the same time
  // against stores of their own must not share uids.
  std::string dacRange = testDacRange();
  // [cgroup] devices: off unless a test is about cgroups, so guests a test
  // never restores leave no cgroup on the host.
  std::string cgroupDevices = "off";
};
void writeConfig(const std::string& path, const ConfigOptions& options);

struct DiskSpec {
  std::string path;
  std::string target;  // vda, vdb, ...
};
// A domain XML with one dynamic seclabel per driver; `name` and disk paths
// are XML-escaped here.
void writeDomain(const std::string& path, const std::string& name, const std::string& uuid,
                 const std::vector<DiskSpec>& disks,
                 const std::vector<std::string>& drivers = {"selinux", "dac"});

// A tiny qcow2 (qemu-img), then chown root:root and chmod 0600, so only
// the guest's labeling grants a guest uid access.
void makeImage(const std::string& path);
std::string freshUuid();

struct Owner {
  uid_t uid;
  gid_t gid;
  mode_t mode;  // permission bits
};
Owner ownerOf(const std::string& path);

// `seclabel list --json`, parsed.
nlohmann::json listGuests(const std::string& config, const std::string& stateDir);
// The guest with this uuid in the list, or null.
nlohmann::json findGuest(const nlohmann::json& list, const std::string& uuid);
// "+U:+G" -> {U, G}
std::pair<uid_t, gid_t> dacIds(const nlohmann::json& guest);
// The categories of an selinux label "u:r:t:s0:c1,c2" -> "c1,c2".
std::string categories(const nlohmann::json& guest);

// The value of `name:` in /proc status text, blanks collapsed to one space.
std::string statusField(const std::string& statusText, const std::string& name);
std::string readFile(const std::string& path);

bool processExists(pid_t pid);
// Polls until `pred` is true or the timeout passes.
bool eventually(const std::function<bool()>& pred, int timeoutMs = 10000);
// The guest's `list --json` entry once its launcher has recorded it
// running with a pid: a guest can print before that (its pid is written
// once the exec is witnessed). Null when that does not happen in time.
nlohmann::json runningGuestWithPid(const std::string& config, const std::string& stateDir,
                                   const std::string& uuid, int timeoutMs = 10000);

// The errno open(path, flags) gets as uid:gid with no supplementary groups
// (0 when it opens), tried in a forked child.
int openErrnoAs(uid_t uid, gid_t gid, const std::string& path, int flags);

}  // namespace seclabel::e2e

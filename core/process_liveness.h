// Telling a live guest from a dead one whose pid was recycled: a pid is only
// the same process while its start time (/proc/PID/stat field 22, in clock
// ticks since boot) is the same.
//
// What a process can change about itself must not change the answer. Its
// name (comm, field 2 of stat) is up to 15 bytes of anything but NUL: "\n",
// ")", ") Z " are all possible (prctl(PR_SET_NAME)). So stat is read whole
// (bounded) and parsed from the LAST ')' of the whole text: after it come
// only numbers the kernel writes. cmdline, environ and the cgroup name are
// never read.
//
// Why not a pidfd: the pid and start time are what the store can keep for
// any process to check later; a pidfd lives only in the process that opened
// it. The one process that could hold one, the `run` launcher, waits for its
// own child with waitpid, which a recycled pid cannot fool either.
//
// Why core/: the stack manager's recovery (secdriver/) and the launcher both
// ask it, and it needs nothing but /proc; the process step proper (identity,
// spawn) stays in process/, above secdriver/ (layers.txt). Recovery asks
// through the ProcessLiveness interface, so its tests pass a fake.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace seclabel {

struct ProcStat {
  char state = 0;          // field 3: R, S, D, Z, X, T, ...
  uint64_t startTime = 0;  // field 22
};

// Parses the text of /proc/PID/stat: fields restart after the last ')' of
// the whole text. nullopt when it does not have the fields.
std::optional<ProcStat> parseProcStat(std::string_view text);

// nullopt when no such process exists (or it is a zombie being reaped).
std::optional<uint64_t> processStartTime(pid_t pid);
bool processIsAlive(pid_t pid, uint64_t startTime);

// The question recovery and the launcher ask, behind an interface that a
// test can replace (as SelinuxHost is).
class ProcessLiveness {
 public:
  virtual ~ProcessLiveness() = default;
  // nullopt when the process does not exist (or is a zombie).
  virtual std::optional<uint64_t> startTime(pid_t pid) = 0;
  // This process (the one asking).
  virtual pid_t self() = 0;
  // Ends every process that runs with `uid` (real, effective, saved or
  // file-system uid; zombies hold nothing and do not count) and returns the
  // pids still there when it gives up (empty: none is left).
  virtual std::vector<pid_t> endProcessesOf(uid_t uid) = 0;
  bool isAlive(pid_t pid, uint64_t expectedStartTime) {
    auto now = startTime(pid);
    return now && *now == expectedStartTime;
  }
};

// /proc, the real one.
ProcessLiveness& systemProcessLiveness();

// Every live (not zombie) process with `uid` as its real, effective, saved
// or file-system uid, from /proc/PID/status.
std::vector<pid_t> processesOfUid(uid_t uid);

// Kills every process of `uid` (SIGKILL) and waits until none is left, at
// most `patienceMs`. A helper process takes the uid and sends kill(-1): the
// kernel signals every process the uid may signal while it holds the task
// list, so a fork in between cannot slip through; what only has the uid as
// its effective or fs uid is killed by pid. uid 0 is never touched (returns
// the processes as they are). Returns the survivors.
std::vector<pid_t> killProcessesOfUid(uid_t uid, int patienceMs = 3000);

// Test seam for tests of concurrent commands, which must not rely on
// sleeps: when the environment variable SECLABEL_TEST_STOP_AT names `point`,
// this process says so on stderr ("seclabel: test: stopped at POINT") and
// stops itself (SIGSTOP) until a test sends SIGCONT. Points:
// prepare-committed (after the first commit of a prepare, before any file
// changes), prepared (a launch, after its prepare, before the guest is
// marked running), guest-exited (`run`, after its guest exited, before the
// restore). Unset, it costs one getenv.
void stopHereForTesting(const char* point);

}  // namespace seclabel

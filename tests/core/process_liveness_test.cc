// Process liveness (core/process_liveness.h): nothing a process controls about
// itself changes whether seclabel thinks it is alive. Real children rename
// themselves (prctl(PR_SET_NAME)), carry hostile command lines and
// environments; the answer is the one their pid and start time give.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/process_liveness.h"

namespace seclabel {
namespace {

// /proc/PID/stat of a real process up to field 22, after the comm: the
// kernel's own text for "sleeping, parent 1, ..., start time 4242".
std::string statText(const std::string& comm, char state = 'S', uint64_t start = 4242) {
  std::string text = "1234 (" + comm + ") " + state + " 1 1234 1234 0 -1 4194560 100 0 0 0 ";
  text += "0 0 0 0 20 0 1 0 " + std::to_string(start) + " 1000 100 ";
  text += "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  return text;
}

struct CommCase {
  const char* label;
  std::string comm;
};

void PrintTo(const CommCase& c, std::ostream* out) { *out << c.label; }

// Shapes of a 15-byte comm that fooled or could fool a line- or
// first-')'-based parser.
std::vector<CommCase> hostileComms() {
  return {
      {"plain", "qemu-system-x86"},
      {"newline", "qemu\nhidden"},
      {"newline_first", "\nx"},
      {"two_newlines", "a\n\nb"},
      {"paren", "a)b"},
      {"paren_last", "abc)"},
      {"fake_zombie", ") Z 1 2 3 4 5"},
      {"fake_dead", ") X "},
      {"fake_fields", ") S 1 1 1 0 -1"},
      {"spaces", "   a b   c     "},
      {"open_paren", "(("},
      {"only_paren", ")"},
      {"fifteen_bytes", "123456789012345"},
      {"newline_paren_z", "q\n) Z 0 0 0"},
  };
}

TEST(ParseProcStat, TheStartTimeAndStateComeFromAfterTheLastParenthesis) {
  for (const CommCase& c : hostileComms()) {
    auto stat = parseProcStat(statText(c.comm));
    ASSERT_TRUE(stat.has_value()) << c.label;
    EXPECT_EQ(stat->state, 'S') << c.label;
    EXPECT_EQ(stat->startTime, 4242u) << c.label;
  }
}

TEST(ParseProcStat, TruncatedOrMalformedTextIsNoAnswer) {
  EXPECT_FALSE(parseProcStat(""));
  EXPECT_FALSE(parseProcStat("1234 (sh"));
  EXPECT_FALSE(parseProcStat("1234 (sh) S 1 2 3"));
  std::string text = statText("sh");
  text.replace(text.find("4242"), 4, "42x2");
  EXPECT_FALSE(parseProcStat(text));
}

// A child that waits for a name on a pipe, takes it, says so, and then
// waits to be killed.
class NamedChild {
 public:
  explicit NamedChild(const std::string& name) {
    int toChild[2], fromChild[2];
    if (::pipe(toChild) != 0 || ::pipe(fromChild) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
      char go;
      if (::read(toChild[0], &go, 1) != 1) ::_exit(1);
      char comm[16] = {};
      std::memcpy(comm, name.data(), std::min<std::size_t>(name.size(), 15));
      ::prctl(PR_SET_NAME, comm, 0, 0, 0);
      if (::write(fromChild[1], "r", 1) != 1) ::_exit(1);
      for (;;) ::pause();
    }
    ::close(toChild[0]);
    ::close(fromChild[1]);
    go_ = toChild[1];
    renamed_ = fromChild[0];
  }
  // Takes the name; returns when it has.
  bool rename() {
    char r;
    return ::write(go_, "g", 1) == 1 && ::read(renamed_, &r, 1) == 1;
  }
  pid_t pid() const { return pid_; }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  ~NamedChild() {
    kill();
    ::close(go_);
    ::close(renamed_);
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1, renamed_ = -1;
};

class HostileComm : public ::testing::TestWithParam<CommCase> {};

TEST_P(HostileComm, ARenamedLiveProcessIsAliveAndTheSameOne) {
  NamedChild child(GetParam().comm);
  auto before = processStartTime(child.pid());
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(child.rename());
  // The kernel took the name (or its first 15 bytes).
  auto after = processStartTime(child.pid());
  ASSERT_TRUE(after.has_value()) << "a renamed live process looks dead";
  EXPECT_EQ(*after, *before);
  EXPECT_TRUE(processIsAlive(child.pid(), *before));
  EXPECT_TRUE(systemProcessLiveness().isAlive(child.pid(), *before));
  // Another start time under the same pid (a recycled pid) is not it.
  EXPECT_FALSE(processIsAlive(child.pid(), *before + 1));
  EXPECT_FALSE(processIsAlive(child.pid(), *before - 1));
  child.kill();
  EXPECT_FALSE(processIsAlive(child.pid(), *before));
}

INSTANTIATE_TEST_SUITE_P(Comms, HostileComm, ::testing::ValuesIn(hostileComms()),
                         [](const auto& info) { return std::string(info.param.label); });

// What a command line and environment say is never read: a child whose
// argv and environ imitate stat text is alive; once gone (and reaped), it
// is dead, whatever the zombie said before.
TEST(Liveness, HostileCommandLineAndEnvironmentChangeNothing) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(ready[1], 3);
    const char* argv[] = {"/bin/sh", "-c", "echo >&3; exec sleep 30",
                          ") Z 1 1 1 0 -1\n) X 0 0", nullptr};
    const char* envp[] = {"X=) Z 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1\n", nullptr};
    ::execve(argv[0], const_cast<char**>(argv), const_cast<char**>(envp));
    ::_exit(127);
  }
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  auto start = processStartTime(pid);
  ASSERT_TRUE(start.has_value());
  EXPECT_TRUE(processIsAlive(pid, *start));
  ::kill(pid, SIGKILL);
  // A zombie is dead already (not yet reaped).
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
  EXPECT_FALSE(processIsAlive(pid, *start));
  ::waitpid(pid, nullptr, 0);
  EXPECT_FALSE(processIsAlive(pid, *start));
  EXPECT_FALSE(processStartTime(pid).has_value());
}

TEST(Liveness, NoSuchPidIsDead) {
  EXPECT_FALSE(processStartTime(0).has_value());
  EXPECT_FALSE(processStartTime(-1).has_value());
  EXPECT_FALSE(processStartTime(0x7ffffff0).has_value());
}

}  // namespace
}  // namespace seclabel

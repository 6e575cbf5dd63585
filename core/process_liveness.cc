#include "core/process_liveness.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <charconv>
#include <string>

#include "core/unique_fd.h"

namespace seclabel {
namespace {

// /proc/PID/stat is about 300 bytes with a 15-byte comm; anything longer
// than this is not a stat file we can trust, and never worth more memory.
constexpr std::size_t kMaxStatBytes = 4096;

std::optional<std::string> readStat(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  std::string text(kMaxStatBytes, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used == text.size()) return std::nullopt;  // longer than any real stat
  text.resize(used);
  return text;
}

// /proc/PID/status: bounded like stat. Name: is escaped by the kernel (a
// newline in it is written as "\n"), so a line that starts with "Uid:" is
// the kernel's.
std::optional<std::string> readStatus(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return std::nullopt;
  std::string text(16384, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  text.resize(used);
  return text;
}

// The four uids of a status text, or false.
bool statusUids(const std::string& status, uid_t uids[4], char& state) {
  auto field = [&](const char* name) -> std::optional<std::string_view> {
    const std::string key = std::string("\n") + name + ":\t";
    auto at = status.find(key);
    if (at == std::string::npos) return std::nullopt;
    std::string_view rest(status);
    rest.remove_prefix(at + key.size());
    return rest.substr(0, rest.find('\n'));
  };
  auto stateLine = field("State");
  auto uidLine = field("Uid");
  if (!stateLine || stateLine->empty() || !uidLine) return false;
  state = stateLine->front();
  std::string_view rest = *uidLine;
  for (int i = 0; i < 4; ++i) {
    while (!rest.empty() && rest.front() == '\t') rest.remove_prefix(1);
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc()) return false;
    uids[i] = static_cast<uid_t>(value);
    rest.remove_prefix(static_cast<std::size_t>(ptr - rest.data()));
  }
  return true;
}

// Forks a helper that becomes `uid` and kills everything that uid may
// signal (kill(-1) spares only the caller and init).
void killAllAs(uid_t uid) {
  pid_t helper = ::fork();
  if (helper < 0) return;
  if (helper == 0) {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setgroups(0, nullptr) != 0 ||
        ::setresuid(uid, uid, uid) != 0)
      ::_exit(1);
    ::kill(-1, SIGKILL);
    ::_exit(0);
  }
  while (::waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
  }
}

class SystemProcessLiveness final : public ProcessLiveness {
 public:
  std::optional<uint64_t> startTime(pid_t pid) override { return processStartTime(pid); }
  std::vector<pid_t> endProcessesOf(uid_t uid) override { return killProcessesOfUid(uid); }
  pid_t self() override { return ::getpid(); }
};

}  // namespace

std::optional<ProcStat> parseProcStat(std::string_view text) {
  // comm (field 2) may hold anything but NUL, ')' and newlines included;
  // nothing after the kernel's closing ')' can, so the last one is it.
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);
  // Fields 3.. are separated by single spaces.
  auto nextField = [&rest]() -> std::optional<std::string_view> {
    if (rest.empty() || rest.front() != ' ') return std::nullopt;
    rest.remove_prefix(1);
    const auto end = rest.find_first_of(" \n");
    std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    if (field.empty()) return std::nullopt;
    return field;
  };
  ProcStat stat;
  auto state = nextField();
  if (!state || state->size() != 1) return std::nullopt;
  stat.state = state->front();
  std::optional<std::string_view> field;
  for (int index = 4; index <= 22; ++index)
    if (!(field = nextField())) return std::nullopt;
  const char* end = field->data() + field->size();
  auto [ptr, ec] = std::from_chars(field->data(), end, stat.startTime);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return stat;
}

std::optional<uint64_t> processStartTime(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto text = readStat(pid);
  if (!text) return std::nullopt;
  auto stat = parseProcStat(*text);
  if (!stat || stat->state == 'Z' || stat->state == 'X') return std::nullopt;
  return stat->startTime;
}

bool processIsAlive(pid_t pid, uint64_t startTime) {
  auto now = processStartTime(pid);
  return now && *now == startTime;
}

std::vector<pid_t> processesOfUid(uid_t uid) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return found;
  while (struct dirent* entry = ::readdir(proc)) {
    pid_t pid = 0;
    const char* name = entry->d_name;
    auto [ptr, ec] = std::from_chars(name, name + std::strlen(name), pid);
    if (ec != std::errc() || *ptr != '\0' || pid <= 0) continue;
    auto status = readStatus(pid);
    if (!status) continue;
    uid_t uids[4];
    char state = 0;
    if (!statusUids(*status, uids, state)) continue;
    if (state == 'Z' || state == 'X') continue;
    for (uid_t one : uids)
      if (one == uid) {
        found.push_back(pid);
        break;
      }
  }
  ::closedir(proc);
  return found;
}

std::vector<pid_t> killProcessesOfUid(uid_t uid, int patienceMs) {
  std::vector<pid_t> left = processesOfUid(uid);
  if (uid == 0) return left;
  for (int waited = 0; !left.empty() && waited <= patienceMs; waited += 10) {
    killAllAs(uid);
    for (pid_t pid : left) ::kill(pid, SIGKILL);
    struct timespec pause {0, 10 * 1000 * 1000};
    ::nanosleep(&pause, nullptr);
    left = processesOfUid(uid);
  }
  return left;
}

void stopHereForTesting(const char* point) {
  const char* wanted = std::getenv("SECLABEL_TEST_STOP_AT");
  if (!wanted || std::strcmp(wanted, point) != 0) return;
  const std::string line = std::string("seclabel: test: stopped at ") + point + "\n";
  (void)!::write(2, line.data(), line.size());
  ::raise(SIGSTOP);
}

ProcessLiveness& systemProcessLiveness() {
  static SystemProcessLiveness liveness;
  return liveness;
}

}  // namespace seclabel

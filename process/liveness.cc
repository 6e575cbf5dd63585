#include "process/liveness.h"

#include <fcntl.h>
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

class SystemProcessLiveness final : public ProcessLiveness {
 public:
  std::optional<uint64_t> startTime(pid_t pid) override { return processStartTime(pid); }
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

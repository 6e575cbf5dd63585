#include "tests/audit/auditd_helpers.h"

#include <libaudit.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace seclabel::testing {

std::optional<std::string> kernelAuditUnavailable() {
  int fd = audit_open();
  if (fd < 0) return std::string("the kernel has no audit support: ") + std::strerror(errno);
  audit_close(fd);
  if (geteuid() != 0) return std::string("reading the audit log needs root");
  CommandResult status = runCommand("auditctl -s 2>/dev/null");
  if (status.exitStatus != 0) return std::string("auditctl -s failed");
  if (status.output.find("enabled 0") != std::string::npos)
    return std::string("kernel auditing is disabled (is the `auditd` CTest fixture set up?)");
  if (runCommand("pgrep -x auditd").exitStatus != 0)
    return std::string("no auditd runs (is the `auditd` CTest fixture set up?)");
  return std::nullopt;
}

std::string freshUuid() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string uuid;
  std::getline(in, uuid);
  return uuid;
}

CommandResult runCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::vector<std::string> waitForRecords(const std::string& type, const std::string& uuid,
                                        size_t count, bool interpret) {
  std::string command = "ausearch --start today -m " + type + " --uuid " + uuid +
                        (interpret ? " -i" : " --raw") + " 2>/dev/null";
  std::vector<std::string> lines;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    lines.clear();
    std::istringstream out(runCommand(command).output);
    for (std::string line; std::getline(out, line);)
      if (line.rfind("type=", 0) == 0) lines.push_back(line);
    if (lines.size() >= count) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  return lines;
}

namespace {

std::string hexDecode(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

}  // namespace

std::map<std::string, std::string> decodedFields(const std::string& rawLine) {
  static const std::set<std::string> kUserFields = {
      "vm", "path", "old-disk", "new-disk", "vm-ctx", "img-ctx", "old-label", "new-label",
      "cgroup"};
  std::map<std::string, std::string> fields;
  size_t begin = rawLine.find("msg='");
  size_t end = rawLine.rfind('\'');
  if (begin == std::string::npos || end == std::string::npos || end <= begin) return fields;
  std::istringstream words(rawLine.substr(begin + 5, end - begin - 5));
  for (std::string word; words >> word;) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    std::string name = word.substr(0, eq), value = word.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    else if (kUserFields.count(name) && value != "?")
      value = hexDecode(value);
    fields[name] = value;
  }
  return fields;
}

}  // namespace seclabel::testing

#include "secdriver/process_liveness.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace seclabel {

std::optional<uint64_t> processStartTime(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // comm (field 2) may hold spaces and parentheses: fields restart after the
  // last ')'. Field 3 is the state, field 22 the start time.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  char state = 0;
  fields >> state;
  if (state == 'Z' || state == 'X') return std::nullopt;
  for (int index = 4; index <= 22; ++index) fields >> field;
  if (!fields) return std::nullopt;
  return std::strtoull(field.c_str(), nullptr, 10);
}

bool processIsAlive(pid_t pid, uint64_t startTime) {
  auto now = processStartTime(pid);
  return now && *now == startTime;
}

}  // namespace seclabel

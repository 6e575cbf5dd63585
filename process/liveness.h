// Telling a live guest from a dead one whose pid was recycled: a pid is only
// the same process while its start time (/proc/PID/stat field 22, in clock
// ticks since boot) is the same.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace seclabel {

// nullopt when no such process exists (or it is a zombie being reaped).
std::optional<uint64_t> processStartTime(pid_t pid);
bool processIsAlive(pid_t pid, uint64_t startTime);

}  // namespace seclabel

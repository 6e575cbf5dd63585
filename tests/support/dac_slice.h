// A slice of the default DAC range of its own for each test process.
//
// Restoring a guest ends every process of its uid (no identity is released
// while a process runs with it), so test processes running at the same
// time against stores of their own must never hand out the same uid. A
// slice is taken by an exclusive lock on /run/seclabel-test-dac-slice.N,
// held until the process exits: two live test processes never share one,
// whatever their pids. The first 4096 ids stay for tests that use the
// default range as such (the query-plan test's 2,000 guests); the fixed
// uids of the process and net tests sit above the slices.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace seclabel::testing {

inline constexpr uint64_t kDacSliceBase = 1879048192 + 4096;
inline constexpr uint64_t kDacSliceSize = 480;
inline constexpr uint64_t kDacSliceCount = 127;  // up to 1879113248

// "FIRST-LAST" of this process's slice.
inline std::string dacSliceRange() {
  static const std::string range = [] {
    for (uint64_t slice = 0; slice < kDacSliceCount; ++slice) {
      const std::string lock = "/run/seclabel-test-dac-slice." + std::to_string(slice);
      const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) continue;
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        continue;
      }
      // Kept open (and locked) for the life of the process.
      const uint64_t first = kDacSliceBase + kDacSliceSize * slice;
      return std::to_string(first) + "-" + std::to_string(first + kDacSliceSize - 1);
    }
    throw std::runtime_error("every test DAC slice is taken by a running test process");
  }();
  return range;
}

}  // namespace seclabel::testing

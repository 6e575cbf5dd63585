// The kernel's view of a thread's credentials, read from /proc/<tid>/status.
//
// This runs between fork() and execve() (process/process.h): nothing here
// allocates, locks or throws. The text lives in the caller's (stack) buffer.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace seclabel {

// The thread's own status: credentials are per thread, and /proc/self is the
// thread-group leader, which need not be the thread about to execve().
inline constexpr const char* kThreadStatusPath = "/proc/thread-self/status";

// Room for the whole status file (about 1.5 KiB on Linux 6.x).
inline constexpr size_t kStatusBufferSize = 8192;

// Reads the file at `path` into `buffer` and NUL-terminates it. Returns 0 or
// an errno value (ENOBUFS when the file does not fit).
int readStatusFile(const char* path, char* buffer, size_t size) noexcept;

// The value of field `name` ("Uid", "CapEff", ...) in status text: a pointer
// just past "Name:" and its blanks, and the value's length up to the end of
// the line. nullptr when the field is absent.
const char* findStatusField(const char* text, const char* name,
                            size_t* length) noexcept;

// What the guest's credentials must look like right before execve().
struct ExpectedCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;  // supplementary groups, no duplicates
  size_t groupCount = 0;
  bool noNewPrivs = true;
};

// The first field that differs: its name and the kernel's line (truncated).
struct StatusMismatch {
  char field[16];
  char seen[112];
};

// True when Uid and Gid (real, effective, saved, filesystem), Groups,
// CapInh/CapPrm/CapEff/CapBnd/CapAmb (all zero) and NoNewPrivs in `text` are
// exactly `expected`. A missing field is a mismatch: an old kernel that does
// not show CapAmb cannot prove the ambient set is empty.
bool statusMatches(const char* text, const ExpectedCredentials& expected,
                   StatusMismatch* mismatch) noexcept;

}  // namespace seclabel

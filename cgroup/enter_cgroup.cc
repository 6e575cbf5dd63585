#include "cgroup/enter_cgroup.h"

#include <errno.h>
#include <unistd.h>

namespace seclabel {

int enterCgroup(int procsFd) noexcept {
  // One write(2) of a literal: the kernel parses each write as one pid.
  static constexpr char kSelf[] = "0\n";
  for (;;) {
    const ssize_t n = ::write(procsFd, kSelf, sizeof kSelf - 1);
    if (n == static_cast<ssize_t>(sizeof kSelf - 1)) return 0;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? errno : EIO;
  }
}

}  // namespace seclabel

// Launching a guest command under its identity: the library behind
// `seclabel exec` and `seclabel run`, for C++ launchers that need no CLI.
//
//   GuestLaunch launch = prepareLaunch(manager, domain, argv, keepFds);
//   pid_t pid = spawnGuest(manager, launch);      // or execGuest(...)
//   ... the guest runs ...
//   manager.restore(launch.record.uuid);          // when it is gone
//
// prepareLaunch does everything that may allocate or fail slowly: prepare the
// guest (or reuse its prepared state), open the disks served by fd passing,
// expand {disk:TARGET} in argv, resolve groups and the command. What is left
// after fork is the allocation-free process step (process/process.h).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/unique_fd.h"
#include "secdriver/manager.h"
#include "process/process.h"
#include "xml/domain.h"

namespace seclabel {

struct GuestLaunch {
  GuestRecord record;
  Domain live;                           // with every driver's label
  std::vector<std::string> argv;         // placeholders expanded, argv[0] resolved
  std::vector<UniqueFd> inheritedFds;    // fd-passed disk fds, kept across exec
  std::optional<PreparedIdentity> identity;  // set by prepareLaunch
  bool preparedHere = false;             // false: the guest was prepared before
};

// Prepares `domain` unless the store already has it prepared (then its live
// state is used), and builds the launch. On failure, a guest prepared here is
// restored again. Throws Error.
GuestLaunch prepareLaunch(SecurityManager& manager, Domain domain,
                          const std::vector<std::string>& argvTemplate,
                          const std::vector<int>& keepFds);

// Records this process as the guest (state running) and execve()s the
// command in place under the guest's identity. Returns only by throwing.
[[noreturn]] void execGuest(SecurityManager& manager, GuestLaunch& launch);

// Starts the command in a child under the guest's identity and records the
// child as the guest, and this process as its supervisor: while this
// process lives, `recover` leaves the guest to it even after the child has
// exited, so the caller restores it (manager.restore) when it has reaped
// the child. Returns the child's pid once execve() succeeded.
pid_t spawnGuest(SecurityManager& manager, GuestLaunch& launch);

// spawnGuest, then forward SIGTERM, SIGINT and SIGHUP to the guest, wait for
// it, restore and release. Returns the guest's exit status, 128+N when a
// signal N killed it.
int runGuest(SecurityManager& manager, GuestLaunch& launch);

}  // namespace seclabel

// Launching a guest command under its identity: the library behind
// `seclabel exec` and `seclabel run`, for C++ launchers that need no CLI.
//
//   GuestLaunch launch = prepareLaunch(manager, domain, argv, options);
//   pid_t pid = spawnGuest(manager, launch);      // or execGuest(...)
//   ... the guest runs ...
//   manager.restore(launch.record.uuid);          // when it is gone
//
// prepareLaunch does everything that may allocate or fail slowly: check what
// it was given, prepare the guest (or reuse its prepared state), open the
// disks served by fd passing, expand {disk:TARGET} in argv, resolve groups,
// the command and the environment. What is left after fork is the
// allocation-free process step (process/process.h): a session of its own,
// no terminal unless granted, the identity, only the fds it is meant to get.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/export.h"
#include "core/unique_fd.h"
#include "secdriver/manager.h"
#include "process/process.h"
#include "xml/domain.h"

namespace seclabel {

// What a launch gives the guest beyond its identity.
struct LaunchOptions {
  // Fds above 2 the guest inherits. Each must be open before the caller
  // opened its Session: seclabel's own files (the store, its WAL, the audit
  // log) take the lowest free numbers, so a number the caller never opened
  // may name one of them. prepareLaunch refuses a number that is not open;
  // it cannot tell whose an open one is (the `seclabel` command checks its
  // --keep-fd numbers before it opens anything).
  std::vector<int> keepFds;
  // "NAME=VALUE" entries for the guest's environment, after [process] env
  // (core/environment.h); nothing of the caller's own environment is passed.
  std::vector<std::string> environment;
  // Whether a terminal may reach the guest (process/process.h).
  TerminalAccess terminal = TerminalAccess::Withhold;
};

struct GuestLaunch {
  GuestRecord record;
  Domain live;                           // with every driver's label
  std::vector<std::string> argv;         // placeholders expanded, argv[0] resolved
  std::vector<UniqueFd> inheritedFds;    // fd-passed disk fds, kept across exec
  std::optional<PreparedIdentity> identity;  // set by prepareLaunch
  bool preparedHere = false;             // false: the guest was prepared before
};

// Prepares `domain` unless the store already has it prepared (then its live
// state is used), and builds the launch. What can be checked without the
// store is checked first, so that invalid input (an unknown {disk:X}, a
// kept fd that is not open, or is a terminal while terminals are withheld,
// a bad environment entry) changes nothing: Error(InvalidInput). Each disk
// opened here for fd passing is audited (VIRT_RESOURCE reason=open). On a
// later failure, a guest prepared here is restored again. Throws Error.
SECLABEL_API GuestLaunch prepareLaunch(SecurityManager& manager, Domain domain,
                          const std::vector<std::string>& argvTemplate,
                          const LaunchOptions& options = {});

// Records this process as the guest (state running) and execve()s the
// command in place under the guest's identity. The start record is written
// by a witness process once the execve's outcome is known
// (launcher/exec_witness.h). Returns only by throwing: Error with
// CannotExecute/CommandNotFound when execve failed, Failed for a step of the
// identity. The caller must be single-threaded.
[[noreturn]] SECLABEL_API void execGuest(SecurityManager& manager, GuestLaunch& launch);

// Starts the command in a child under the guest's identity and records the
// child as the guest, and this process as its supervisor: while this
// process lives, `recover` leaves the guest to it even after the child has
// exited, so the caller restores it (manager.restore) when it has reaped
// the child. Returns the child's pid once execve() succeeded.
SECLABEL_API pid_t spawnGuest(SecurityManager& manager, GuestLaunch& launch);

// spawnGuest, then forward SIGTERM, SIGINT, SIGHUP and SIGQUIT to the guest
// (it is in a session of its own: the terminal's ^C and ^\ reach only this
// process), wait for it, restore and release. Returns the guest's exit
// status, 128+N when a signal N killed it.
SECLABEL_API int runGuest(SecurityManager& manager, GuestLaunch& launch);

}  // namespace seclabel

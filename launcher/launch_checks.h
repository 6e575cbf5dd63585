// What a launcher checks before it opens anything: the caller's kept fds
// and environment, the command, whether exec in place can give the guest a
// session of its own, which terminals the guest will not get. Invalid input
// found here changes nothing and logs nothing (the `seclabel` command runs
// these first; a C++ launcher may do the same before openSession).
#pragma once

#include <string>
#include <vector>

#include "core/export.h"
#include "launcher/launcher.h"

namespace seclabel {

// Every kept fd must be open (a number the caller never opened would be
// free for seclabel's own files, and the guest would inherit the store or
// the audit log under it) and, unless `terminal` grants it, not a terminal.
// Every environment entry must be NAME=VALUE (core/environment.h). Throws
// Error(InvalidInput) naming the first bad one, e.g.
// "--keep-fd 7: fd 7 is not open" (`what` names the option: "--keep-fd").
SECLABEL_API void checkLaunchInput(const LaunchOptions& options, const std::string& keepFdOption = "--keep-fd",
                      const std::string& envOption = "--env");

// argv[0] resolved as the launch will resolve it, and checked executable:
// Error(CommandNotFound) (127) when it does not exist, Error(CannotExecute)
// (126) when it cannot be executed, as shells report them.
SECLABEL_API void checkCommandRunnable(const std::string& name);

// Whether `execGuest` can give the guest a session without this process's
// controlling terminal: every process can except a session leader that has
// one (process/session.h, canLeaveSessionInPlace).
SECLABEL_API bool canExecInPlace() noexcept;

// Which of the fds 0, 1 and 2 are terminals that the guest gets /dev/null
// for instead (none when `terminal` grants them).
SECLABEL_API std::vector<int> withheldTerminals(TerminalAccess terminal);

}  // namespace seclabel

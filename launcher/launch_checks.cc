#include "launcher/launch_checks.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "core/environment.h"
#include "core/error.h"
#include "process/process_spawn.h"
#include "process/session.h"

namespace seclabel {

void checkLaunchInput(const LaunchOptions& options, const std::string& keepFdOption,
                      const std::string& envOption) {
  for (int fd : options.keepFds) {
    if (::fcntl(fd, F_GETFD) < 0)
      throw Error::invalidInput(keepFdOption + " " + std::to_string(fd) + ": fd " +
                                std::to_string(fd) + " is not open");
    if (options.terminal != TerminalAccess::Grant && isTerminal(fd))
      throw Error::invalidInput(keepFdOption + " " + std::to_string(fd) +
                                ": it is a terminal, which the guest could read and type "
                                "into (--tty allows it)");
  }
  for (const std::string& entry : options.environment) checkEnvironmentEntry(entry, envOption);
}

void checkCommandRunnable(const std::string& name) {
  // resolveCommand returns a name with a '/' as it is: check that one here.
  const std::string path = resolveCommand(name);
  if (::access(path.c_str(), X_OK) != 0) {
    const int err = errno;
    throw Error::fromErrno("cannot execute " + path, err,
                           err == ENOENT ? ExitCode::CommandNotFound : ExitCode::CannotExecute);
  }
}

bool canExecInPlace() noexcept { return canLeaveSessionInPlace(); }

std::vector<int> withheldTerminals(TerminalAccess terminal) {
  std::vector<int> fds;
  if (terminal == TerminalAccess::Grant) return fds;
  for (int fd = 0; fd <= 2; ++fd)
    if (isTerminal(fd)) fds.push_back(fd);
  return fds;
}

}  // namespace seclabel

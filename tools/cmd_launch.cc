// seclabel exec DOMAIN.xml [--keep-fd N]... -- CMD ARGS...
// seclabel run  DOMAIN.xml -- CMD ARGS...
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "launcher/launcher.h"
#include "process/process_spawn.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "xml/xml.h"

namespace seclabel::tools {
namespace {

struct LaunchArgs {
  std::string file;
  std::vector<int> keepFds;
  std::vector<std::string> command;
};

// A command that cannot be executed exits 127 (not found) or 126, as shells
// do, so a launcher scripting seclabel can tell it from the guest's own
// failures (seclabel(1)).
int launchFailure(const Error& e) {
  std::fprintf(stderr, "seclabel: %s\n", e.what());
  return e.errnum() == ENOENT ? kExitCommandNotFound : kExitCannotRun;
}

// The command is looked up before anything is prepared: a missing one then
// leaves nothing to undo.
std::optional<int> checkCommand(const LaunchArgs& args) {
  try {
    // resolveCommand returns a name with a '/' as it is: check that one here.
    const std::string path = resolveCommand(args.command.at(0));
    if (::access(path.c_str(), X_OK) != 0)
      throw Error::fromErrno("cannot execute " + path, errno);
  } catch (const Error& e) {
    return launchFailure(e);
  }
  return std::nullopt;
}

int execCommand(const GlobalOptions& global, const LaunchArgs& args) {
  Domain domain = parseDomainFile(args.file);
  if (auto failed = checkCommand(args)) return *failed;
  Session session = openSession(global, SessionKind::Mutating);
  GuestLaunch launch = prepareLaunch(*session.manager, std::move(domain), args.command, args.keepFds);
  const uid_t launcherEuid = ::geteuid();
  try {
    execGuest(*session.manager, launch);
  } catch (const Error& e) {
    // Nothing runs as the guest: undo a prepare done for this exec (a guest
    // prepared before stays prepared). Once execve itself failed this
    // process already has the guest's identity and cannot touch the store;
    // the guest then stays recorded with this pid for `recover`.
    if (launch.preparedHere && ::geteuid() == launcherEuid) {
      try {
        session.manager->restore(launch.record.uuid);
      } catch (const Error& restoreError) {
        std::fprintf(stderr, "seclabel: %s\n", restoreError.what());
      }
    }
    return launchFailure(e);
  }
}

int runCommand(const GlobalOptions& global, const LaunchArgs& args) {
  Domain domain = parseDomainFile(args.file);
  if (auto failed = checkCommand(args)) return *failed;
  Session session = openSession(global, SessionKind::Mutating);
  GuestLaunch launch = prepareLaunch(*session.manager, std::move(domain), args.command, {});
  int status;
  try {
    status = runGuest(*session.manager, launch);
  } catch (const Error& e) {
    return launchFailure(e);
  }
  // The guest is restored and every change is committed: end here, as
  // compilers do (clang's -disable-free). Tearing the session down would only
  // hand back memory the kernel reclaims anyway -- SQLite's WAL is
  // consistent without a close, the audit sinks write unbuffered -- and it
  // measured about 0.3 ms of each `run` (docs/performance.md, "Launch").
  std::fflush(nullptr);
  std::_Exit(status);
}

void addLaunchOptions(CLI::App* cmd, LaunchArgs& args) {
  cmd->add_option("domain", args.file, "domain XML file")->required()->type_name("DOMAIN.xml");
  cmd->add_option("command", args.command, "command and arguments, after --")
      ->required()
      ->type_name("-- CMD ARGS...");
}

}  // namespace

void addLaunchCommands(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto execArgs = std::make_shared<LaunchArgs>();
  auto* exec = app.add_subcommand("exec", "prepare if needed, apply the identity, exec CMD in place");
  // One value per --keep-fd: as a vector option it would otherwise take
  // the domain file as a value, and eat the `--` before CMD so that CMD's
  // own options (sh -c) were parsed as ours.
  exec->add_option("--keep-fd", execArgs->keepFds, "an fd (> 2) the guest inherits")
      ->type_name("N")
      ->allow_extra_args(false)
      ->check(CLI::Range(3, 1 << 20));
  addLaunchOptions(exec, *execArgs);
  exec->callback([&, execArgs] { action = [&global, execArgs] { return execCommand(global, *execArgs); }; });

  auto runArgs = std::make_shared<LaunchArgs>();
  auto* run = app.add_subcommand("run", "like exec, but fork, wait, then restore and release");
  addLaunchOptions(run, *runArgs);
  run->callback([&, runArgs] { action = [&global, runArgs] { return runCommand(global, *runArgs); }; });
}

}  // namespace seclabel::tools

// seclabel exec DOMAIN.xml [--keep-fd N]... [--env NAME=VALUE]... [--tty] -- CMD ARGS...
// seclabel run  DOMAIN.xml [--env NAME=VALUE]... [--tty] -- CMD ARGS...
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "launcher/launch_checks.h"
#include "launcher/launcher.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "xml/xml.h"

namespace seclabel::tools {
namespace {

struct LaunchArgs {
  std::string file;
  std::vector<int> keepFds;
  std::vector<std::string> env;
  bool tty = false;
  std::vector<std::string> command;

  LaunchOptions options() const {
    return {keepFds, env, tty ? TerminalAccess::Grant : TerminalAccess::Withhold};
  }
};

// Runs before seclabel opens anything (the domain file, the config, the
// store, the audit log): a --keep-fd number the caller never opened would
// otherwise be free for seclabel's own files (launcher/launch_checks.h).
void checkCallerInput(const LaunchArgs& args) { checkLaunchInput(args.options()); }

// One line when the guest gets /dev/null instead of the caller's terminal.
void warnAboutWithheldTerminals(const LaunchArgs& args) {
  static const char* const kNames[] = {"stdin", "stdout", "stderr"};
  std::string names;
  for (int fd : withheldTerminals(args.options().terminal)) {
    if (!names.empty()) names += ", ";
    names += kNames[fd];
  }
  if (names.empty()) return;
  printWarning(names + " of the guest: /dev/null instead of this terminal (--tty gives it "
               "the terminal)");
}

// The command is looked up before anything is prepared: a missing one then
// leaves nothing to undo. 127 when it does not exist, 126 when it cannot
// be executed, as shells report them (seclabel(1)).
void checkCommand(const LaunchArgs& args) { checkCommandRunnable(args.command.at(0)); }

int execCommand(const GlobalOptions& global, const LaunchArgs& args) {
  checkCallerInput(args);
  if (!canExecInPlace())
    throw Error::invalidInput(
        "exec: this process leads a session that has a controlling terminal, which the guest "
        "would own; start it under setsid(1) (setsid -w seclabel exec ...) or use seclabel run");
  Domain domain = parseDomainFile(args.file);
  checkCommand(args);
  warnAboutWithheldTerminals(args);
  Session session = openSession(global, SessionKind::Mutating);
  GuestLaunch launch = prepareLaunch(*session.manager, std::move(domain), args.command,
                                     args.options());
  const uid_t launcherEuid = ::geteuid();
  try {
    execGuest(*session.manager, launch);
  } catch (const Error& e) {
    if (::geteuid() != launcherEuid) {
      // execve failed after the identity was applied: this process is the
      // guest's now, without seclabel's fds (the store's were closed) and
      // without the right to touch the store. Report and end here, without
      // tearing the session down; the guest stays recorded with this pid,
      // and `recover` restores it once this process is gone.
      std::cerr << ("seclabel: " + std::string(e.what()) + "\n") << std::flush;
      std::_Exit(e.exitCode());
    }
    // Nothing runs as the guest: undo a prepare done for this exec (a guest
    // prepared before is left to its preparer).
    if (launch.preparedHere) {
      try {
        session.manager->restore(launch.record.uuid, launch.record.generation);
      } catch (const Error& restoreError) {
        printWarning(restoreError.what());
      }
    } else {
      try {
        session.manager->markPrepared(launch.record.uuid);  // as it was before
      } catch (const Error& markError) {
        printWarning(markError.what());
      }
    }
    throw;
  }
}

int runCommand(const GlobalOptions& global, const LaunchArgs& args) {
  checkCallerInput(args);
  Domain domain = parseDomainFile(args.file);
  checkCommand(args);
  warnAboutWithheldTerminals(args);
  Session session = openSession(global, SessionKind::Mutating);
  GuestLaunch launch = prepareLaunch(*session.manager, std::move(domain), args.command,
                                     args.options());
  // A failure keeps its own exit code: 126/127 only when the command could
  // not be executed (core/error.h).
  const int status = runGuest(*session.manager, launch);
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
  // One value per --env, as for --keep-fd below.
  cmd->add_option("--env", args.env,
                  "NAME=VALUE for the guest's environment (after [process] env)")
      ->type_name("NAME=VALUE")
      ->allow_extra_args(false);
  cmd->add_flag("--tty", args.tty,
                "let a terminal on stdin/stdout/stderr or a kept fd reach the guest "
                "(never as its controlling terminal)");
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

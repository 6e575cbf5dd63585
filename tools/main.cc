// seclabel: the command-line face of libseclabel. Thin on purpose: parse the
// arguments, call the library, print, map errors to exit codes (seclabel(1)).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "tools/commands.h"

namespace {

// A caller may start seclabel with stdin, stdout or stderr closed. The next
// file seclabel opens would then take that number: the store or the audit
// log would be written by error messages, and handed to the guest, which
// always inherits 0-2. Each closed one becomes /dev/null, first of all, as
// glibc does for setuid programs.
bool openStandardFds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // The lowest free number: this one, as every lower one is open.
    int opened = ::open("/dev/null", O_RDWR | O_NOCTTY);
    if (opened != fd) return false;
  }
  return true;
}

int printError(const std::string& message, int code) {
  std::cerr << ("seclabel: " + message + "\n");  // one write: one whole line
  return code;
}

// The top-level commands each group registers. Building CLI11's whole tree
// of commands and options is about a tenth of the instructions of a
// `seclabel run`; a command line needs only its own group. If a name here
// and its group disagree, everything is registered and nothing is lost.
struct CommandGroup {
  std::vector<std::string_view> commands;
  void (*add)(CLI::App&, const seclabel::tools::GlobalOptions&, seclabel::tools::Action&);
};
const CommandGroup kCommandGroups[] = {
    {{"validate"}, seclabel::tools::addValidateCommand},
    {{"prepare", "restore", "list", "dominfo", "recover"}, seclabel::tools::addGuestCommands},
    {{"exec", "run"}, seclabel::tools::addLaunchCommands},
    {{"broker"}, seclabel::tools::addBrokerCommands},
    {{"policy"}, seclabel::tools::addPolicyCommands},
    {{"attach", "detach"}, seclabel::tools::addHotplugCommands},
};

// The command word: the first argument that is neither an option nor the
// value of --config or --state-dir (empty if there is none).
std::string commandWord(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--config" || word == "--state-dir") {
      ++i;  // its value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    return word;
  }
  return {};
}

// Help anywhere on the line may be the top-level help, which lists every
// command.
bool asksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    if (word == "-h" || word == "--help" || word == "--help-all") return true;
  }
  return false;
}

bool isCommand(const CLI::App& app, const std::string& word) {
  for (const CLI::App* command : app.get_subcommands({}))
    if (command->get_name() == word) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace seclabel;
  if (!openStandardFds()) return static_cast<int>(ExitCode::Failed);
  CLI::App app{"seclabel: unique security identities for virtual-machine guests", "seclabel"};
  app.set_version_flag("--version", std::string("seclabel ") + SECLABEL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  tools::GlobalOptions global;
  global.addTo(app);
  tools::Action action;
  const std::string word = commandWord(argc, argv);
  const CommandGroup* named = nullptr;
  if (!asksForHelp(argc, argv))
    for (const CommandGroup& group : kCommandGroups)
      for (std::string_view command : group.commands)
        if (command == word) named = &group;
  if (named) named->add(app, global, action);
  if (!named || !isCommand(app, word))
    for (const CommandGroup& group : kCommandGroups)
      if (&group != named) group.add(app, global, action);

  // CLI11 reports a misspelt command as "A subcommand is required": name it.
  if (!word.empty() && !isCommand(app, word))
    return printError("unknown command '" + word + "' (see seclabel --help)",
                      static_cast<int>(ExitCode::InvalidInput));

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return printError(e.what(), static_cast<int>(ExitCode::InvalidInput));
  }

  try {
    return action ? action() : 0;
  } catch (const Error& e) {
    return printError(e.what(), e.exitCode());
  } catch (const std::exception& e) {
    return printError(e.what(), static_cast<int>(ExitCode::Failed));
  }
}

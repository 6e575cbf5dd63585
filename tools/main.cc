// seclabel: the command-line face of libseclabel. Thin on purpose: parse the
// arguments, call the library, print, map errors to exit codes (seclabel(1)).
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "tools/commands.h"

namespace {

int printError(const std::string& message, int code) {
  std::cerr << "seclabel: " << message << "\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace seclabel;
  CLI::App app{"seclabel: unique security identities for virtual-machine guests", "seclabel"};
  app.set_version_flag("--version", std::string("seclabel ") + SECLABEL_VERSION);
  app.require_subcommand(1);
  app.fallthrough();

  tools::GlobalOptions global;
  global.addTo(app);
  tools::Action action;
  tools::addValidateCommand(app, global, action);
  tools::addGuestCommands(app, global, action);
  tools::addLaunchCommands(app, global, action);
  tools::addBrokerCommands(app, global, action);
  tools::addPolicyCommands(app, global, action);

  // CLI11 reports a misspelt command as "A subcommand is required": name it.
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--config" || word == "--state-dir") {
      ++i;  // its value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    bool known = false;
    for (const CLI::App* command : app.get_subcommands({})) known |= command->get_name() == word;
    if (!known)
      return printError("unknown command '" + word + "' (see seclabel --help)",
                        static_cast<int>(ExitCode::InvalidInput));
    break;
  }

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

// Options every seclabel command accepts, and what they load.
#pragma once

#include <string>

#include "core/config.h"

namespace CLI {
class App;
}

namespace seclabel::tools {

struct GlobalOptions {
  std::string configPath = kDefaultConfigPath;
  std::string stateDir = kDefaultStateDir;

  // Registers --config and --state-dir on the top-level app; subcommands
  // fall through to it, so the options work before or after the command.
  void addTo(CLI::App& app);

  // The config file, or the defaults when the default path does not exist.
  Config loadConfig() const;

 private:
  bool configGiven() const { return configPath != kDefaultConfigPath; }
};

}  // namespace seclabel::tools

#include "tools/global_options.h"

#include <CLI/CLI.hpp>

#include "secdriver/selinux_host.h"

namespace seclabel::tools {

void GlobalOptions::addTo(CLI::App& app) {
  app.add_option("--config", configPath, "configuration file")
      ->capture_default_str()
      ->type_name("FILE");
  app.add_option("--state-dir", stateDir, "state directory (holds state.db)")
      ->capture_default_str()
      ->type_name("DIR");
}

Config GlobalOptions::loadConfig() const {
  bool hostSelinux = makeSystemSelinuxHost()->enabled();
  return Config::load(configPath, /*mayBeMissing=*/!configGiven(), hostSelinux);
}

}  // namespace seclabel::tools

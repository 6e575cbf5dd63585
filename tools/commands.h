// Each seclabel command registers itself on the top-level app. A command's
// callback stores the work to do in `action`; main() runs it once parsing
// succeeded and turns a seclabel::Error into its message and exit code.
#pragma once

#include <functional>

#include "tools/global_options.h"

namespace CLI {
class App;
}

namespace seclabel::tools {

using Action = std::function<int()>;

void addValidateCommand(CLI::App& app, const GlobalOptions& global, Action& action);
void addGuestCommands(CLI::App& app, const GlobalOptions& global, Action& action);
void addLaunchCommands(CLI::App& app, const GlobalOptions& global, Action& action);
void addBrokerCommands(CLI::App& app, const GlobalOptions& global, Action& action);
void addPolicyCommands(CLI::App& app, const GlobalOptions& global, Action& action);
void addHotplugCommands(CLI::App& app, const GlobalOptions& global, Action& action);

}  // namespace seclabel::tools

// seclabel validate [--live] DOMAIN.xml
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "tools/commands.h"
#include "xml/interfaces.h"
#include "xml/xml.h"

namespace seclabel::tools {
namespace {

struct ValidateArgs {
  std::string file;
  bool live = false;
};

// One line per configured driver: what it would do for this domain.
int validate(const GlobalOptions& global, const ValidateArgs& args) {
  Config config = global.loadConfig();
  Domain domain = parseDomainFile(args.file, args.live ? XmlForm::Live : XmlForm::Inactive);
  try {
    resolveSeclabelModels(domain, config.securityDrivers);
    requireSupportedInterfaces(domain);  // what prepare would refuse
  } catch (const Error& e) {
    throw e.withContext(args.file);
  }
  for (const auto& driver : config.securityDrivers) {
    const Seclabel* seclabel = domain.seclabelFor(driver);
    Seclabel implicit;  // no <seclabel> for this model: dynamic, relabel yes
    if (!seclabel) seclabel = &implicit;
    if (driver == "none") implicit.type = SeclabelType::None, implicit.relabel = false;
    std::cout << "model=" << driver << " type=" << toString(seclabel->type)
              << " relabel=" << (seclabel->relabel ? "yes" : "no") << "\n";
  }
  return 0;
}

}  // namespace

void addValidateCommand(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto args = std::make_shared<ValidateArgs>();
  auto* cmd = app.add_subcommand("validate", "parse and check a domain XML");
  cmd->add_flag("--live", args->live, "the file is live XML: keep generated labels");
  cmd->add_option("domain", args->file, "domain XML file")->required()->type_name("DOMAIN.xml");
  cmd->callback([&global, &action, args] { action = [&global, args] { return validate(global, *args); }; });
}

}  // namespace seclabel::tools

// seclabel policy check POLICY EXPECTATIONS
// seclabel policy isolation POLICY [--synthetic N]
#include <iostream>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "core/security_models.h"
#include "tools/policy_output.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "xml/xml.h"

namespace seclabel::tools {
namespace {

// The SELinux labels of every guest the store knows.
std::vector<GuestLabels> storeGuests(const GlobalOptions& global) {
  Session session = openSession(global, SessionKind::ReadOnly);
  std::vector<GuestLabels> guests;
  for (const auto& record : session.store->listGuests()) {
    if (record.liveXml.empty()) continue;
    Domain live = parseDomainXml(record.liveXml, XmlForm::Live);
    const Seclabel* selinux = live.seclabelFor(kSelinuxModel);
    if (!selinux || !selinux->label || !selinux->imagelabel) continue;
    guests.push_back({record.name, *selinux->label, *selinux->imagelabel});
  }
  return guests;
}

}  // namespace

void addPolicyCommands(CLI::App& app, const GlobalOptions& global, Action& action) {
  auto* policy = app.add_subcommand("policy", "offline SELinux policy tests (libsepol)");
  policy->require_subcommand(1);

  auto policyPath = std::make_shared<std::string>();
  auto expectations = std::make_shared<std::string>();
  auto* check = policy->add_subcommand("check", "test expectations against a compiled policy");
  check->add_option("policy", *policyPath, "compiled binary policy")->required()->type_name("POLICY");
  check->add_option("expectations", *expectations, "expectations file")->required()->type_name("EXPECTATIONS");
  check->callback([&action, policyPath, expectations] {
    action = [policyPath, expectations] {
      return runPolicyCheckCommand(*policyPath, *expectations, std::cout, std::cerr);
    };
  });

  auto synthetic = std::make_shared<std::size_t>(0);
  auto* isolation = policy->add_subcommand("isolation", "check that guests' labels keep them apart");
  isolation->add_option("policy", *policyPath, "compiled binary policy")->required()->type_name("POLICY");
  isolation->add_option("--synthetic", *synthetic, "check N fresh synthetic guests instead of the store's")
      ->type_name("N")
      ->check(CLI::Range(std::size_t(1), std::size_t(1000000)));
  isolation->callback([&global, &action, policyPath, synthetic] {
    action = [&global, policyPath, synthetic] {
      Config config = global.loadConfig();
      if (*synthetic > 0)
        return runPolicyIsolationCommand(*policyPath, *synthetic, config.selinux, std::cout, std::cerr);
      return runPolicyIsolationCommand(*policyPath, storeGuests(global), config.selinux, std::cout,
                                       std::cerr);
    };
  });
}

}  // namespace seclabel::tools

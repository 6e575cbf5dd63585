#include "tools/session.h"

#include <iostream>

namespace seclabel::tools {

void printWarning(const std::string& message) {
  std::cerr << "seclabel: warning: " << message << "\n";
}

Session openSession(const GlobalOptions& global, SessionKind kind) {
  Session session = seclabel::openSession(
      {global.configPath, global.configPath == kDefaultConfigPath, global.stateDir, printWarning},
      kind);
  for (const auto& line : session.recovered) std::cerr << "seclabel: recover: " << line << "\n";
  return session;
}

}  // namespace seclabel::tools

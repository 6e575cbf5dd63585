// The library session (launcher/session.h) opened from the global options.
#pragma once

#include "launcher/session.h"
#include "tools/global_options.h"

namespace seclabel::tools {

// Prints what recovery did on stderr ("seclabel: recover: ...").
Session openSession(const GlobalOptions& global, SessionKind kind);

void printWarning(const std::string& message);

}  // namespace seclabel::tools

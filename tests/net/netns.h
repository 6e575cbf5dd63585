// Network tests run in a network namespace of their own, never the host's:
// a forked child unshares CLONE_NEWNET|CLONE_NEWNS, remounts sysfs (so
// /sys/class/net shows the namespace's links) and runs the test body; the
// namespace and every link in it vanish when the child exits.
//
// Reusable by any test that needs links (the launcher-level tests too).
#pragma once

#include <functional>
#include <string>

namespace seclabel::testing {

// Why network tests cannot run here ("needs root", "no /dev/net/tun"), or ""
// when they can. Tests GTEST_SKIP with it.
std::string netnsUnavailableReason();

// Runs `body` in a fresh network + mount namespace in a forked child, with
// lo up, and fails the calling test when the body failed (a gtest failure
// or an exception) in the child. The body may use EXPECT/ASSERT as usual.
void runInFreshNetns(const std::function<void()>& body);

// Runs `command` with /bin/sh; ADD_FAILURE with its output when it fails.
// Returns whether it succeeded.
bool shell(const std::string& command);
// Its standard output, trimmed of the final newline ("" on failure).
std::string shellOutput(const std::string& command);

// /sys/class/net/NAME/ATTRIBUTE, trimmed; "" when it cannot be read.
std::string sysNet(const std::string& name, const std::string& attribute);
// The bridge NAME is a port of ("" for none), from the master symlink.
std::string masterOf(const std::string& name);
bool linkExists(const std::string& name);

}  // namespace seclabel::testing

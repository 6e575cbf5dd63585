// The guest's environment. The guest never inherits the launcher's: root's
// environment (SSH_AUTH_SOCK, tokens, LD_* and proxy settings, whatever a
// root shell carries) is none of a guest's business. Like libvirt for QEMU
// (LC_ALL=C, PATH, then only what the domain names), the guest starts from a
// fixed minimal set and gets only what the administrator names: `[process]
// env` in seclabel.toml, then `--env NAME=VALUE` of exec/run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seclabel {

// The guest's PATH unless the config or --env names another.
inline constexpr std::string_view kGuestPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Checks one "NAME=VALUE": NAME is a portable variable name
// ([A-Za-z_][A-Za-z0-9_]*, as libvirt requires of <qemu:env>), VALUE any bytes
// but NUL (which would cut the entry short in execve's array). Throws
// Error(InvalidInput) "ORIGIN: invalid environment entry 'ENTRY': WHY".
void checkEnvironmentEntry(std::string_view entry, std::string_view origin);

// The guest's whole environment: LC_ALL=C and PATH=kGuestPath, then each
// entry of `configured`, then each of `given`; a later entry for a NAME
// replaces the earlier one in its place. Entries must have passed
// checkEnvironmentEntry.
std::vector<std::string> guestEnvironment(const std::vector<std::string>& configured,
                                          const std::vector<std::string>& given);

}  // namespace seclabel

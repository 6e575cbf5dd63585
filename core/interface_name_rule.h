// The one rule for a network interface name, shared by every layer that
// reads one (the config's direct_devices, the domain XML's interfaces,
// net/): the kernel's dev_valid_name (1..15 bytes, not "." or "..", no '/',
// ':' or whitespace) plus no control characters, which would forge lines in
// errors and logs.
#pragma once

#include <string_view>

namespace seclabel {

// Why `name` is not a valid interface name ("is empty", "contains '/'",
// ...), or nullptr when it is one.
const char* interfaceNameProblem(std::string_view name) noexcept;

}  // namespace seclabel

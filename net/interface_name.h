// Interface names and MAC addresses, checked once at the API: the value
// types are xml/'s (InterfaceName, MacAddress); net/ adds name templates and
// the host side of a tap.
//
// Names reach net/ from the domain XML and from the config, so they are
// hostile until checked (core/interface_name_rule.h has the rule). A name
// that passed is the exact byte string the kernel sees: nothing is
// truncated behind the caller's back (a truncated name could select
// another interface).
#pragma once

#include <string>
#include <string_view>

#include "xml/net_types.h"

namespace seclabel {

// A name template the kernel fills in ("vnet%d", "macvtap%d"): the same rule
// as a name (core/interface_name_rule.h), with exactly one "%d". Throws
// Error(InvalidInput).
std::string checkInterfaceNameTemplate(std::string_view text);

// The address the host side of a tap gets: the guest's with its first byte
// 0xFE, as libvirt and qemu-bridge-helper set it. A bridge takes the lowest
// address among its ports as its own; 0xFE.. keeps the taps out of that
// choice, so a guest joining never changes the bridge's address.
MacAddress tapHostSideAddress(const MacAddress& guestMac);

}  // namespace seclabel

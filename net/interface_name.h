// Interface names and MAC addresses, checked once at the API.
//
// Names reach net/ from the domain XML and from the config, so they are
// hostile until checked (core/interface_name_rule.h has the rule). A name
// that passed is the exact byte string the kernel sees: nothing is
// truncated behind the caller's back (a truncated name could select
// another interface).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace seclabel {

// IFNAMSIZ - 1: the kernel's limit for an interface name, in bytes.
inline constexpr std::size_t kMaxInterfaceNameLength = 15;

class InterfaceName {
 public:
  // Throws Error(InvalidInput) "<what> 'NAME': <reason>" for an empty name,
  // one over 15 bytes, ".", "..", or one holding '/', ':', whitespace or a
  // control character. `what` names the role ("bridge", "interface").
  static InterfaceName parse(std::string_view text, std::string_view what = "interface name");
  // The same check as a predicate, for parsers that report errors their way.
  static bool isValid(std::string_view text) noexcept;

  const std::string& str() const noexcept { return name_; }
  const char* c_str() const noexcept { return name_.c_str(); }
  bool operator==(const InterfaceName&) const = default;

 private:
  explicit InterfaceName(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// A name template the kernel fills in ("vnet%d", "macvtap%d"): the same rule
// as a name, with exactly one "%d". Throws Error(InvalidInput).
std::string checkInterfaceNameTemplate(std::string_view text);

// An Ethernet unicast address (the multicast bit of the first byte clear).
class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;
  // "52:54:00:12:34:56" (hex, either case, ':' separated). Throws
  // Error(InvalidInput) for any other shape and for a multicast address.
  static MacAddress parse(std::string_view text);
  // Throws Error(InvalidInput) for a multicast address.
  static MacAddress fromBytes(const Bytes& bytes);

  const Bytes& bytes() const noexcept { return bytes_; }
  // Lower-case "52:54:00:12:34:56", libvirt's virMacAddrFormat.
  std::string format() const;
  // The address the host side of a tap gets: the guest's with its first byte
  // 0xFE, as libvirt and qemu-bridge-helper set it. A bridge takes the
  // lowest address among its ports as its own; 0xFE.. keeps the taps out of
  // that choice, so a guest joining never changes the bridge's address.
  MacAddress hostSideOfTap() const;
  bool operator==(const MacAddress&) const = default;

 private:
  explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}
  Bytes bytes_;
};

}  // namespace seclabel

// Parsed values of a libvirt <interface>: the interface type and macvtap mode
// enums, the MAC address and the kernel link name. Each value type checks its
// invariant once, when it is made, so a value of the type is always valid.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seclabel {

// libvirt's interface types (virDomainNetType), in libvirt's order. Only
// Bridge, Direct and Ethernet can be prepared (requireSupportedInterfaces);
// the others are parsed so a libvirt definition reads unchanged.
enum class InterfaceType {
  User, Ethernet, VhostUser, Server, Client, Mcast, Network, Bridge,
  Internal, Direct, Hostdev, Udp, Vdpa, Null, Vds,
};

// libvirt's spelling ("bridge", "vhostuser", ...).
const char* toString(InterfaceType type);
std::optional<InterfaceType> interfaceTypeFromString(std::string_view text);

// <source mode> of a type='direct' interface: the macvtap link's mode
// (libvirt's virNetDevMacVLanMode; the kernel's MACVLAN_MODE_*).
enum class MacvtapMode { Vepa, Private, Bridge, Passthrough };

const char* toString(MacvtapMode mode);
std::optional<MacvtapMode> macvtapModeFromString(std::string_view text);

// <driver name>: Qemu = virtio-net in QEMU's own process, Vhost = the
// in-kernel vhost-net backend (one /dev/vhost-net fd per queue).
enum class NetDriverName { Qemu, Vhost };

const char* toString(NetDriverName name);

// <target managed='no'>: the tap exists already and was made by someone else
// (seclabel attaches to it and never deletes it); Managed: seclabel creates
// the device and deletes it at stop.
enum class TapManagement { Managed, Unmanaged };

// The most queues a tap device can have: the kernel's MAX_TAP_QUEUES.
inline constexpr unsigned kMaxTapQueues = 256;

// An Ethernet station address: 6 bytes, unicast (the I/G bit of the first byte
// clear: a multicast source address is invalid on the wire) and not all zero
// (QEMU replaces 00:00:00:00:00:00 with an address of its own, so the guest
// would not use the address seclabel recorded and audited).
class MacAddress {
 public:
  using Bytes = std::array<std::uint8_t, 6>;

  // `xx:xx:xx:xx:xx:xx`, one or two hex digits per byte, either case, as
  // libvirt's virMacAddrParse reads it. Throws Error(InvalidInput) in
  // libvirt's words ("unable to parse mac address '...'", "expected unicast
  // mac address, found multicast '...'").
  static MacAddress parse(std::string_view text);
  // Throws Error(InvalidInput) for a multicast or all-zero address.
  static MacAddress fromBytes(const Bytes& bytes);

  const Bytes& bytes() const noexcept { return bytes_; }
  // Lower-case `xx:xx:xx:xx:xx:xx`, libvirt's format.
  std::string format() const;

  bool operator==(const MacAddress&) const = default;
  auto operator<=>(const MacAddress&) const = default;

 private:
  explicit MacAddress(const Bytes& bytes) : bytes_(bytes) {}
  Bytes bytes_;
};

// A network link name as the kernel accepts it (net/core/dev.c,
// dev_valid_name): 1 to 15 bytes (IFNAMSIZ - 1), not "." or "..", no '/',
// ':' or whitespace. Stricter than the kernel: no control characters, and no
// '%', which the kernel reads as a template ("vnet%d") and replaces, so the
// link created would not be the link named.
class InterfaceName {
 public:
  static constexpr std::size_t kMaxLength = 15;

  // Throws Error(InvalidInput) naming the problem and the name's role
  // (`what`: "interface name", "bridge", "tap", ...).
  static InterfaceName parse(std::string_view text, std::string_view what = "interface name");
  // The same rule as a predicate, for parsers that report errors their way.
  static bool isValid(std::string_view text) noexcept;

  const std::string& str() const noexcept { return name_; }
  const char* c_str() const noexcept { return name_.c_str(); }

  bool operator==(const InterfaceName&) const = default;

 private:
  explicit InterfaceName(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

}  // namespace seclabel

#include "xml/net_types.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "core/error.h"
#include "xml/labels.h"
#include "xml/node_util.h"

namespace seclabel {

namespace {

constexpr std::array<std::string_view, 15> kInterfaceTypeNames = {
    "user",     "ethernet", "vhostuser", "server", "client", "mcast", "network", "bridge",
    "internal", "direct",   "hostdev",   "udp",    "vdpa",   "null",  "vds"};

constexpr std::array<std::string_view, 4> kMacvtapModeNames = {"vepa", "private", "bridge",
                                                               "passthrough"};

template <class Enum, std::size_t N>
std::optional<Enum> enumFromName(const std::array<std::string_view, N>& names, std::string_view text) {
  auto found = std::find(names.begin(), names.end(), text);
  if (found == names.end()) return std::nullopt;
  return static_cast<Enum>(std::distance(names.begin(), found));
}

std::optional<std::uint8_t> hexDigit(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  return std::nullopt;
}

// virMacAddrParse: six groups of one or two hex digits separated by ':'.
std::optional<MacAddress::Bytes> parseMacBytes(std::string_view text) {
  MacAddress::Bytes bytes{};
  std::size_t at = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) {
      if (at >= text.size() || text[at] != ':') return std::nullopt;
      ++at;
    }
    unsigned value = 0;
    std::size_t digits = 0;
    while (at < text.size() && digits < 3) {
      auto digit = hexDigit(text[at]);
      if (!digit) break;
      value = value * 16 + *digit;
      ++digits;
      ++at;
    }
    if (digits == 0 || digits > 2) return std::nullopt;
    bytes[i] = static_cast<std::uint8_t>(value);
  }
  if (at != text.size()) return std::nullopt;
  return bytes;
}

bool isMulticast(const MacAddress::Bytes& bytes) { return (bytes[0] & 0x01) != 0; }

bool isZero(const MacAddress::Bytes& bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

std::string formatBytes(const MacAddress::Bytes& bytes) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return text;
}

}  // namespace

const char* toString(InterfaceType type) {
  return kInterfaceTypeNames[static_cast<std::size_t>(type)].data();
}

std::optional<InterfaceType> interfaceTypeFromString(std::string_view text) {
  return enumFromName<InterfaceType>(kInterfaceTypeNames, text);
}

const char* toString(MacvtapMode mode) {
  return kMacvtapModeNames[static_cast<std::size_t>(mode)].data();
}

std::optional<MacvtapMode> macvtapModeFromString(std::string_view text) {
  return enumFromName<MacvtapMode>(kMacvtapModeNames, text);
}

const char* toString(NetDriverName name) {
  return name == NetDriverName::Vhost ? "vhost" : "qemu";
}

MacAddress MacAddress::parse(std::string_view text) {
  auto bytes = parseMacBytes(text);
  if (!bytes) throw Error::invalidInput("unable to parse mac address " + quoteShort(text));
  if (isMulticast(*bytes)) {
    throw Error::invalidInput("expected unicast mac address, found multicast " + quote(text));
  }
  if (isZero(*bytes)) {
    throw Error::invalidInput("mac address " + quote(text) +
                              " is all zeros (QEMU would use an address of its own)");
  }
  return MacAddress(*bytes);
}

MacAddress MacAddress::fromBytes(const Bytes& bytes) {
  if (isMulticast(bytes)) {
    throw Error::invalidInput("expected unicast mac address, found multicast '" +
                              formatBytes(bytes) + "'");
  }
  if (isZero(bytes)) throw Error::invalidInput("mac address 00:00:00:00:00:00 is all zeros");
  return MacAddress(bytes);
}

std::string MacAddress::format() const { return formatBytes(bytes_); }

InterfaceName InterfaceName::parse(std::string_view text, std::string_view what) {
  const std::string role(what);
  checkLabelText(text, role);  // empty, control characters
  if (text.size() > kMaxLength) {
    // libvirt's words (virnetdev.c), with the limit.
    throw Error::invalidInput("Network interface name " + quoteShort(text) + " is too long (" +
                              std::to_string(text.size()) + " bytes, the kernel allows " +
                              std::to_string(kMaxLength) + ")");
  }
  if (text == "." || text == "..") {
    throw Error::invalidInput(role + " " + quote(text) + " is not allowed");
  }
  for (char c : text) {
    if (c == '/' || c == ':' || c == '%') {
      throw Error::invalidInput(role + " " + quote(text) + " cannot contain '" +
                                std::string(1, c) + "'" +
                                (c == '%' ? " (the kernel would read it as a name template)" : ""));
    }
    // The kernel's isspace(): ' ' here (the rest are control characters,
    // refused above) and 0xa0, which its Latin-1 ctype table counts as a space.
    if (c == ' ' || static_cast<unsigned char>(c) == 0xa0) {
      throw Error::invalidInput(role + " " + quote(text) + " cannot contain whitespace");
    }
  }
  return InterfaceName(std::string(text));
}

bool InterfaceName::isValid(std::string_view text) noexcept {
  try {
    parse(text);
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace seclabel

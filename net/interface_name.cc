#include "net/interface_name.h"

#include <cstdio>

#include "core/error.h"
#include "core/interface_name_rule.h"

namespace seclabel {
namespace {

// The name as it may be printed in an error: control bytes as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 64)) {
    if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > 64) out += "...";
  return out;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

InterfaceName InterfaceName::parse(std::string_view text, std::string_view what) {
  if (const char* problem = interfaceNameProblem(text))
    throw Error::invalidInput(std::string(what) + " '" + printable(text) + "' " + problem);
  return InterfaceName(std::string(text));
}

bool InterfaceName::isValid(std::string_view text) noexcept {
  return interfaceNameProblem(text) == nullptr;
}

std::string checkInterfaceNameTemplate(std::string_view text) {
  auto percent = text.find('%');
  if (percent == std::string_view::npos || text.substr(percent, 2) != "%d" ||
      text.find('%', percent + 1) != std::string_view::npos)
    throw Error::invalidInput("interface name template '" + printable(text) +
                              "' must hold exactly one %d");
  // "%d" becomes at least one digit: the template's length is the shortest
  // name it makes.
  if (const char* problem = interfaceNameProblem(text))
    throw Error::invalidInput("interface name template '" + printable(text) + "' " + problem);
  return std::string(text);
}

MacAddress MacAddress::parse(std::string_view text) {
  Bytes bytes{};
  bool ok = text.size() == 17;
  for (std::size_t i = 0; ok && i < 6; ++i) {
    int high = hexDigit(text[i * 3]);
    int low = hexDigit(text[i * 3 + 1]);
    if (high < 0 || low < 0 || (i < 5 && text[i * 3 + 2] != ':')) ok = false;
    else bytes[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  if (!ok)
    throw Error::invalidInput("MAC address '" + printable(text) +
                              "' is not six hex bytes separated by ':'");
  return fromBytes(bytes);
}

MacAddress MacAddress::fromBytes(const Bytes& bytes) {
  MacAddress mac(bytes);
  if (bytes[0] & 0x01)
    throw Error::invalidInput("MAC address " + mac.format() +
                              " is a multicast address (first byte odd)");
  return mac;
}

std::string MacAddress::format() const {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1],
                bytes_[2], bytes_[3], bytes_[4], bytes_[5]);
  return text;
}

MacAddress MacAddress::hostSideOfTap() const {
  Bytes host = bytes_;
  host[0] = 0xFE;
  return MacAddress(host);
}

}  // namespace seclabel

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

}  // namespace

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

MacAddress tapHostSideAddress(const MacAddress& guestMac) {
  MacAddress::Bytes bytes = guestMac.bytes();
  bytes[0] = 0xFE;
  return MacAddress::fromBytes(bytes);
}

}  // namespace seclabel

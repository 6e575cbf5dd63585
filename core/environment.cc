#include "core/environment.h"

#include "core/error.h"

namespace seclabel {

namespace {

bool isNameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }

// Control characters are shown escaped, so the one error line stays one line.
std::string printable(std::string_view text) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string_view nameOf(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

void checkEnvironmentEntry(std::string_view entry, std::string_view origin) {
  auto refuse = [&](std::string_view why) {
    throw Error::invalidInput(std::string(origin) + ": invalid environment entry '" +
                              printable(entry) + "': " + std::string(why));
  };
  const size_t equals = entry.find('=');
  if (equals == std::string_view::npos) refuse("expected NAME=VALUE");
  if (equals == 0) refuse("the name is empty");
  const std::string_view name = entry.substr(0, equals);
  if (!isNameStart(name.front())) refuse("a name starts with a letter or '_'");
  for (char c : name)
    if (!isNameChar(c)) refuse("a name holds only letters, digits and '_'");
  if (entry.find('\0') != std::string_view::npos) refuse("the value holds a NUL byte");
}

std::vector<std::string> guestEnvironment(const std::vector<std::string>& configured,
                                          const std::vector<std::string>& given) {
  std::vector<std::string> environment{"LC_ALL=C", "PATH=" + std::string(kGuestPath)};
  auto add = [&](const std::string& entry) {
    for (std::string& existing : environment) {
      if (nameOf(existing) == nameOf(entry)) {
        existing = entry;
        return;
      }
    }
    environment.push_back(entry);
  };
  for (const std::string& entry : configured) add(entry);
  for (const std::string& entry : given) add(entry);
  return environment;
}

}  // namespace seclabel

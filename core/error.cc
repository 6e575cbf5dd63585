#include "core/error.h"

#include <cstring>

namespace seclabel {

Error::Error(ExitCode code, const std::string& message, int errnum)
    : std::runtime_error(message), code_(code), errnum_(errnum) {}

Error Error::fromErrno(const std::string& what, int errnum, ExitCode code) {
  return Error(code, what + ": " + std::strerror(errnum), errnum);
}

Error Error::withContext(const std::string& prefix) const {
  return Error(code_, prefix + ": " + what(), errnum_);
}

std::string printableValue(std::string_view value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(value.size());
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      text += "\\x";
      text += kDigits[c >> 4];
      text += kDigits[c & 0xF];
    } else {
      text += static_cast<char>(c);
    }
  }
  return text;
}

}  // namespace seclabel

#include "core/interface_name_rule.h"

namespace seclabel {

const char* interfaceNameProblem(std::string_view name) noexcept {
  // IFNAMSIZ - 1: longer names are truncated by some interfaces and refused
  // by others; a truncated name could select another interface.
  constexpr std::size_t kMaxLength = 15;
  if (name.empty()) return "is empty";
  if (name.size() > kMaxLength) return "is longer than 15 bytes";
  if (name == "." || name == "..") return "is not a valid interface name";
  for (unsigned char c : name) {
    if (c == '/') return "contains '/'";
    if (c == ':') return "contains ':'";
    if (c == ' ' || (c >= '\t' && c <= '\r')) return "contains whitespace";
    if (c < 0x20 || c == 0x7f) return "contains a control character";
  }
  return nullptr;
}

}  // namespace seclabel

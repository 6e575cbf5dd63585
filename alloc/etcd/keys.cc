#include "alloc/etcd/keys.h"

#include <charconv>

namespace seclabel::etcd {

std::string prefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string sortableNumber(uint64_t n) {
  std::string out(kSortableNumberWidth, '0');
  for (size_t i = kSortableNumberWidth; n != 0; n /= 10) out[--i] = static_cast<char>('0' + n % 10);
  return out;
}

std::optional<uint64_t> parseSortableNumber(std::string_view text) {
  if (text.size() != kSortableNumberWidth) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;  // overflow
  return value;
}

}  // namespace seclabel::etcd

#include "alloc/etcd/base64.h"

#include <array>
#include <cstdint>

namespace seclabel::etcd {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int8_t kInvalid = -1;

// The 6-bit value of each character, kInvalid for characters outside the
// alphabet (including '=', which the decoder handles by position).
constexpr std::array<int8_t, 256> decodingTable() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}

constexpr auto kDecoding = decodingTable();

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 |
                     uint32_t(uint8_t(bytes[i + 2]));
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += kAlphabet[group >> 6 & 63];
    out += kAlphabet[group & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t group = uint32_t(uint8_t(bytes[i])) << 16;
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t group = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += kAlphabet[group >> 6 & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool lastGroup = i + 4 == text.size();
    // Padding is legal only in the last group: "xx==" or "xxx=".
    size_t padding = 0;
    if (lastGroup && text[i + 3] == '=') padding = text[i + 2] == '=' ? 2 : 1;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      if (j >= 4 - padding) {
        group <<= 6;
        continue;
      }
      int8_t value = kDecoding[static_cast<unsigned char>(text[i + j])];
      if (value == kInvalid) return std::nullopt;
      group = group << 6 | uint32_t(value);
    }
    out += static_cast<char>(group >> 16 & 0xff);
    if (padding == 2) {
      // The second character's low 4 bits are unused: they must be zero.
      if (group & 0xffff) return std::nullopt;
      break;
    }
    out += static_cast<char>(group >> 8 & 0xff);
    if (padding == 1) {
      if (group & 0xff) return std::nullopt;
      break;
    }
    out += static_cast<char>(group & 0xff);
  }
  return out;
}

}  // namespace seclabel::etcd

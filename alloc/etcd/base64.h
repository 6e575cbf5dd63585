// Base64 (RFC 4648, section 4: the standard alphabet with '=' padding), the
// encoding etcd's JSON gateway uses for every key and value: they are bytes,
// and JSON strings cannot carry arbitrary bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace seclabel::etcd {

// Any bytes to padded base64.
std::string base64Encode(std::string_view bytes);

// Strict decoding of what base64Encode produces, nothing else: the length is
// a multiple of 4, only the standard alphabet, '=' only as the last one or
// two characters, no whitespace, and the bits the padding leaves unused are
// zero (so every byte string has exactly one accepted encoding). nullopt for
// anything else: a reply that bends the encoding is a broken or hostile
// reply, not one to guess at.
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace seclabel::etcd

// Key helpers for a store kept in etcd's flat, byte-ordered key space.
//
// etcd has no directories: a "directory" is a key prefix, read or deleted as
// the range [prefix, prefixRangeEnd(prefix)). Keys sort by their bytes, so
// numbers in keys are written with a fixed width (sortableNumber) to make
// byte order numeric order: a range read from a cursor then walks the ids in
// numeric order, which next-fit allocation relies on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seclabel::etcd {

// The smallest key greater than every key that starts with `prefix`: the
// prefix with its last byte that is below 0xff incremented and everything
// after that byte dropped ("/a/" -> "/a0"). When there is no such byte (an
// empty prefix, or only 0xff bytes) it is "\0", which etcd reads as "no end":
// every key from the start key on.
std::string prefixRangeEnd(std::string_view prefix);

// Digits of the widest uint64_t (18446744073709551615).
inline constexpr size_t kSortableNumberWidth = 20;

// `n` as exactly kSortableNumberWidth decimal digits, zero padded, so that
// for any a < b, sortableNumber(a) < sortableNumber(b) byte by byte.
std::string sortableNumber(uint64_t n);

// Inverse of sortableNumber: exactly kSortableNumberWidth ASCII digits whose
// value fits in uint64_t; nullopt for anything else (a foreign or damaged key).
std::optional<uint64_t> parseSortableNumber(std::string_view text);

}  // namespace seclabel::etcd

// One integer per MCS category pair, so one allocator serves DAC and MCS.
//
// The pair cA,cB (A < B) is encoded as B*(B-1)/2 + A: pairs are numbered
// column by column of the upper triangle, (0,1)=0, (0,2)=1, (1,2)=2,
// (0,3)=3, ... The code does not depend on the configured category range, so
// a pair keeps its code when the range changes, and the default range
// c0.c1023 is exactly the codes 0..523775.
#pragma once

#include <cstdint>

#include "xml/labels.h"

namespace seclabel {

// The largest category number the encoding accepts (codes then fit easily
// in 63 bits, so SQLite's signed integers hold them).
inline constexpr uint32_t kMaxMcsCategory = (1u << 30) - 1;

// Code of the pair first < second. Throws Error(InvalidInput) when second
// exceeds kMaxMcsCategory.
uint64_t encodeMcsPair(const McsPair& pair);
uint64_t encodeMcsPair(uint32_t first, uint32_t second);

// The pair of a code; inverse of encodeMcsPair. Throws Error(InvalidInput)
// for a code beyond the largest pair.
McsPair decodeMcsPair(uint64_t code);

// The code of (0, second): the first code of column `second`.
inline constexpr uint64_t mcsColumnStart(uint32_t second) {
  return uint64_t(second) * (uint64_t(second) - (second ? 1 : 0)) / 2;
}

}  // namespace seclabel

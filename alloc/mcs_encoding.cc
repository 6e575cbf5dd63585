#include "alloc/mcs_encoding.h"

#include <cmath>
#include <string>

#include "core/error.h"

namespace seclabel {

uint64_t encodeMcsPair(uint32_t first, uint32_t second) {
  if (second > kMaxMcsCategory)
    throw Error::invalidInput("MCS category c" + std::to_string(second) +
                              " is beyond c" + std::to_string(kMaxMcsCategory));
  McsPair checked(first, second);  // enforces first < second
  return mcsColumnStart(checked.second()) + checked.first();
}

uint64_t encodeMcsPair(const McsPair& pair) {
  return encodeMcsPair(pair.first(), pair.second());
}

McsPair decodeMcsPair(uint64_t code) {
  if (code >= mcsColumnStart(kMaxMcsCategory + 1))
    throw Error::invalidInput("MCS pair code " + std::to_string(code) + " is out of range");
  // Column B holds codes [B(B-1)/2, B(B+1)/2). Start from the floating-point
  // root and correct it: sqrt is inexact for large codes.
  uint64_t second = uint64_t((1.0 + std::sqrt(1.0 + 8.0 * double(code))) / 2.0);
  while (second > 1 && mcsColumnStart(uint32_t(second)) > code) --second;
  while (mcsColumnStart(uint32_t(second + 1)) <= code) ++second;
  uint64_t first = code - mcsColumnStart(uint32_t(second));
  return McsPair(uint32_t(first), uint32_t(second));
}

}  // namespace seclabel

#include "alloc/etcd/keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace seclabel::etcd {
namespace {

TEST(PrefixRangeEnd, IncrementsTheLastByte) {
  EXPECT_EQ(prefixRangeEnd("/seclabel/"), "/seclabel0");
  EXPECT_EQ(prefixRangeEnd("a"), "b");
}

TEST(PrefixRangeEnd, DropsTrailingFFBytesBeforeIncrementing) {
  EXPECT_EQ(prefixRangeEnd("a\xff"), "b");
  EXPECT_EQ(prefixRangeEnd(std::string("a\xfe\xff\xff")), "a\xff");
}

TEST(PrefixRangeEnd, IsTheEndOfTheKeySpaceWhenNoByteCanGrow) {
  EXPECT_EQ(prefixRangeEnd(""), std::string(1, '\0'));
  EXPECT_EQ(prefixRangeEnd("\xff\xff"), std::string(1, '\0'));
}

TEST(PrefixRangeEnd, BoundsExactlyTheKeysWithThePrefix) {
  std::string prefix = "/seclabel/dac/";
  std::string end = prefixRangeEnd(prefix);
  for (std::string inside : {prefix, prefix + "0", prefix + "\xff\xff"}) EXPECT_LT(inside, end);
  for (std::string outside : {std::string("/seclabel/dac0"), std::string("/seclabel/dad")})
    EXPECT_GE(outside, end);
}

TEST(SortableNumber, IsTwentyZeroPaddedDigits) {
  EXPECT_EQ(sortableNumber(0), "00000000000000000000");
  EXPECT_EQ(sortableNumber(1879048192), "00000000001879048192");
  EXPECT_EQ(sortableNumber(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
}

TEST(SortableNumber, ByteOrderIsNumericOrder) {
  std::vector<uint64_t> numbers = {0, 1, 9, 10, 99, 100, 1879048191, 1879048192, 523775,
                                   uint64_t(1) << 32, std::numeric_limits<uint64_t>::max() - 1,
                                   std::numeric_limits<uint64_t>::max()};
  for (uint64_t a : numbers)
    for (uint64_t b : numbers) EXPECT_EQ(a < b, sortableNumber(a) < sortableNumber(b)) << a << " " << b;
}

TEST(SortableNumber, ParsesWhatItWrites) {
  for (uint64_t n : {uint64_t(0), uint64_t(42), std::numeric_limits<uint64_t>::max()})
    EXPECT_EQ(parseSortableNumber(sortableNumber(n)), n);
}

TEST(SortableNumber, RejectsWrongWidthSignsNonDigitsAndOverflow) {
  for (std::string text : {"", "42", "000000000000000000042", "+0000000000000000042",
                           "-0000000000000000042", "0000000000000000004x", "0000000000 000000042",
                           "18446744073709551616", "99999999999999999999"})
    EXPECT_FALSE(parseSortableNumber(text)) << text;
}

}  // namespace
}  // namespace seclabel::etcd

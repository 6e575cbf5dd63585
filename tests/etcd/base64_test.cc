#include "alloc/etcd/base64.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace seclabel::etcd {
namespace {

TEST(Base64, EncodesTheRfc4648TestVectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesTheRfc4648TestVectors) {
  EXPECT_EQ(base64Decode(""), "");
  EXPECT_EQ(base64Decode("Zg=="), "f");
  EXPECT_EQ(base64Decode("Zm8="), "fo");
  EXPECT_EQ(base64Decode("Zm9v"), "foo");
  EXPECT_EQ(base64Decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64Decode("Zm9vYmFy"), "foobar");
}

TEST(Base64, UsesTheStandardAlphabetForTheLastTwoSymbols) {
  EXPECT_EQ(base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64Decode("+/8="), "\xfb\xff");
}

TEST(Base64, RoundTripsEveryByteValueAtEveryLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (size_t length = 0; length <= bytes.size(); ++length) {
    std::string input = bytes.substr(bytes.size() - length);
    auto decoded = base64Decode(base64Encode(input));
    ASSERT_TRUE(decoded) << "length " << length;
    EXPECT_EQ(*decoded, input) << "length " << length;
  }
}

TEST(Base64, RejectsALengthThatIsNotAMultipleOfFour) {
  for (const char* text : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYmFy="}) EXPECT_FALSE(base64Decode(text)) << text;
}

TEST(Base64, RejectsCharactersOutsideTheStandardAlphabet) {
  // URL-safe symbols, whitespace, a NUL, non-ASCII bytes, JSON punctuation.
  for (const std::string& text : std::vector<std::string>{"Zm9-", "Zm9_", "Zm9 ", "Zm9\n",
                                                         std::string("Zm9\0", 4), "Zm9\xc3",
                                                         "Zm9\"", "Zm.v"})
    EXPECT_FALSE(base64Decode(text)) << text;
}

TEST(Base64, RejectsPaddingAnywhereButTheEnd) {
  for (const char* text : {"Zg==Zm9v", "Z=9v", "=m9v", "Zm=v", "Zg==Zg=="})
    EXPECT_FALSE(base64Decode(text)) << text;
}

TEST(Base64, RejectsThreePaddingCharactersOrOnlyPadding) {
  for (const char* text : {"Z===", "===="}) EXPECT_FALSE(base64Decode(text)) << text;
}

TEST(Base64, RejectsNonZeroBitsUnderThePadding) {
  // "Zg==" is the one encoding of "f"; "Zh==" differs only in the unused bits.
  EXPECT_FALSE(base64Decode("Zh=="));
  EXPECT_FALSE(base64Decode("Zm9="));
  EXPECT_EQ(base64Decode("Zm8="), "fo");
}

}  // namespace
}  // namespace seclabel::etcd

#include "writ/base/base64url.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace writ {
namespace {

using ::testing::HasSubstr;

TEST(Base64UrlTest, RoundTripsEveryLengthUpToSixteen) {
  std::string data;
  for (int len = 0; len <= 16; ++len) {
    const std::string encoded = Base64UrlEncode(data);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    auto decoded = Base64UrlDecode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<char>(0xf0 + len));
  }
}

TEST(Base64UrlTest, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64UrlTest, RejectsPadding) {
  auto r = Base64UrlDecode("Zg==");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("padding"));
}

TEST(Base64UrlTest, RejectsStandardAlphabetCharacters) {
  EXPECT_FALSE(Base64UrlDecode("+/8A").ok());
  EXPECT_FALSE(Base64UrlDecode("ab/c").ok());
}

TEST(Base64UrlTest, RejectsWhitespaceAndControlCharacters) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v Zg").ok());
  EXPECT_FALSE(Base64UrlDecode("Zm9v\nZg").ok());
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm\0v", 4)).ok());
}

TEST(Base64UrlTest, RejectsImpossibleLength) {
  auto r = Base64UrlDecode("Zm9vY");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("length"));
}

TEST(Base64UrlTest, RejectsNonZeroTrailingBits) {
  // "Zg" is the canonical encoding of "f"; "Zh" decodes to the same byte with
  // a stray low bit set.
  EXPECT_TRUE(Base64UrlDecode("Zg").ok());
  auto r = Base64UrlDecode("Zh");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("trailing bits"));
}

}  // namespace
}  // namespace writ

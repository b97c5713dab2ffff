#include "writ/jose/algorithm.h"

#include <string>

#include "absl/strings/ascii.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace writ {
namespace {

using ::testing::HasSubstr;

constexpr JwsAlgorithm kAll[] = {JwsAlgorithm::kRs256, JwsAlgorithm::kRs384, JwsAlgorithm::kRs512,
                                 JwsAlgorithm::kPs256, JwsAlgorithm::kPs384, JwsAlgorithm::kPs512,
                                 JwsAlgorithm::kEs256, JwsAlgorithm::kEs384, JwsAlgorithm::kEs512,
                                 JwsAlgorithm::kEdDsa};

bool IsPrintable(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

TEST(JwsAlgorithmTest, NamesAreTheRegisteredValues) {
  EXPECT_EQ(JwsAlgorithmName(JwsAlgorithm::kRs256), "RS256");
  EXPECT_EQ(JwsAlgorithmName(JwsAlgorithm::kPs384), "PS384");
  EXPECT_EQ(JwsAlgorithmName(JwsAlgorithm::kEs512), "ES512");
  EXPECT_EQ(JwsAlgorithmName(JwsAlgorithm::kEdDsa), "EdDSA");
}

TEST(JwsAlgorithmTest, EveryNameMapsBack) {
  for (JwsAlgorithm alg : kAll) {
    auto parsed = JwsAlgorithmFromName(JwsAlgorithmName(alg));
    ASSERT_TRUE(parsed.ok()) << JwsAlgorithmName(alg);
    EXPECT_EQ(*parsed, alg);
  }
}

TEST(JwsAlgorithmTest, MatchingIsCaseSensitive) {
  for (absl::string_view name : {"rs256", "Rs256", "es256", "EDDSA", "eddsa", "Ed25519", "ps256"}) {
    auto parsed = JwsAlgorithmFromName(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("is not supported"));
  }
}

TEST(JwsAlgorithmTest, RefusesNoneInAnyCase) {
  for (absl::string_view name : {"none", "None", "NONE", "nOnE"}) {
    auto parsed = JwsAlgorithmFromName(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("unsecured JWS"));
  }
}

TEST(JwsAlgorithmTest, RefusesHmac) {
  for (absl::string_view name : {"HS256", "HS384", "HS512", "hs256", "HS1"}) {
    auto parsed = JwsAlgorithmFromName(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(parsed.status().message()),
                HasSubstr("(HMAC) is never accepted: Writ verifies with public keys only"));
  }
}

TEST(JwsAlgorithmTest, RefusesEmptyAndUnknown) {
  for (absl::string_view name : {"", "RS1", "ES256K", "RSA-OAEP", "dir", "A128KW", "Ed448"}) {
    auto parsed = JwsAlgorithmFromName(name);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(JwsAlgorithmTest, MessagesNeverEchoControlBytes) {
  for (absl::string_view name :
       {absl::string_view("HS256\n\x1b[31mFORGED"), absl::string_view("X\r\nSet-Cookie: a"),
        absl::string_view("none\0", 5), absl::string_view("\xc3\xa9s256")}) {
    auto parsed = JwsAlgorithmFromName(name);
    ASSERT_FALSE(parsed.ok());
    EXPECT_TRUE(IsPrintable(parsed.status().message())) << parsed.status();
  }
}

TEST(JwsAlgorithmTest, MessagesCutLongNames) {
  auto parsed = JwsAlgorithmFromName(std::string(10000, 'A'));
  ASSERT_FALSE(parsed.ok());
  EXPECT_LT(parsed.status().message().size(), 100u);
}

TEST(JwsAlgorithmTest, IsRsaAlgorithm) {
  for (JwsAlgorithm alg : kAll) {
    const absl::string_view name = JwsAlgorithmName(alg);
    EXPECT_EQ(IsRsaAlgorithm(alg), name[0] == 'R' || name[0] == 'P') << name;
  }
}

}  // namespace
}  // namespace writ

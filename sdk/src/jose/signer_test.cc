#include "writ/jose/signer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"

namespace writ {
namespace {

using ::testing::HasSubstr;

struct Case {
  KeySpec spec;
  JwsAlgorithm alg;
};

class SignerRoundTripTest : public ::testing::TestWithParam<Case> {};

TEST_P(SignerRoundTripTest, SignedTokenVerifiesWithItsPublicJwk) {
  auto key = GenerateKey(GetParam().spec);
  ASSERT_TRUE(key.ok());
  auto signer = PrivateKeySigner::New(*std::move(key), GetParam().alg);
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto token = SignCompactJws(**signer, "JWT", R"({"sub":"x"})");
  ASSERT_TRUE(token.ok()) << token.status();
  auto jws = ParseCompactJws(*token);
  ASSERT_TRUE(jws.ok()) << jws.status();
  EXPECT_EQ(jws->algorithm(), GetParam().alg);
  EXPECT_EQ(jws->kid(), (*signer)->kid());
  EXPECT_EQ(jws->type(), "JWT");
  EXPECT_EQ(jws->payload(), R"({"sub":"x"})");
  auto set = JwkSet::FromKeys({(*signer)->public_jwk()});
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(VerifyJws(*jws, *set).ok());

  // The exported JWK parses back to the same key and thumbprint.
  auto reparsed = PublicJwk::Parse((*signer)->public_jwk().ToJson());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(reparsed->Thumbprint(), (*signer)->public_jwk().Thumbprint());
  EXPECT_EQ(reparsed->algorithm(), GetParam().alg);
  EXPECT_TRUE(reparsed->Verify(GetParam().alg, jws->signing_input(), jws->signature()).ok());

  // One flipped bit in the payload breaks the signature.
  std::string tampered = *token;
  tampered[tampered.find('.') + 2] ^= 1;
  auto bad = ParseCompactJws(tampered);
  if (bad.ok()) {
    EXPECT_EQ(VerifyJws(*bad, *set).code(), absl::StatusCode::kUnauthenticated);
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, SignerRoundTripTest,
                         ::testing::Values(Case{KeySpec::kEcP256, JwsAlgorithm::kEs256},
                                           Case{KeySpec::kEcP384, JwsAlgorithm::kEs384},
                                           Case{KeySpec::kEcP521, JwsAlgorithm::kEs512},
                                           Case{KeySpec::kEd25519, JwsAlgorithm::kEdDsa},
                                           Case{KeySpec::kRsa2048, JwsAlgorithm::kRs256},
                                           Case{KeySpec::kRsa2048, JwsAlgorithm::kRs384},
                                           Case{KeySpec::kRsa2048, JwsAlgorithm::kRs512},
                                           Case{KeySpec::kRsa2048, JwsAlgorithm::kPs256},
                                           Case{KeySpec::kRsa2048, JwsAlgorithm::kPs384},
                                           Case{KeySpec::kRsa2048, JwsAlgorithm::kPs512}));

TEST(PrivateKeySignerTest, RefusesKeyThatDoesNotFitAlgorithm) {
  auto key = GenerateKey(KeySpec::kEcP384);
  ASSERT_TRUE(key.ok());
  auto signer = PrivateKeySigner::New(*std::move(key), JwsAlgorithm::kEs256);
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(signer.status().message(), HasSubstr("P-256"));
}

TEST(PrivateKeySignerTest, RefusesRsaKeyForEcAlgorithm) {
  auto signer = PrivateKeySigner::New(*GenerateKey(KeySpec::kRsa2048), JwsAlgorithm::kEs256);
  EXPECT_FALSE(signer.ok());
}

TEST(PrivateKeySignerTest, KidDefaultsToThumbprint) {
  auto signer = PrivateKeySigner::New(*GenerateKey(KeySpec::kEcP256), JwsAlgorithm::kEs256);
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ((*signer)->kid(), (*signer)->public_jwk().Thumbprint());
  EXPECT_EQ((*signer)->kid().size(), 43u);
}

TEST(PrivateKeySignerTest, UsesGivenKid) {
  auto signer =
      PrivateKeySigner::New(*GenerateKey(KeySpec::kEd25519), JwsAlgorithm::kEdDsa, "key-1");
  ASSERT_TRUE(signer.ok());
  EXPECT_EQ((*signer)->kid(), "key-1");
}

TEST(SignCompactJwsTest, RefusesTypeThatIsNotPrintableAscii) {
  auto signer = PrivateKeySigner::New(*GenerateKey(KeySpec::kEcP256), JwsAlgorithm::kEs256);
  ASSERT_TRUE(signer.ok());
  for (absl::string_view type : {absl::string_view("\xff"), absl::string_view("a\nb")}) {
    auto token = SignCompactJws(**signer, type, "{}");
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(SignCompactJws(**signer, "at+jwt", "{}").ok());
}

TEST(PrivateKeySignerTest, EcdsaSignaturesAreRawAndRandomized) {
  auto signer = PrivateKeySigner::New(*GenerateKey(KeySpec::kEcP256), JwsAlgorithm::kEs256);
  ASSERT_TRUE(signer.ok());
  auto a = (*signer)->Sign("data");
  auto b = (*signer)->Sign("data");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*a, *b);
}

}  // namespace
}  // namespace writ

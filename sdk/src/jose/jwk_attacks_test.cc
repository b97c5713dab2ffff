// RFC 8725 section 3.4 and draft-ietf-oauth-rfc8725bis: keys in a key set
// are validated before use (weak RSA, symmetric and private keys, invalid
// curves), each case asserting the status code and what the message names.
#include <openssl/bn.h>
#include <openssl/evp.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/jose/jose_test_util.h"
#include "writ/jose/jwk.h"
#include "writ/jose/signer.h"

namespace writ {
namespace {

using jose_test::B64;
using ::testing::AnyOf;
using ::testing::HasSubstr;

const PrivateKeySigner& RsaSigner() {
  return jose_test::CachedSigner(KeySpec::kRsa2048, JwsAlgorithm::kRs256, "rsa-key-1");
}
const PrivateKeySigner& EcSigner() {
  return jose_test::CachedSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "ec-key-1");
}

// --- RFC 8725 section 3.4 / bis: validate keys in the key set --------------

TEST(JwkSetTest, SkipsRsaKeyBelow2048Bits) {
  SslPtr<EVP_PKEY> weak = jose_test::GenerateRsaKey(1024);
  SslPtr<EVP_PKEY> almost = jose_test::GenerateRsaKey(2047);
  ASSERT_EQ(EVP_PKEY_get_bits(almost.get()), 2047);
  const std::string jwks = absl::StrCat(R"({"keys":[)", jose_test::RsaJwkJson(weak.get(), "weak"),
                                        ",", jose_test::RsaJwkJson(almost.get(), "almost"), ",",
                                        RsaSigner().public_jwk().ToJson(), "]}");
  auto set = JwkSet::Parse(jwks);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid(), "rsa-key-1");
  EXPECT_EQ(set->Find("weak"), nullptr);
  ASSERT_EQ(set->skipped().size(), 2u);
  EXPECT_THAT(set->skipped()[0], HasSubstr("key 0: RSA key of 1024 bits is outside 2048..8192"));
  EXPECT_THAT(set->skipped()[1], HasSubstr("key 1: RSA key of 2047 bits"));
}

TEST(PublicJwkTest, RefusesRsaKeyBelow2048Bits) {
  SslPtr<EVP_PKEY> weak = jose_test::GenerateRsaKey(1024);
  auto jwk = PublicJwk::Parse(jose_test::RsaJwkJson(weak.get(), "weak"));
  ASSERT_FALSE(jwk.ok());
  EXPECT_EQ(jwk.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(jwk.status().message(), HasSubstr("1024 bits"));
  // And a signer cannot be made with it either.
  EXPECT_FALSE(PrivateKeySigner::New(std::move(weak), JwsAlgorithm::kRs256).ok());
}

TEST(PublicJwkTest, RefusesRsaKeyOver8192Bits) {
  // A hostile JWKS could make every verification slow. Build an odd 8200-bit
  // modulus with no small factors (OpenSSL's public check looks for them).
  SslPtr<BIGNUM> n(BN_new());
  SslPtr<BN_CTX> ctx(BN_CTX_new());
  bool refused_for_size = false;
  for (int attempt = 0; attempt < 64 && !refused_for_size; ++attempt) {
    ASSERT_EQ(BN_rand(n.get(), 8200, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD), 1);
    std::string bytes(static_cast<size_t>(BN_num_bytes(n.get())), '\0');
    BN_bn2bin(n.get(), reinterpret_cast<unsigned char*>(bytes.data()));
    auto jwk =
        PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", B64(bytes), R"(","e":"AQAB"})"));
    ASSERT_FALSE(jwk.ok());
    EXPECT_EQ(jwk.status().code(), absl::StatusCode::kInvalidArgument);
    refused_for_size = absl::StrContains(jwk.status().message(), "8200 bits is outside");
  }
  EXPECT_TRUE(refused_for_size);
}

TEST(JwkSetTest, SkipsSymmetricKey) {
  auto set = JwkSet::Parse(absl::StrCat(
      R"({"keys":[{"kty":"oct","kid":"hmac",)",
      R"("k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTw)"
      R"(jAzZr1Z9CAow"},)",
      R"({"kty":"oct","kid":"hmac-no-k"},)", EcSigner().public_jwk().ToJson(), "]}"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->Find("hmac"), nullptr);
  ASSERT_EQ(set->skipped().size(), 2u);
  EXPECT_THAT(set->skipped()[0], HasSubstr("key 0: JWK holds private or symmetric key material"));
  EXPECT_THAT(set->skipped()[1], HasSubstr("key 1: JWK kty \"oct\" (symmetric) is never accepted"));
}

TEST(PublicJwkTest, RefusesPrivateMembers) {
  const std::string pub = EcSigner().public_jwk().ToJson();
  for (absl::string_view member : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    SCOPED_TRACE(member);
    const std::string jwk =
        absl::StrCat(pub.substr(0, pub.size() - 1), ",\"", member, R"(":"AQAB"})");
    auto parsed = PublicJwk::Parse(jwk);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(),
                HasSubstr(absl::StrCat("private or symmetric key material (\"", member, "\")")));
  }
}

// RFC 7515 A.3's P-256 public point, for the invalid-curve tests.
constexpr absl::string_view kP256X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr absl::string_view kP256Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

std::string EcJwk(absl::string_view crv, absl::string_view x, absl::string_view y) {
  return absl::StrCat(R"({"kty":"EC","crv":")", crv, R"(","x":")", x, R"(","y":")", y, "\"}");
}

TEST(PublicJwkTest, AcceptsPointOnCurve) {
  EXPECT_TRUE(PublicJwk::Parse(EcJwk("P-256", kP256X, kP256Y)).ok());
}

TEST(PublicJwkTest, RefusesEcPointNotOnCurve) {
  // Invalid-curve attack: a point off the curve can leak the peer's secret in
  // ECDH and must never be accepted as a key.
  std::string y = jose_test::FromB64(kP256Y);
  y.back() ^= 0x01;
  const std::string zero(32, '\0');
  for (const std::string& jwk :
       {EcJwk("P-256", kP256X, B64(y)), EcJwk("P-256", B64(zero), B64(zero)),
        EcJwk("P-256", kP256X, kP256X)}) {
    SCOPED_TRACE(jwk);
    auto parsed = PublicJwk::Parse(jwk);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(),
                AnyOf(HasSubstr("is not a valid EC public key"), HasSubstr("fails validation")));
  }
}

TEST(PublicJwkTest, RefusesPointOfOneCurveClaimedOnAnother) {
  // The P-256 point, zero-padded to P-384 size, is not on P-384.
  const std::string pad(16, '\0');
  auto parsed = PublicJwk::Parse(EcJwk("P-384", B64(absl::StrCat(pad, jose_test::FromB64(kP256X))),
                                       B64(absl::StrCat(pad, jose_test::FromB64(kP256Y)))));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  // And unpadded, it has the wrong length for P-384.
  parsed = PublicJwk::Parse(EcJwk("P-384", kP256X, kP256Y));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("P-384 coordinates must be 48 bytes each"));
}

TEST(PublicJwkTest, RefusesEcCoordinatesOfWrongLength) {
  const std::string x = jose_test::FromB64(kP256X);
  const std::string y = jose_test::FromB64(kP256Y);
  for (const std::string& jwk :
       {EcJwk("P-256", B64(x.substr(1)), kP256Y), EcJwk("P-256", kP256X, B64(y.substr(1))),
        EcJwk("P-256", B64(absl::StrCat(std::string(1, '\0'), x)), kP256Y),
        EcJwk("P-256", kP256X, B64(absl::StrCat(std::string(1, '\0'), y))),
        EcJwk("P-521", kP256X, kP256Y)}) {
    SCOPED_TRACE(jwk);
    auto parsed = PublicJwk::Parse(jwk);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("coordinates must be"));
  }
}

TEST(PublicJwkTest, RefusesEd25519KeyOfWrongLength) {
  for (size_t size : {31u, 33u, 57u}) {
    auto parsed = PublicJwk::Parse(absl::StrCat(R"({"kty":"OKP","crv":"Ed25519","x":")",
                                                B64(std::string(size, '\x01')), "\"}"));
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(parsed.status().message(), HasSubstr("must be 32 bytes"));
  }
}

TEST(PublicJwkTest, RefusesUnsupportedCurves) {
  EXPECT_THAT(PublicJwk::Parse(EcJwk("secp256k1", kP256X, kP256Y)).status().message(),
              HasSubstr("not P-256, P-384 or P-521"));
  EXPECT_THAT(PublicJwk::Parse(R"({"kty":"OKP","crv":"X25519","x":"AQAB"})").status().message(),
              HasSubstr("not Ed25519"));
  EXPECT_THAT(PublicJwk::Parse(R"({"kty":"OKP","crv":"Ed448","x":"AQAB"})").status().message(),
              HasSubstr("not Ed25519"));
}

}  // namespace
}  // namespace writ

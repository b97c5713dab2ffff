#include "writ/jose/jwk.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/jose/jose_test_util.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/jose/signer.h"

namespace writ {
namespace {

using jose_test::B64;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// --- PublicJwk round trips -------------------------------------------------

struct KeyCase {
  const char* name;
  KeySpec spec;
  JwsAlgorithm alg;
  JwkKeyType type;
};

class PublicJwkRoundTripTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(PublicJwkRoundTripTest, ExportParsesBackToTheSameKey) {
  auto key = GenerateKey(GetParam().spec);
  ASSERT_TRUE(key.ok());
  auto jwk = PublicJwk::FromKey(key->get(), GetParam().alg, "key-1");
  ASSERT_TRUE(jwk.ok()) << jwk.status();
  EXPECT_EQ(jwk->key_type(), GetParam().type);
  const std::string json = jwk->ToJson();
  EXPECT_THAT(json, HasSubstr(R"("use":"sig")"));
  EXPECT_THAT(json, HasSubstr(absl::StrCat(R"("alg":")", JwsAlgorithmName(GetParam().alg), "\"")));
  EXPECT_THAT(json, HasSubstr(R"("kid":"key-1")"));

  auto parsed = PublicJwk::Parse(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->ToJson(), json);
  EXPECT_EQ(parsed->kid(), "key-1");
  EXPECT_EQ(parsed->algorithm(), GetParam().alg);
  EXPECT_EQ(parsed->key_type(), GetParam().type);
  EXPECT_EQ(parsed->Thumbprint(), jwk->Thumbprint());
  EXPECT_EQ(EVP_PKEY_eq(parsed->key(), key->get()), 1);
}

TEST_P(PublicJwkRoundTripTest, ExportHoldsNoPrivateMembers) {
  auto key = GenerateKey(GetParam().spec);
  ASSERT_TRUE(key.ok());
  auto jwk = PublicJwk::FromKey(key->get(), GetParam().alg);
  ASSERT_TRUE(jwk.ok());
  for (absl::string_view member : {"\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"dq\"", "\"qi\""}) {
    EXPECT_THAT(jwk->ToJson(), ::testing::Not(HasSubstr(member)));
  }
}

TEST_P(PublicJwkRoundTripTest, EmptyKidBecomesThumbprint) {
  auto key = GenerateKey(GetParam().spec);
  ASSERT_TRUE(key.ok());
  auto jwk = PublicJwk::FromKey(key->get(), GetParam().alg);
  ASSERT_TRUE(jwk.ok());
  EXPECT_EQ(jwk->kid(), jwk->Thumbprint());
  EXPECT_EQ(jwk->kid().size(), 43u);
}

INSTANTIATE_TEST_SUITE_P(
    AllKeyTypes, PublicJwkRoundTripTest,
    ::testing::Values(KeyCase{"Rsa", KeySpec::kRsa2048, JwsAlgorithm::kRs256, JwkKeyType::kRsa},
                      KeyCase{"RsaPss", KeySpec::kRsa3072, JwsAlgorithm::kPs512, JwkKeyType::kRsa},
                      KeyCase{"P256", KeySpec::kEcP256, JwsAlgorithm::kEs256, JwkKeyType::kEc},
                      KeyCase{"P384", KeySpec::kEcP384, JwsAlgorithm::kEs384, JwkKeyType::kEc},
                      KeyCase{"P521", KeySpec::kEcP521, JwsAlgorithm::kEs512, JwkKeyType::kEc},
                      KeyCase{"Ed25519", KeySpec::kEd25519, JwsAlgorithm::kEdDsa,
                              JwkKeyType::kOkp}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PublicJwkTest, EcCoordinatesArePaddedToCurveSize) {
  // About 1 in 256 P-256 keys has an x or y with a leading zero byte; the JWK
  // must still carry all 32 bytes (RFC 7518 section 6.2.1.2).
  int padded = 0;
  for (int i = 0; i < 2000 && padded == 0; ++i) {
    auto key = GenerateKey(KeySpec::kEcP256);
    ASSERT_TRUE(key.ok());
    auto jwk = PublicJwk::FromKey(key->get(), JwsAlgorithm::kEs256);
    ASSERT_TRUE(jwk.ok());
    const std::string x = jose_test::BnParam(key->get(), "qx");
    const std::string y = jose_test::BnParam(key->get(), "qy");
    if (x.size() == 32 && y.size() == 32) continue;
    ++padded;
    auto parsed = PublicJwk::Parse(jwk->ToJson());
    ASSERT_TRUE(parsed.ok()) << parsed.status() << " " << jwk->ToJson();
    EXPECT_EQ(parsed->Thumbprint(), jwk->Thumbprint());
  }
  EXPECT_EQ(padded, 1);
}

TEST(PublicJwkTest, KidWithQuoteRoundTrips) {
  auto key = GenerateKey(KeySpec::kEd25519);
  ASSERT_TRUE(key.ok());
  auto jwk = PublicJwk::FromKey(key->get(), JwsAlgorithm::kEdDsa, R"(a"b)");
  ASSERT_TRUE(jwk.ok()) << jwk.status();
  EXPECT_THAT(jwk->ToJson(), HasSubstr(R"("kid":"a\"b")"));
  auto parsed = PublicJwk::Parse(jwk->ToJson());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->kid(), R"(a"b)");
}

TEST(PublicJwkTest, FromKeyRefusesKeyThatDoesNotFitAlgorithm) {
  auto ec = GenerateKey(KeySpec::kEcP256);
  ASSERT_TRUE(ec.ok());
  for (JwsAlgorithm alg : {JwsAlgorithm::kEs384, JwsAlgorithm::kRs256, JwsAlgorithm::kEdDsa}) {
    auto jwk = PublicJwk::FromKey(ec->get(), alg);
    ASSERT_FALSE(jwk.ok());
    EXPECT_EQ(jwk.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(PublicJwk::FromKey(nullptr, JwsAlgorithm::kEs256).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PublicJwkTest, FromKeyRefusesBadKid) {
  auto key = GenerateKey(KeySpec::kEcP256);
  ASSERT_TRUE(key.ok());
  auto jwk = PublicJwk::FromKey(key->get(), JwsAlgorithm::kEs256, "../keys/evil");
  ASSERT_FALSE(jwk.ok());
  EXPECT_THAT(jwk.status().message(), HasSubstr("looks like a path"));
}

// --- PublicJwk::Parse: algorithm binding -----------------------------------

const PrivateKeySigner& RsaSigner() {
  return jose_test::CachedSigner(KeySpec::kRsa2048, JwsAlgorithm::kRs256, "rsa");
}

// RsaJwk is RsaSigner's public key as JSON with `extra` members appended.
std::string RsaJwk(absl::string_view extra = "") {
  std::string json = jose_test::RsaJwkJson(RsaSigner().public_jwk().key(), "rsa");
  json.insert(json.size() - 1, std::string(extra));
  return json;
}

TEST(PublicJwkTest, RsaJwkWithoutAlgBindsToDefaultAlgorithm) {
  auto jwk = PublicJwk::Parse(RsaJwk());
  ASSERT_TRUE(jwk.ok()) << jwk.status();
  EXPECT_EQ(jwk->algorithm(), JwsAlgorithm::kRs256);
  for (JwsAlgorithm alg : {JwsAlgorithm::kRs384, JwsAlgorithm::kPs256, JwsAlgorithm::kPs512}) {
    JwkParseOptions options;
    options.rsa_default_algorithm = alg;
    auto bound = PublicJwk::Parse(RsaJwk(), options);
    ASSERT_TRUE(bound.ok()) << bound.status();
    EXPECT_EQ(bound->algorithm(), alg);
  }
}

TEST(PublicJwkTest, AlgMemberOverridesDefault) {
  JwkParseOptions options;
  options.rsa_default_algorithm = JwsAlgorithm::kPs256;
  auto jwk = PublicJwk::Parse(RsaJwk(R"(,"alg":"RS512")"), options);
  ASSERT_TRUE(jwk.ok()) << jwk.status();
  EXPECT_EQ(jwk->algorithm(), JwsAlgorithm::kRs512);
}

TEST(PublicJwkTest, BoundKeyVerifiesOnlyItsAlgorithm) {
  auto jwk = PublicJwk::Parse(RsaJwk());
  ASSERT_TRUE(jwk.ok());
  auto signature = RsaSigner().Sign("data");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(jwk->Verify(JwsAlgorithm::kRs256, "data", *signature).ok());
  const absl::Status status = jwk->Verify(JwsAlgorithm::kPs256, "data", *signature);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("does not match the key's algorithm RS256"));
}

TEST(PublicJwkTest, RefusesAlgThatDoesNotFitKey) {
  for (absl::string_view alg : {"ES256", "EdDSA"}) {
    auto jwk = PublicJwk::Parse(RsaJwk(absl::StrCat(R"(,"alg":")", alg, "\"")));
    ASSERT_FALSE(jwk.ok()) << alg;
    EXPECT_EQ(jwk.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(jwk.status().message(), HasSubstr("needs an"));
  }
  auto ec = PublicJwk::Parse(R"({"kty":"EC","crv":"P-256","alg":"ES384",)"
                             R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                             R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})");
  ASSERT_FALSE(ec.ok());
  EXPECT_THAT(ec.status().message(), HasSubstr("ES384 needs an EC P-384 key, not EC P-256"));
}

TEST(PublicJwkTest, RefusesUnsupportedAlg) {
  for (absl::string_view alg : {"HS256", "none", "RSA-OAEP", "ES256K", "rs256"}) {
    auto jwk = PublicJwk::Parse(RsaJwk(absl::StrCat(R"(,"alg":")", alg, "\"")));
    ASSERT_FALSE(jwk.ok()) << alg;
    EXPECT_EQ(jwk.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(PublicJwk::Parse(RsaJwk(R"(,"alg":256)")).status().message(),
              HasSubstr("\"alg\" is not a string"));
}

// --- PublicJwk::Parse: what it refuses -------------------------------------

TEST(PublicJwkTest, RefusesUseOtherThanSig) {
  for (absl::string_view use : {R"("enc")", R"("SIG")", R"("")", "1", "null"}) {
    auto jwk = PublicJwk::Parse(RsaJwk(absl::StrCat(R"(,"use":)", use)));
    ASSERT_FALSE(jwk.ok()) << use;
    EXPECT_THAT(jwk.status().message(), HasSubstr("\"use\" is not \"sig\""));
  }
  EXPECT_TRUE(PublicJwk::Parse(RsaJwk(R"(,"use":"sig")")).ok());
}

TEST(PublicJwkTest, KeyOpsMustIncludeVerify) {
  EXPECT_TRUE(PublicJwk::Parse(RsaJwk(R"(,"key_ops":["verify"])")).ok());
  EXPECT_TRUE(PublicJwk::Parse(RsaJwk(R"(,"key_ops":["encrypt","verify"])")).ok());
  for (absl::string_view ops : {R"(["encrypt"])", "[]", R"("verify")", "[1]"}) {
    auto jwk = PublicJwk::Parse(RsaJwk(absl::StrCat(R"(,"key_ops":)", ops)));
    ASSERT_FALSE(jwk.ok()) << ops;
    EXPECT_THAT(jwk.status().message(), HasSubstr("\"key_ops\" does not include \"verify\""));
  }
}

TEST(PublicJwkTest, RefusesMissingOrUnknownKty) {
  EXPECT_THAT(PublicJwk::Parse(R"({"n":"AQAB","e":"AQAB"})").status().message(),
              HasSubstr("\"kty\" is missing or not a string"));
  EXPECT_THAT(PublicJwk::Parse(R"({"kty":1})").status().message(),
              HasSubstr("\"kty\" is missing or not a string"));
  EXPECT_THAT(PublicJwk::Parse(R"({"kty":"rsa","n":"AQAB","e":"AQAB"})").status().message(),
              HasSubstr("kty \"rsa\" is not supported"));
}

TEST(PublicJwkTest, MessageNeverEchoesControlBytes) {
  auto jwk = PublicJwk::Parse(R"({"kty":"R\nS\u001bA\u0000"})");
  ASSERT_FALSE(jwk.ok());
  EXPECT_THAT(std::string(jwk.status().message()), HasSubstr("kty \"R?S?A?\" is not supported"));
}

TEST(PublicJwkTest, RefusesMissingOrMalformedKeyMembers) {
  const std::string n = B64(jose_test::BnParam(RsaSigner().public_jwk().key(), "n"));
  EXPECT_THAT(PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, "\"}")).status().message(),
              HasSubstr("\"e\" is missing"));
  EXPECT_THAT(PublicJwk::Parse(R"({"kty":"RSA","e":"AQAB"})").status().message(),
              HasSubstr("\"n\" is missing"));
  EXPECT_THAT(
      PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, R"(","e":""})")).status().message(),
      HasSubstr("\"e\" is empty"));
  EXPECT_THAT(PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, R"(","e":"AQ=="})"))
                  .status()
                  .message(),
              HasSubstr("JWK member \"e\": base64url: padding"));
  EXPECT_THAT(PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, R"(","e":65537})"))
                  .status()
                  .message(),
              HasSubstr("\"e\" is missing or not a string"));
}

TEST(PublicJwkTest, RefusesRsaModulusWithLeadingZero) {
  const std::string n = jose_test::BnParam(RsaSigner().public_jwk().key(), "n");
  auto jwk = PublicJwk::Parse(absl::StrCat(
      R"({"kty":"RSA","n":")", B64(absl::StrCat(std::string(1, '\0'), n)), R"(","e":"AQAB"})"));
  ASSERT_FALSE(jwk.ok());
  EXPECT_THAT(jwk.status().message(), HasSubstr("leading zero octet"));
}

TEST(PublicJwkTest, RefusesEvenOrUnitExponent) {
  const std::string n = B64(jose_test::BnParam(RsaSigner().public_jwk().key(), "n"));
  for (absl::string_view e : {"AQ" /* 1 */, "Ag" /* 2 */, "AQAA" /* 65536 */}) {
    auto jwk = PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, R"(","e":")", e, "\"}"));
    ASSERT_FALSE(jwk.ok()) << e;
    EXPECT_THAT(jwk.status().message(), HasSubstr("must be odd and greater than 1"));
  }
}

TEST(PublicJwkTest, RefusesRsaExponentOver32Bits) {
  // A 3072-bit exponent makes each verification ~150 times slower.
  const std::string n = B64(jose_test::BnParam(RsaSigner().public_jwk().key(), "n"));
  for (absl::string_view e : {"AQAAAAE" /* 2^32 + 1 */, "_____wE" /* 2^40 - 255 */}) {
    auto jwk = PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, R"(","e":")", e, "\"}"));
    ASSERT_FALSE(jwk.ok()) << e;
    EXPECT_EQ(jwk.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(jwk.status().message()), HasSubstr("\"e\" is longer than 32 bits"));
  }
  std::string huge(256, '\xff');
  EXPECT_FALSE(
      PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, R"(","e":")", B64(huge), "\"}"))
          .ok());
  // 2^32 - 1 is fine.
  EXPECT_TRUE(
      PublicJwk::Parse(absl::StrCat(R"({"kty":"RSA","n":")", n, R"(","e":"_____w"})")).ok());
}

TEST(PublicJwkTest, RefusesMalformedJson) {
  const std::string good = RsaJwk();
  EXPECT_THAT(PublicJwk::Parse(good.substr(0, good.size() - 1)).status().message(),
              HasSubstr("JWK is not valid JSON"));
  EXPECT_THAT(PublicJwk::Parse(absl::StrCat(good, "x")).status().message(),
              HasSubstr("JWK is not valid JSON"));
  EXPECT_THAT(PublicJwk::Parse(RsaJwk(R"(,"kty":"EC")")).status().message(),
              HasSubstr("duplicate member \"kty\""));
  EXPECT_THAT(PublicJwk::Parse("[]").status().message(), HasSubstr("not a JSON object"));
}

TEST(PublicJwkTest, IgnoresUnknownMembers) {
  EXPECT_TRUE(PublicJwk::Parse(RsaJwk(R"(,"x5t":"x","x5c":["y"],"ext":{"a":[1]})")).ok());
}

TEST(PublicJwkTest, RefusesBadKid) {
  auto jwk = PublicJwk::Parse(absl::StrCat(R"({"kty":"OKP","crv":"Ed25519","kid":"../k","x":")",
                                           B64(std::string(32, 'x')), "\"}"));
  ASSERT_FALSE(jwk.ok());
  EXPECT_THAT(jwk.status().message(), HasSubstr("looks like a path"));
  EXPECT_THAT(
      PublicJwk::Parse(R"({"kty":"OKP","crv":"Ed25519","kid":7,"x":"AQAB"})").status().message(),
      HasSubstr("\"kid\" is not a string"));
}

TEST(PublicJwkTest, RefusesDocumentOverMaxBytes) {
  const std::string json = RsaJwk();
  JwkParseOptions options;
  options.max_document_bytes = json.size();
  EXPECT_TRUE(PublicJwk::Parse(json, options).ok());
  options.max_document_bytes = json.size() - 1;
  EXPECT_THAT(PublicJwk::Parse(json, options).status().message(), HasSubstr("too large"));
}

// --- JwkSet ----------------------------------------------------------------

const PrivateKeySigner& EcSigner() {
  return jose_test::CachedSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "ec");
}
const PrivateKeySigner& EdSigner() {
  return jose_test::CachedSigner(KeySpec::kEd25519, JwsAlgorithm::kEdDsa, "ed");
}

std::string Jwks(const std::vector<std::string>& keys) {
  return absl::StrCat(R"({"keys":[)", absl::StrJoin(keys, ","), "]}");
}

TEST(JwkSetTest, ParsesKeysOfEveryType) {
  auto set =
      JwkSet::Parse(Jwks({RsaSigner().public_jwk().ToJson(), EcSigner().public_jwk().ToJson(),
                          EdSigner().public_jwk().ToJson()}));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys().size(), 3u);
  EXPECT_THAT(set->skipped(), IsEmpty());
  ASSERT_NE(set->Find("ec"), nullptr);
  EXPECT_EQ(set->Find("ec")->algorithm(), JwsAlgorithm::kEs256);
  EXPECT_EQ(set->Find("ed")->key_type(), JwkKeyType::kOkp);
  EXPECT_EQ(set->Find("rsa")->key_type(), JwkKeyType::kRsa);
  EXPECT_EQ(set->Find("nope"), nullptr);
  EXPECT_EQ(set->Find(""), nullptr);
}

TEST(JwkSetTest, ToJsonParsesBack) {
  auto set = JwkSet::FromKeys({EcSigner().public_jwk(), EdSigner().public_jwk()});
  ASSERT_TRUE(set.ok());
  auto again = JwkSet::Parse(set->ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ToJson(), set->ToJson());
  EXPECT_EQ(JwkSet().ToJson(), R"({"keys":[]})");
}

TEST(JwkSetTest, SkipsUseEncKeyWithReason) {
  const std::string pub = EcSigner().public_jwk().ToJson();
  // ToJson writes "use":"sig"; publish the same key for encryption instead.
  std::string enc = pub;
  enc.replace(enc.find(R"("use":"sig")"), 11, R"("use":"enc")");
  auto set = JwkSet::Parse(Jwks({enc, EdSigner().public_jwk().ToJson()}));
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid(), "ed");
  EXPECT_EQ(set->Find("ec"), nullptr);
  ASSERT_EQ(set->skipped().size(), 1u);
  EXPECT_EQ(set->skipped()[0], "key 0: JWK \"use\" is not \"sig\"");
}

TEST(JwkSetTest, SkipsUnusableKeysAndKeepsTheRest) {
  auto set = JwkSet::Parse(
      Jwks({R"({"kty":"XYZ","kid":"future"})", "1", R"("key")",
            R"({"kty":"EC","crv":"P-256","kid":"half"})", EcSigner().public_jwk().ToJson()}));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys().size(), 1u);
  ASSERT_EQ(set->skipped().size(), 4u);
  EXPECT_THAT(set->skipped()[0], HasSubstr("key 0: JWK kty \"XYZ\" is not supported"));
  EXPECT_THAT(set->skipped()[1], HasSubstr("key 1: JWK is not a JSON object"));
  EXPECT_THAT(set->skipped()[2], HasSubstr("key 2: JWK is not a JSON object"));
  EXPECT_THAT(set->skipped()[3], HasSubstr("key 3: JWK member \"x\" is missing"));
}

TEST(JwkSetTest, EmptySetParses) {
  auto set = JwkSet::Parse(R"({"keys":[]})");
  ASSERT_TRUE(set.ok());
  EXPECT_THAT(set->keys(), IsEmpty());
}

TEST(JwkSetTest, RefusesDocumentWithoutKeysArray) {
  for (absl::string_view json : {"{}", R"({"keys":{}})", R"({"keys":null})", R"({"Keys":[]})"}) {
    auto set = JwkSet::Parse(json);
    ASSERT_FALSE(set.ok()) << json;
    EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(set.status().message(), HasSubstr("no \"keys\" array"));
  }
}

TEST(JwkSetTest, RefusesMalformedDocument) {
  EXPECT_THAT(JwkSet::Parse(R"({"keys":[]} {})").status().message(),
              HasSubstr("JWK Set is not valid JSON"));
  EXPECT_THAT(JwkSet::Parse(R"({"keys":[],"keys":[]})").status().message(),
              HasSubstr("duplicate member \"keys\""));
  // A duplicate inside one key poisons the whole document: it is not valid.
  const std::string pub = EcSigner().public_jwk().ToJson();
  EXPECT_THAT(
      JwkSet::Parse(Jwks({absl::StrCat(pub.substr(0, pub.size() - 1), R"(,"kid":"other"})")}))
          .status()
          .message(),
      HasSubstr("duplicate member \"kid\""));
}

TEST(JwkSetTest, RefusesDuplicateKid) {
  auto other = jose_test::NewSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "ec");
  auto set = JwkSet::Parse(Jwks({EcSigner().public_jwk().ToJson(), other->public_jwk().ToJson()}));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(), HasSubstr("two keys with kid \"ec\""));

  auto from_keys = JwkSet::FromKeys({EcSigner().public_jwk(), other->public_jwk()});
  ASSERT_FALSE(from_keys.ok());
  EXPECT_THAT(from_keys.status().message(), HasSubstr("two keys with kid \"ec\""));
}

TEST(JwkSetTest, DuplicateKidOfSkippedKeyIsNotAnError) {
  std::string enc = EdSigner().public_jwk().ToJson();
  enc.replace(enc.find(R"("use":"sig")"), 11, R"("use":"enc")");
  enc.replace(enc.find(R"("kid":"ed")"), 10, R"("kid":"ec")");
  auto set = JwkSet::Parse(Jwks({EcSigner().public_jwk().ToJson(), enc}));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->skipped().size(), 1u);
}

TEST(JwkSetTest, AllowsSeveralKeysWithoutKid) {
  auto a = PublicJwk::Parse(
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  ASSERT_TRUE(a.ok());
  auto set = JwkSet::Parse(Jwks({a->ToJson(), a->ToJson()}));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys().size(), 2u);
}

TEST(JwkSetTest, FindWithEmptyKidFindsNothing) {
  auto a = PublicJwk::Parse(
      R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->kid(), "");
  auto set = JwkSet::FromKeys({*a});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->Find(""), nullptr);
}

TEST(JwkSetTest, EnforcesMaxKeys) {
  const std::string key = EcSigner().public_jwk().ToJson();
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) {
    std::string k = key;
    k.replace(k.find(R"("kid":"ec")"), 10, absl::StrCat(R"("kid":"ec)", i, "\""));
    keys.push_back(k);
  }
  JwkParseOptions options;
  options.max_keys = 3;
  EXPECT_TRUE(JwkSet::Parse(Jwks(keys), options).ok());
  options.max_keys = 2;
  auto set = JwkSet::Parse(Jwks(keys), options);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(), HasSubstr("has 3 keys; at most 2 are accepted"));
}

TEST(JwkSetTest, DefaultMaxKeysIs64) {
  std::vector<std::string> keys(65, R"({"kty":"XYZ"})");
  EXPECT_THAT(JwkSet::Parse(Jwks(keys)).status().message(), HasSubstr("at most 64"));
  keys.pop_back();
  auto set = JwkSet::Parse(Jwks(keys));
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->skipped().size(), 64u);
}

TEST(JwkSetTest, EnforcesMaxDocumentBytes) {
  const std::string json = Jwks({EcSigner().public_jwk().ToJson()});
  JwkParseOptions options;
  options.max_document_bytes = json.size();
  EXPECT_TRUE(JwkSet::Parse(json, options).ok());
  options.max_document_bytes = json.size() - 1;
  auto set = JwkSet::Parse(json, options);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(set.status().message(),
              HasSubstr(absl::StrCat("larger than ", json.size() - 1, " bytes")));
}

TEST(JwkSetTest, DefaultMaxDocumentBytesIs256KiB) {
  const std::string padding(256 * 1024, ' ');
  EXPECT_THAT(JwkSet::Parse(absl::StrCat(R"({"keys":[]})", padding)).status().message(),
              HasSubstr("larger than 262144 bytes"));
  EXPECT_TRUE(JwkSet::Parse(absl::StrCat(R"({"keys":[]})", padding.substr(11))).ok());
}

// A JWKS shaped like https://token.actions.githubusercontent.com/.well-known/jwks:
// several RSA keys, each with "x5c" and "x5t" members Writ does not use.
class GitHubActionsJwksTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* kid :
         {"38826b17-6a30-5f9b-b169-8beb8202f723", "1F2AB83404C08EC9EA0BB99DAED02186B091DBF4",
          "cc413527-173f-5a05-976e-9c52b1d7b431"}) {
      signers_->push_back(jose_test::NewSigner(KeySpec::kRsa2048, JwsAlgorithm::kRs256, kid));
    }
  }
  static std::string Document() {
    std::vector<std::string> keys;
    for (const auto& signer : *signers_) {
      const EVP_PKEY* key = signer->public_jwk().key();
      keys.push_back(absl::StrCat(
          R"({"n":")", B64(jose_test::BnParam(key, "n")), R"(","kty":"RSA","kid":")", signer->kid(),
          R"(","alg":"RS256","e":")", B64(jose_test::BnParam(key, "e")),
          R"(","use":"sig","x5c":["MIIDrDCCApSgAwIBAgIQBJyxrlvmXh2Z+NQCuiYcnTANBgkqhkiG9w0BAQsF"],)"
          R"("x5t":"ykNaY4qM_ta4k2TgZOCEYLkcYlA"})"));
    }
    return absl::StrCat("{\n  \"keys\": [\n    ", absl::StrJoin(keys, ",\n    "), "\n  ]\n}\n");
  }
  static std::vector<std::unique_ptr<PrivateKeySigner>>* signers_;
};
std::vector<std::unique_ptr<PrivateKeySigner>>* GitHubActionsJwksTest::signers_ =
    new std::vector<std::unique_ptr<PrivateKeySigner>>();

TEST_F(GitHubActionsJwksTest, ParsesEveryKey) {
  auto set = JwkSet::Parse(Document());
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys().size(), 3u);
  EXPECT_THAT(set->skipped(), IsEmpty());
  for (const auto& signer : *signers_) {
    const PublicJwk* key = set->Find(signer->kid());
    ASSERT_NE(key, nullptr) << signer->kid();
    EXPECT_EQ(key->algorithm(), JwsAlgorithm::kRs256);
    EXPECT_EQ(key->Thumbprint(), signer->public_jwk().Thumbprint());
  }
}

TEST_F(GitHubActionsJwksTest, EachKeyVerifiesItsOwnTokens) {
  auto set = JwkSet::Parse(Document());
  ASSERT_TRUE(set.ok());
  for (const auto& signer : *signers_) {
    auto token = SignCompactJws(*signer, "JWT", R"({"sub":"repo:octo/hello:ref:refs/heads/main"})");
    ASSERT_TRUE(token.ok());
    auto jws = ParseCompactJws(*token);
    ASSERT_TRUE(jws.ok()) << jws.status();
    EXPECT_TRUE(VerifyJws(*jws, *set).ok()) << signer->kid();
  }
}

TEST_F(GitHubActionsJwksTest, TokenNamingAnotherKeysKidFails) {
  auto set = JwkSet::Parse(Document());
  ASSERT_TRUE(set.ok());
  const std::string header =
      absl::StrCat(R"({"alg":"RS256","typ":"JWT","kid":")", (*signers_)[0]->kid(), "\"}");
  auto jws = ParseCompactJws(jose_test::SignToken(*(*signers_)[1], header, "{}"));
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(VerifyJws(*jws, *set).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(GitHubActionsJwksTest, RotatedOutKidIsNotFound) {
  auto set = JwkSet::Parse(Document());
  ASSERT_TRUE(set.ok());
  auto rotated = jose_test::NewSigner(KeySpec::kRsa2048, JwsAlgorithm::kRs256, "retired-key");
  auto token = SignCompactJws(*rotated, "JWT", "{}");
  ASSERT_TRUE(token.ok());
  auto jws = ParseCompactJws(*token);
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(VerifyJws(*jws, *set).code(), absl::StatusCode::kNotFound);
}

TEST(JwkSetTest, EntraStyleKeysWithoutAlgBindToDefault) {
  // Entra ID publishes RSA keys with neither "alg" nor "use" in some sets.
  const std::string json = Jwks({jose_test::RsaJwkJson(RsaSigner().public_jwk().key(), "entra")});
  auto set = JwkSet::Parse(json);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->Find("entra")->algorithm(), JwsAlgorithm::kRs256);
  JwkParseOptions options;
  options.rsa_default_algorithm = JwsAlgorithm::kPs256;
  set = JwkSet::Parse(json, options);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->Find("entra")->algorithm(), JwsAlgorithm::kPs256);
}

TEST(JwkSetTest, CopiesShareKeys) {
  JwkSet copy;
  {
    auto set = JwkSet::Parse(Jwks({EcSigner().public_jwk().ToJson()}));
    ASSERT_TRUE(set.ok());
    copy = *set;
  }
  ASSERT_NE(copy.Find("ec"), nullptr);
  auto signature = EcSigner().Sign("x");
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(copy.Find("ec")->Verify(JwsAlgorithm::kEs256, "x", *signature).ok());
}

}  // namespace
}  // namespace writ

// Published test vectors: RFC 7515 appendix A, RFC 7520 sections 3 and 4,
// RFC 8037 appendix A and RFC 7638 section 3.1. Every value is typed in from
// the RFC; a vector that does not verify is a typo until proven otherwise.
#include <openssl/evp.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/jose/jose_test_util.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/jose/signer.h"

namespace writ {
namespace {

using jose_test::B64;
using jose_test::FromB64;
using jose_test::ReadTestData;
using jose_test::SetOf;
using ::testing::HasSubstr;

// RFC 7515 A.2 and A.3 sign this payload; note the CR LF pairs.
constexpr absl::string_view kRfc7515Payload =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

// RFC 7515 A.2.1: the RSA key (public members only).
constexpr absl::string_view kRfc7515A2Jwk =
    R"({"kty":"RSA",)"
    R"("n":")"
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4"
    "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5re"
    "xMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxX"
    "FvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
    R"(",)"
    R"("e":"AQAB"})";

// RFC 7515 A.2.1: the complete JWS.
constexpr absl::string_view kRfc7515A2Jws =
    "eyJhbGciOiJSUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujG"
    "bds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6"
    "LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

// RFC 7515 A.3.1: the P-256 key (public members only).
constexpr absl::string_view kRfc7515A3Jwk = R"({"kty":"EC","crv":"P-256",)"
                                            R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                                            R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";

// RFC 7515 A.3.1: the complete JWS.
constexpr absl::string_view kRfc7515A3Jws =
    "eyJhbGciOiJFUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 7515 A.4.1: the P-521 key (public members only) and JWS.
constexpr absl::string_view kRfc7515A4Jwk =
    "{\"kty\":\"EC\",\"crv\":\"P-521\","
    "\"x\":\"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_"
    "NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk\","
    "\"y\":\"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-"
    "x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2\"}";
constexpr absl::string_view kRfc7515A4Jws =
    "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA."
    "AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_"
    "7XdtAG8GaSwF"
    "KdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

// RFC 7515 A.1.1 (HS256) and A.5 (unsecured): Writ must refuse both.
constexpr absl::string_view kRfc7515A1Jws =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr absl::string_view kRfc7515A5Jws =
    "eyJhbGciOiJub25lIn0"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".";

// RFC 7520 section 4: every JWS example signs this (non-JSON) text.
constexpr absl::string_view kRfc7520Payload =
    "It\xe2\x80\x99s a dangerous business, Frodo, going out your door. You step onto the road, and "
    "if you don't keep your feet, there\xe2\x80\x99s no knowing where you might be swept off to.";
constexpr absl::string_view kRfc7520Kid = "bilbo.baggins@hobbiton.example";

// RFC 7520 section 4.4 (HS256 with the figure 5 key): refused.
constexpr absl::string_view kRfc7520Section44Jws =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9"
    "."
    "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250by"
    "B0"
    "aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW"
    "91"
    "IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"
    ".s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";

// RFC 8037 appendix A.
constexpr absl::string_view kRfc8037PrivateD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr absl::string_view kRfc8037PublicX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr absl::string_view kRfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
constexpr absl::string_view kRfc8037SigningInput =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
constexpr absl::string_view kRfc8037Signature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// RFC 7638 section 3.1.
constexpr absl::string_view kRfc7638N =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRX"
    "jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaS"
    "qzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
    "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksIN"
    "HaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
constexpr absl::string_view kRfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

PublicJwk MustParseJwk(absl::string_view json, const JwkParseOptions& options = {}) {
  auto jwk = PublicJwk::Parse(json, options);
  EXPECT_TRUE(jwk.ok()) << jwk.status();
  if (!jwk.ok()) std::abort();
  return *std::move(jwk);
}

ParsedJws MustParseJws(absl::string_view token) {
  auto jws = ParseCompactJws(token);
  EXPECT_TRUE(jws.ok()) << jws.status();
  if (!jws.ok()) std::abort();
  return *std::move(jws);
}

std::string ReadToken(absl::string_view name) {
  return std::string(absl::StripAsciiWhitespace(ReadTestData(name)));
}

// The RFC 8037 A.1 private key as an OpenSSL key.
SslPtr<EVP_PKEY> Rfc8037PrivateKey() {
  const std::string d = FromB64(kRfc8037PrivateD);
  return SslPtr<EVP_PKEY>(EVP_PKEY_new_raw_private_key_ex(
      nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(d.data()), d.size()));
}

// --- RFC 7515 appendix A ---------------------------------------------------

TEST(Rfc7515Test, AppendixA2Rs256Verifies) {
  const PublicJwk key = MustParseJwk(kRfc7515A2Jwk);
  EXPECT_EQ(key.algorithm(), JwsAlgorithm::kRs256);
  EXPECT_EQ(EVP_PKEY_get_bits(key.key()), 2048);
  const ParsedJws jws = MustParseJws(kRfc7515A2Jws);
  EXPECT_EQ(jws.algorithm(), JwsAlgorithm::kRs256);
  EXPECT_EQ(jws.header_json(), R"({"alg":"RS256"})");
  EXPECT_EQ(jws.payload(), kRfc7515Payload);
  EXPECT_EQ(jws.kid(), "");
  EXPECT_EQ(jws.signature().size(), 256u);
  EXPECT_EQ(jws.signing_input(), kRfc7515A2Jws.substr(0, kRfc7515A2Jws.rfind('.')));
  EXPECT_TRUE(key.Verify(JwsAlgorithm::kRs256, jws.signing_input(), jws.signature()).ok());
  // No kid: VerifyJws tries the keys bound to RS256.
  EXPECT_TRUE(VerifyJws(jws, SetOf({key})).ok());
}

TEST(Rfc7515Test, AppendixA2FailsWhenOneSignatureBitFlips) {
  const PublicJwk key = MustParseJwk(kRfc7515A2Jwk);
  const ParsedJws jws = MustParseJws(kRfc7515A2Jws);
  std::string signature = jws.signature();
  signature[100] ^= 0x01;
  const absl::Status status = key.Verify(JwsAlgorithm::kRs256, jws.signing_input(), signature);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("does not verify"));
}

TEST(Rfc7515Test, AppendixA2FailsWhenPayloadChanges) {
  const std::string token =
      absl::StrCat("eyJhbGciOiJSUzI1NiJ9.", B64(R"({"iss":"joe","exp":1300819380,"admin":true})"),
                   kRfc7515A2Jws.substr(kRfc7515A2Jws.rfind('.')));
  const ParsedJws jws = MustParseJws(token);
  const absl::Status status = VerifyJws(jws, SetOf({MustParseJwk(kRfc7515A2Jwk)}));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
}

TEST(Rfc7515Test, AppendixA3Es256Verifies) {
  const PublicJwk key = MustParseJwk(kRfc7515A3Jwk);
  EXPECT_EQ(key.algorithm(), JwsAlgorithm::kEs256);
  EXPECT_EQ(key.key_type(), JwkKeyType::kEc);
  const ParsedJws jws = MustParseJws(kRfc7515A3Jws);
  EXPECT_EQ(jws.algorithm(), JwsAlgorithm::kEs256);
  EXPECT_EQ(jws.payload(), kRfc7515Payload);
  EXPECT_EQ(jws.signature().size(), 64u);
  EXPECT_TRUE(VerifyJws(jws, SetOf({key})).ok());
}

TEST(Rfc7515Test, AppendixA3FailsUnderAnotherP256Key) {
  const ParsedJws jws = MustParseJws(kRfc7515A3Jws);
  auto other = jose_test::NewSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "other");
  const absl::Status status = VerifyJws(jws, SetOf({other->public_jwk()}));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("no key verifies"));
}

TEST(Rfc7515Test, AppendixA4Es512Verifies) {
  const PublicJwk key = MustParseJwk(kRfc7515A4Jwk);
  EXPECT_EQ(key.algorithm(), JwsAlgorithm::kEs512);
  const ParsedJws jws = MustParseJws(kRfc7515A4Jws);
  EXPECT_EQ(jws.payload(), "Payload");
  EXPECT_EQ(jws.signature().size(), 132u);
  EXPECT_TRUE(VerifyJws(jws, SetOf({key})).ok());
}

TEST(Rfc7515Test, AppendixA1Hs256IsRefused) {
  auto jws = ParseCompactJws(kRfc7515A1Jws);
  ASSERT_FALSE(jws.ok());
  EXPECT_EQ(jws.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(jws.status().message(), HasSubstr("HMAC"));
}

TEST(Rfc7515Test, AppendixA5UnsecuredJwsIsRefused) {
  auto jws = ParseCompactJws(kRfc7515A5Jws);
  ASSERT_FALSE(jws.ok());
  EXPECT_EQ(jws.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(jws.status().message(), HasSubstr("unsecured"));
}

// --- RFC 7520 sections 3 and 4 ---------------------------------------------

TEST(Rfc7520Test, Figure3RsaPublicKeyParses) {
  const PublicJwk key = MustParseJwk(ReadTestData("rfc7520-figure3-rsa-public.jwk.json"));
  EXPECT_EQ(key.kid(), kRfc7520Kid);
  EXPECT_EQ(key.key_type(), JwkKeyType::kRsa);
  // No "alg" member: bound to JwkParseOptions::rsa_default_algorithm.
  EXPECT_EQ(key.algorithm(), JwsAlgorithm::kRs256);
  EXPECT_EQ(EVP_PKEY_get_bits(key.key()), 2048);
}

TEST(Rfc7520Test, Section41Rs256Verifies) {
  const ParsedJws jws = MustParseJws(ReadToken("rfc7520-figure13-rs256.jws"));
  EXPECT_EQ(jws.algorithm(), JwsAlgorithm::kRs256);
  EXPECT_EQ(jws.kid(), kRfc7520Kid);
  EXPECT_EQ(jws.payload(), kRfc7520Payload);
  const JwkSet keys = SetOf({MustParseJwk(ReadTestData("rfc7520-figure3-rsa-public.jwk.json"))});
  EXPECT_TRUE(VerifyJws(jws, keys).ok());
}

TEST(Rfc7520Test, Section42Ps384VerifiesWithKeyBoundToPs384) {
  const ParsedJws jws = MustParseJws(ReadToken("rfc7520-figure20-ps384.jws"));
  EXPECT_EQ(jws.algorithm(), JwsAlgorithm::kPs384);
  EXPECT_EQ(jws.payload(), kRfc7520Payload);
  JwkParseOptions options;
  options.rsa_default_algorithm = JwsAlgorithm::kPs384;
  const JwkSet keys =
      SetOf({MustParseJwk(ReadTestData("rfc7520-figure3-rsa-public.jwk.json"), options)});
  EXPECT_TRUE(VerifyJws(jws, keys).ok());
}

TEST(Rfc7520Test, Section42Ps384IsRefusedByTheSameKeyBoundToRs256) {
  const ParsedJws jws = MustParseJws(ReadToken("rfc7520-figure20-ps384.jws"));
  const JwkSet keys = SetOf({MustParseJwk(ReadTestData("rfc7520-figure3-rsa-public.jwk.json"))});
  const absl::Status status = VerifyJws(jws, keys);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("does not match the key's algorithm RS256"));
}

TEST(Rfc7520Test, Section43Es512Verifies) {
  const ParsedJws jws = MustParseJws(ReadToken("rfc7520-figure27-es512.jws"));
  EXPECT_EQ(jws.algorithm(), JwsAlgorithm::kEs512);
  EXPECT_EQ(jws.kid(), kRfc7520Kid);
  EXPECT_EQ(jws.payload(), kRfc7520Payload);
  EXPECT_EQ(jws.signature().size(), 132u);
  const PublicJwk key = MustParseJwk(ReadTestData("rfc7520-figure1-ec-p521-public.jwk.json"));
  EXPECT_EQ(key.algorithm(), JwsAlgorithm::kEs512);
  EXPECT_EQ(key.kid(), kRfc7520Kid);
  EXPECT_TRUE(VerifyJws(jws, SetOf({key})).ok());
}

TEST(Rfc7520Test, Section43Es512FailsWhenPayloadChanges) {
  const std::string token = ReadToken("rfc7520-figure27-es512.jws");
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  const std::string tampered =
      absl::StrCat(token.substr(0, first), ".", B64("It's a safe business"), token.substr(second));
  const ParsedJws jws = MustParseJws(tampered);
  const PublicJwk key = MustParseJwk(ReadTestData("rfc7520-figure1-ec-p521-public.jwk.json"));
  EXPECT_EQ(VerifyJws(jws, SetOf({key})).code(), absl::StatusCode::kUnauthenticated);
}

TEST(Rfc7520Test, Figure4RsaPrivateKeyIsRefused) {
  auto key =
      PublicJwk::Parse(ReadTestData("rfc7520-figure4-rsa-private-has-private-members.jwk.json"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(key.status().message(), HasSubstr("private"));
}

TEST(Rfc7520Test, Figure2EcPrivateKeyIsRefused) {
  auto key =
      PublicJwk::Parse(ReadTestData("rfc7520-figure2-ec-p521-private-has-private-member.jwk.json"));
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(key.status().message(), HasSubstr("\"d\""));
}

TEST(Rfc7520Test, Figure5SymmetricKeyIsRefused) {
  auto key = PublicJwk::Parse(
      R"({"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256",)"
      R"("k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"})");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Rfc7520Test, Section44Hs256IsRefused) {
  auto jws = ParseCompactJws(kRfc7520Section44Jws);
  ASSERT_FALSE(jws.ok());
  EXPECT_EQ(jws.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(jws.status().message(), HasSubstr("HMAC"));
}

// --- RFC 8037 appendix A ---------------------------------------------------

TEST(Rfc8037Test, AppendixA2PublicKeyParses) {
  const PublicJwk key =
      MustParseJwk(absl::StrCat(R"({"kty":"OKP","crv":"Ed25519","x":")", kRfc8037PublicX, "\"}"));
  EXPECT_EQ(key.key_type(), JwkKeyType::kOkp);
  EXPECT_EQ(key.algorithm(), JwsAlgorithm::kEdDsa);
  EXPECT_EQ(key.kid(), "");
}

TEST(Rfc8037Test, AppendixA3Thumbprint) {
  const PublicJwk key =
      MustParseJwk(absl::StrCat(R"({"kty":"OKP","crv":"Ed25519","x":")", kRfc8037PublicX, "\"}"));
  EXPECT_EQ(key.Thumbprint(), kRfc8037Thumbprint);
}

TEST(Rfc8037Test, AppendixA4Ed25519Verifies) {
  const ParsedJws jws = MustParseJws(absl::StrCat(kRfc8037SigningInput, ".", kRfc8037Signature));
  EXPECT_EQ(jws.algorithm(), JwsAlgorithm::kEdDsa);
  EXPECT_EQ(jws.header_json(), R"({"alg":"EdDSA"})");
  EXPECT_EQ(jws.payload(), "Example of Ed25519 signing");
  const PublicJwk key =
      MustParseJwk(absl::StrCat(R"({"kty":"OKP","crv":"Ed25519","x":")", kRfc8037PublicX, "\"}"));
  EXPECT_TRUE(VerifyJws(jws, SetOf({key})).ok());
}

TEST(Rfc8037Test, AppendixA4FailsWhenSigningInputChanges) {
  const PublicJwk key =
      MustParseJwk(absl::StrCat(R"({"kty":"OKP","crv":"Ed25519","x":")", kRfc8037PublicX, "\"}"));
  const absl::Status status = key.Verify(
      JwsAlgorithm::kEdDsa, absl::StrCat(kRfc8037SigningInput, "x"), FromB64(kRfc8037Signature));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
}

TEST(Rfc8037Test, PrivateKeyOfAppendixA1HasPublicKeyOfAppendixA2) {
  SslPtr<EVP_PKEY> key = Rfc8037PrivateKey();
  ASSERT_NE(key, nullptr);
  auto signer = PrivateKeySigner::New(std::move(key), JwsAlgorithm::kEdDsa);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_THAT((*signer)->public_jwk().ToJson(),
              HasSubstr(absl::StrCat("\"x\":\"", kRfc8037PublicX, "\"")));
  // An empty kid becomes the RFC 7638 thumbprint, which A.3 gives.
  EXPECT_EQ((*signer)->kid(), kRfc8037Thumbprint);
}

TEST(Rfc8037Test, SigningReproducesAppendixA4SignatureExactly) {
  SslPtr<EVP_PKEY> key = Rfc8037PrivateKey();
  ASSERT_NE(key, nullptr);
  auto signer = PrivateKeySigner::New(std::move(key), JwsAlgorithm::kEdDsa);
  ASSERT_TRUE(signer.ok()) << signer.status();
  // Ed25519 is deterministic, so the signature must match byte for byte.
  auto signature = (*signer)->Sign(kRfc8037SigningInput);
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(B64(*signature), kRfc8037Signature);
}

// --- RFC 7638 section 3.1 --------------------------------------------------

std::string Rfc7638Jwk() {
  return absl::StrCat(R"({"kty":"RSA","n":")", kRfc7638N,
                      R"(","e":"AQAB","alg":"RS256","kid":"2011-04-29"})");
}

TEST(Rfc7638Test, Section31Thumbprint) {
  const PublicJwk key = MustParseJwk(Rfc7638Jwk());
  EXPECT_EQ(key.kid(), "2011-04-29");
  EXPECT_EQ(key.Thumbprint(), kRfc7638Thumbprint);
}

TEST(Rfc7638Test, ThumbprintIgnoresKidAlgAndMemberOrder) {
  // Same key, members reordered and spaced, another kid and alg.
  const PublicJwk key = MustParseJwk(
      absl::StrCat(R"({ "alg": "PS256", "e": "AQAB", "kid": "another", "kty": "RSA", "n": ")",
                   kRfc7638N, "\" }"));
  EXPECT_EQ(key.Thumbprint(), kRfc7638Thumbprint);
  EXPECT_EQ(key.algorithm(), JwsAlgorithm::kPs256);
}

TEST(Rfc7638Test, ExportedJwkKeepsThumbprint) {
  const PublicJwk key = MustParseJwk(Rfc7638Jwk());
  const PublicJwk again = MustParseJwk(key.ToJson());
  EXPECT_EQ(again.Thumbprint(), kRfc7638Thumbprint);
  EXPECT_EQ(again.kid(), "2011-04-29");
  EXPECT_EQ(again.algorithm(), JwsAlgorithm::kRs256);
}

}  // namespace
}  // namespace writ

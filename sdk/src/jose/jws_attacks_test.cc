// One test per token-level attack of RFC 8725 (JWT BCP) and
// draft-ietf-oauth-rfc8725bis (key-set attacks are in jwk_attacks_test.cc),
// each asserting the status code and what the message names.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/jose/jose_test_util.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"

namespace writ {
namespace {

using jose_test::B64;
using jose_test::SignToken;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr absl::string_view kPayload = R"({"iss":"https://issuer.example","sub":"repo:a/b"})";

// The issuer's real keys, made once: RSA keys are slow to generate.
const PrivateKeySigner& RsaSigner() {
  return jose_test::CachedSigner(KeySpec::kRsa2048, JwsAlgorithm::kRs256, "rsa-key-1");
}
const PrivateKeySigner& EcSigner() {
  return jose_test::CachedSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "ec-key-1");
}
// The same RSA key as RsaSigner, published bound to PS256 under another kid.
const PrivateKeySigner& PssSigner() {
  static const PrivateKeySigner* signer =
      jose_test::SignerForSameKey(RsaSigner(), JwsAlgorithm::kPs256, "ps-key-1").release();
  return *signer;
}
const JwkSet& RealKeys() {
  static const JwkSet* keys = new JwkSet(jose_test::SetOf(
      {RsaSigner().public_jwk(), EcSigner().public_jwk(), PssSigner().public_jwk()}));
  return *keys;
}
// A key the attacker holds.
const PrivateKeySigner& AttackerSigner() {
  return jose_test::CachedSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "attacker");
}

std::string EcToken(absl::string_view header = R"({"alg":"ES256","kid":"ec-key-1"})",
                    absl::string_view payload = kPayload) {
  return SignToken(EcSigner(), header, payload);
}

// Segments splits a token at its dots.
std::vector<std::string> Segments(absl::string_view token) { return absl::StrSplit(token, '.'); }

// Expects ParseCompactJws to refuse `token` with kInvalidArgument and a
// message containing `substr`.
void ExpectParseRefused(absl::string_view token, absl::string_view substr,
                        const JwsParseOptions& options = {}) {
  auto jws = ParseCompactJws(token, options);
  ASSERT_FALSE(jws.ok()) << "accepted: " << token;
  EXPECT_EQ(jws.status().code(), absl::StatusCode::kInvalidArgument) << jws.status();
  EXPECT_THAT(jws.status().message(), HasSubstr(substr));
}

// Parses `token` (which must parse) and returns VerifyJws against the real keys.
absl::Status Verify(absl::string_view token, const JwsParseOptions& options = {}) {
  auto jws = ParseCompactJws(token, options);
  EXPECT_TRUE(jws.ok()) << jws.status();
  if (!jws.ok()) return jws.status();
  return VerifyJws(*jws, RealKeys());
}

TEST(VerifyJwsTest, RealKeysVerifyTheirOwnTokens) {
  EXPECT_TRUE(Verify(EcToken()).ok());
  EXPECT_TRUE(
      Verify(SignToken(RsaSigner(), R"({"alg":"RS256","kid":"rsa-key-1"})", kPayload)).ok());
  EXPECT_TRUE(Verify(SignToken(PssSigner(), R"({"alg":"PS256","kid":"ps-key-1"})", kPayload)).ok());
}

// --- RFC 8725 section 2.1 / 3.1: "alg":"none" -----------------------------

TEST(ParseCompactJwsTest, RefusesAlgNoneInEveryLetterCase) {
  for (absl::string_view none : {"none", "None", "NONE", "nOnE"}) {
    SCOPED_TRACE(none);
    const std::string header = absl::StrCat(R"({"alg":")", none, R"(","kid":"ec-key-1"})");
    // Unsecured JWS: empty signature segment.
    ExpectParseRefused(absl::StrCat(B64(header), ".", B64(kPayload), "."), "unsecured JWS");
    // With a signature segment, in case a verifier only checks for emptiness.
    ExpectParseRefused(jose_test::Token(header, kPayload, "sig"), "none (unsecured JWS)");
    // And signed by the real key: "none" still never reaches verification.
    ExpectParseRefused(EcToken(header), "never accepted");
  }
}

TEST(JwsAlgorithmFromNameTest, RefusesNoneWhateverItsCase) {
  for (absl::string_view none : {"none", "None", "NONE", "nOnE", "NoNe"}) {
    auto alg = JwsAlgorithmFromName(none);
    ASSERT_FALSE(alg.ok()) << none;
    EXPECT_EQ(alg.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(alg.status().message(), HasSubstr("never accepted"));
  }
}

// --- RFC 8725 section 2.1 / 3.1: RS256 public key used as an HS256 secret -

// Hmac256 returns HMAC-SHA256(key, data).
std::string Hmac256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  const unsigned char* mac = EVP_Q_mac(
      nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
      reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, sizeof(out), &out_len);
  EXPECT_NE(mac, nullptr);
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

// PublicKeyDer returns the SubjectPublicKeyInfo DER of `key`.
std::string PublicKeyDer(const EVP_PKEY* key) {
  const int len = i2d_PUBKEY(key, nullptr);
  EXPECT_GT(len, 0);
  std::string der(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_PUBKEY(key, &p);
  return der;
}

TEST(VerifyJwsTest, RefusesRsaPublicKeyUsedAsHmacSecret) {
  auto pem = PublicKeyToPem(RsaSigner().private_key());
  ASSERT_TRUE(pem.ok());
  const std::vector<std::string> secrets = {
      *pem, PublicKeyDer(RsaSigner().public_jwk().key()), RsaSigner().public_jwk().ToJson(),
      jose_test::BnParam(RsaSigner().public_jwk().key(), "n")};
  for (absl::string_view alg : {"HS256", "HS384", "HS512", "hs256"}) {
    for (const std::string& secret : secrets) {
      SCOPED_TRACE(absl::StrCat(alg, " keyed with ", secret.substr(0, 20)));
      const std::string input =
          absl::StrCat(B64(absl::StrCat(R"({"alg":")", alg, R"(","kid":"rsa-key-1","typ":"JWT"})")),
                       ".", B64(kPayload));
      const std::string forged = absl::StrCat(input, ".", B64(Hmac256(secret, input)));
      ExpectParseRefused(forged, "(HMAC) is never accepted");
    }
  }
}

// --- RFC 8725 section 3.1: the algorithm must fit the key ----------------

TEST(VerifyJwsTest, RefusesEs256TokenForRs256Key) {
  // Signed by a real EC key, but naming the RSA key's kid.
  const absl::Status status = Verify(EcToken(R"({"alg":"ES256","kid":"rsa-key-1"})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(),
              HasSubstr("\"alg\" ES256 does not match the key's algorithm RS256"));
}

TEST(VerifyJwsTest, RefusesRs256TokenForPs256Key) {
  // The PS256 key is the same RSA key; an RS256 signature by it still fails.
  const std::string token = SignToken(RsaSigner(), R"({"alg":"RS256","kid":"ps-key-1"})", kPayload);
  const absl::Status status = Verify(token);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(),
              HasSubstr("\"alg\" RS256 does not match the key's algorithm PS256"));
}

TEST(VerifyJwsTest, RefusesPs256TokenForRs256Key) {
  const std::string token =
      SignToken(PssSigner(), R"({"alg":"PS256","kid":"rsa-key-1"})", kPayload);
  const absl::Status status = Verify(token);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("does not match the key's algorithm RS256"));
}

TEST(VerifyJwsTest, WithoutKidTriesOnlyKeysBoundToTheAlgorithm) {
  // The RS256 signature by the RSA key verifies without a kid...
  EXPECT_TRUE(Verify(SignToken(RsaSigner(), R"({"alg":"RS256"})", kPayload)).ok());
  // ... but with only the PS256-bound copy of that key on offer, it does not.
  auto rs256 = ParseCompactJws(SignToken(RsaSigner(), R"({"alg":"RS256"})", kPayload));
  ASSERT_TRUE(rs256.ok());
  const absl::Status status = VerifyJws(*rs256, jose_test::SetOf({PssSigner().public_jwk()}));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("no key is bound to RS256"));
}

TEST(VerifyJwsTest, WithoutKidRefusesSignatureNoKeyMakes) {
  const absl::Status status = Verify(SignToken(AttackerSigner(), R"({"alg":"ES256"})", kPayload));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("no key verifies"));
}

// --- kid ------------------------------------------------------------------

TEST(VerifyJwsTest, ReturnsNotFoundForUnknownKid) {
  const absl::Status status = Verify(EcToken(R"({"alg":"ES256","kid":"ec-key-2"})"));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("no key with kid \"ec-key-2\""));
}

TEST(VerifyJwsTest, KidLookupIsExact) {
  for (absl::string_view kid : {"EC-KEY-1", "ec-key-1 ", "ec-key", "ec-key-1x"}) {
    SCOPED_TRACE(kid);
    const std::string header = absl::StrCat(R"({"alg":"ES256","kid":")", kid, "\"}");
    auto jws = ParseCompactJws(EcToken(header));
    if (!jws.ok()) continue;  // the trailing space is refused earlier
    EXPECT_EQ(VerifyJws(*jws, RealKeys()).code(), absl::StatusCode::kNotFound);
  }
}

TEST(ParseCompactJwsTest, RefusesKidWithPathTraversal) {
  for (absl::string_view kid : {"../../dev/null", "..", "keys/../../etc/passwd", R"(..\\x)"}) {
    SCOPED_TRACE(kid);
    ExpectParseRefused(EcToken(absl::StrCat(R"({"alg":"ES256","kid":")", kid, "\"}")),
                       "looks like a path");
  }
}

// A leading "/" is a path only to a verifier that uses the kid as one; Writ
// uses it as a lookup key, and standard-base64 kids (AWS Cognito) start with
// "/" about once in 64, so it parses and only an exact kid match finds a key.
TEST(ParseCompactJwsTest, AcceptsKidWithLeadingSlashAsPlainLookupKey) {
  auto jws = ParseCompactJws(EcToken(R"({"alg":"ES256","kid":"/AbC+dEf12="})"));
  ASSERT_TRUE(jws.ok()) << jws.status();
  EXPECT_EQ(jws->kid(), "/AbC+dEf12=");
}

TEST(ParseCompactJwsTest, RefusesKidWithControlCharacters) {
  for (absl::string_view kid : {R"(ec-key-1\n)", R"(ec-key-1\u0000)", R"(ec\u0000key)",
                                R"(\r\nSet-Cookie: x)", R"(ec\tkey)", R"(ec\u007fkey)"}) {
    SCOPED_TRACE(kid);
    ExpectParseRefused(EcToken(absl::StrCat(R"({"alg":"ES256","kid":")", kid, "\"}")),
                       "control, space or non-ASCII");
  }
}

TEST(ParseCompactJwsTest, RefusesKidWithNonAscii) {
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-k\u00e9y"})"), "non-ASCII");
}

TEST(ParseCompactJwsTest, RefusesKidLongerThan256Bytes) {
  ExpectParseRefused(
      EcToken(absl::StrCat(R"({"alg":"ES256","kid":")", std::string(257, 'k'), "\"}")),
      "longer than 256 bytes");
  // 256 bytes parses (and is then simply not found).
  auto jws = ParseCompactJws(
      EcToken(absl::StrCat(R"({"alg":"ES256","kid":")", std::string(256, 'k'), "\"}")));
  ASSERT_TRUE(jws.ok()) << jws.status();
  EXPECT_EQ(VerifyJws(*jws, RealKeys()).code(), absl::StatusCode::kNotFound);
}

TEST(ParseCompactJwsTest, RefusesEmptyOrNonStringKid) {
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":""})"), "\"kid\" is empty");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":1})"), "\"kid\" is not a string");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":["ec-key-1"]})"), "\"kid\" is not a string");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":null})"), "\"kid\" is not a string");
}

// --- RFC 8725 section 3.10: key-locating headers are never used -----------

class KeyLocatingHeaderTest : public ::testing::TestWithParam<absl::string_view> {
 protected:
  // The header member `GetParam()` pointing at the attacker's key.
  std::string AttackerMember() const {
    const absl::string_view name = GetParam();
    if (name == "jwk") return absl::StrCat(R"("jwk":)", AttackerSigner().public_jwk().ToJson());
    if (name == "x5c") return R"("x5c":["MIIBszCCAVmgAwIBAgIUAttackerCertificate"])";
    return absl::StrCat("\"", name, R"(":"https://attacker.example/keys")");
  }
};

TEST_P(KeyLocatingHeaderTest, AttackerKeyNamedInHeaderIsNeverUsed) {
  // Signed by the attacker, header pointing at the attacker's key.
  for (absl::string_view kid : {R"(,"kid":"ec-key-1")", ""}) {
    SCOPED_TRACE(kid);
    const std::string header = absl::StrCat(R"({"alg":"ES256")", kid, ",", AttackerMember(), "}");
    const std::string token = SignToken(AttackerSigner(), header, kPayload);
    auto jws = ParseCompactJws(token);
    ASSERT_TRUE(jws.ok()) << jws.status();  // accepted and ignored
    // The attacker's key really did sign it...
    EXPECT_TRUE(AttackerSigner()
                    .public_jwk()
                    .Verify(JwsAlgorithm::kEs256, jws->signing_input(), jws->signature())
                    .ok());
    // ... but only the real key set counts.
    const absl::Status status = VerifyJws(*jws, RealKeys());
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(status.message(),
                AnyOf(HasSubstr("does not verify"), HasSubstr("no key verifies")));
  }
}

TEST_P(KeyLocatingHeaderTest, AttackerKidWithHeaderIsNotFound) {
  const std::string header =
      absl::StrCat(R"({"alg":"ES256","kid":"attacker",)", AttackerMember(), "}");
  const absl::Status status = Verify(SignToken(AttackerSigner(), header, kPayload));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

TEST_P(KeyLocatingHeaderTest, HeaderIsIgnoredWhenRealKeySigned) {
  const std::string header =
      absl::StrCat(R"({"alg":"ES256","kid":"ec-key-1",)", AttackerMember(), "}");
  EXPECT_TRUE(Verify(EcToken(header)).ok());
}

INSTANTIATE_TEST_SUITE_P(AllKeyLocatingHeaders, KeyLocatingHeaderTest,
                         ::testing::Values("jku", "x5u", "jwk", "x5c"),
                         [](const auto& info) { return std::string(info.param); });

// --- crit (RFC 7515 section 4.1.11) ----------------------------------------

TEST(ParseCompactJwsTest, RefusesUnknownCriticalHeader) {
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","crit":["exp"],"exp":1})"),
                     "critical header \"exp\" is not understood");
}

TEST(ParseCompactJwsTest, RefusesCritListingRegisteredHeader) {
  for (absl::string_view name : {"alg", "kid", "typ", "jwk", "x5c", "crit"}) {
    SCOPED_TRACE(name);
    JwsParseOptions options;
    options.understood_critical_headers = {std::string(name)};
    ExpectParseRefused(
        EcToken(absl::StrCat(R"({"alg":"ES256","kid":"ec-key-1","crit":[")", name, "\"]}")),
        absl::StrCat("lists registered header \"", name, "\""), options);
  }
}

TEST(ParseCompactJwsTest, AcceptsCritUnderstoodByCaller) {
  JwsParseOptions options;
  options.understood_critical_headers = {"exp", "http://example.com/ext"};
  const std::string token =
      EcToken(R"({"alg":"ES256","kid":"ec-key-1","crit":["exp","http://example.com/ext"],"exp":1,)"
              R"("http://example.com/ext":true})");
  EXPECT_TRUE(Verify(token, options).ok());
  // Understanding one is not understanding all.
  options.understood_critical_headers = {"exp"};
  ExpectParseRefused(token, "is not understood", options);
}

TEST(ParseCompactJwsTest, RefusesCritNamingAbsentHeader) {
  JwsParseOptions options;
  options.understood_critical_headers = {"exp"};
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","crit":["exp"]})"), "not present",
                     options);
}

TEST(ParseCompactJwsTest, RefusesMalformedCrit) {
  JwsParseOptions options;
  options.understood_critical_headers = {"exp"};
  ExpectParseRefused(EcToken(R"({"alg":"ES256","crit":[],"exp":1})"), "non-empty array", options);
  ExpectParseRefused(EcToken(R"({"alg":"ES256","crit":"exp","exp":1})"), "non-empty array",
                     options);
  ExpectParseRefused(EcToken(R"({"alg":"ES256","crit":[1],"exp":1})"), "non-string", options);
  ExpectParseRefused(EcToken(R"({"alg":"ES256","crit":["exp","exp"],"exp":1})"), "twice", options);
}

// --- size -----------------------------------------------------------------

TEST(ParseCompactJwsTest, RefusesTokenOverMaxTokenBytes) {
  const std::string token = EcToken();
  JwsParseOptions options;
  options.max_token_bytes = token.size();
  EXPECT_TRUE(ParseCompactJws(token, options).ok());
  options.max_token_bytes = token.size() - 1;
  ExpectParseRefused(
      token, absl::StrCat("token is ", token.size(), " bytes; the limit is ", token.size() - 1),
      options);
}

TEST(ParseCompactJwsTest, RefusesTokenOverDefaultSixteenKibibytes) {
  const std::string big = absl::StrCat(R"({"pad":")", std::string(16 * 1024, 'x'), "\"}");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1"})", big), "the limit is 16384");
  // Size is checked before anything else is looked at.
  ExpectParseRefused(std::string(16 * 1024 + 1, '.'), "the limit is 16384");
}

// --- RFC 8725 section 3.1 / bis: duplicate member names -------------------

TEST(ParseCompactJwsTest, RefusesDuplicateHeaderMember) {
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","alg":"none"})"),
                     "JWS header has a duplicate member \"alg\"");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","kid":"rsa-key-1"})"),
                     "duplicate member \"kid\"");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","\u006bid":"rsa-key-1"})"),
                     "duplicate member");
}

TEST(ParseJwtTest, RefusesDuplicateClaim) {
  auto jwt = ParseJwt(EcToken(R"({"alg":"ES256","kid":"ec-key-1"})",
                              R"({"iss":"https://issuer.example","sub":"a","sub":"admin"})"));
  ASSERT_FALSE(jwt.ok());
  EXPECT_EQ(jwt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(jwt.status().message(), HasSubstr("JWT claims has a duplicate member \"sub\""));
}

TEST(ParseJwtTest, RefusesDuplicateNestedClaim) {
  auto jwt = ParseJwt(EcToken(R"({"alg":"ES256","kid":"ec-key-1"})",
                              R"({"iss":"i","ctx":{"role":"user","role":"admin"}})"));
  ASSERT_FALSE(jwt.ok());
  EXPECT_THAT(jwt.status().message(), HasSubstr("duplicate member \"role\""));
}

// --- compact serialization shape -------------------------------------------

TEST(ParseCompactJwsTest, RefusesWrongSegmentCount) {
  const std::vector<std::string> s = Segments(EcToken());
  ASSERT_EQ(s.size(), 3u);
  ExpectParseRefused(s[0], "token has 1 segments; a compact JWS has exactly 3");
  ExpectParseRefused("", "token has 1 segments");
  ExpectParseRefused(absl::StrCat(s[0], ".", s[1]), "token has 2 segments");
  ExpectParseRefused(absl::StrCat(s[0], ".", s[1], ".", s[2], ".", s[2]), "token has 4 segments");
  ExpectParseRefused(absl::StrCat(s[0], "..", s[1], ".", s[2], ".."), "token has 6 segments");
  ExpectParseRefused("..", "JWS header segment is empty");
}

TEST(ParseCompactJwsTest, NamesFiveSegmentsAsJwe) {
  // RFC 7516 appendix A.3-style JWE: header.key.iv.ciphertext.tag.
  const std::string jwe =
      absl::StrCat(B64(R"({"alg":"A128KW","enc":"A128CBC-HS256"})"),
                   ".6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ"
                   ".AxY8DCtDaGlsbGljb3RoZQ.KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY"
                   ".U0m_YmjN04DJvceFICbCVQ");
  ExpectParseRefused(jwe, "5 segments: JWE");
  ExpectParseRefused("a.b.c.d.e", "JWE (encrypted tokens) is not supported");
}

TEST(ParseCompactJwsTest, RefusesEmptySignatureSegment) {
  const std::vector<std::string> s = Segments(EcToken());
  ExpectParseRefused(absl::StrCat(s[0], ".", s[1], "."), "signature segment is empty");
}

TEST(ParseCompactJwsTest, RefusesEmptyHeaderSegment) {
  const std::vector<std::string> s = Segments(EcToken());
  ExpectParseRefused(absl::StrCat(".", s[1], ".", s[2]), "header segment is empty");
}

// --- strict base64url in each segment ------------------------------------

// SetTrailingBit returns `segment` with its last character's lowest bit set;
// when the encoding has unused trailing bits, that bit is one of them.
std::string SetTrailingBit(absl::string_view segment) {
  static constexpr absl::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out(segment);
  const size_t v = kAlphabet.find(out.back());
  out.back() = kAlphabet[v | 1];
  return out;
}

TEST(ParseCompactJwsTest, RefusesBadBase64UrlInEverySegment) {
  // A header and payload whose encodings end in a partial group.
  const std::string token = EcToken(R"({"alg":"ES256","kid":"ec-key-1"})", R"({"sub":"x"})");
  const std::vector<std::string> s = Segments(token);
  ASSERT_TRUE(ParseCompactJws(token).ok());
  const char* kWhat[] = {"JWS header", "JWS payload", "JWS signature"};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(kWhat[i]);
    ASSERT_NE(s[i].size() % 4, 0u) << "segment needs unused trailing bits";
    struct Mutation {
      std::string segment;
      absl::string_view message;
    };
    const std::string mid = s[i].substr(0, s[i].size() / 2);
    const std::string rest = s[i].substr(s[i].size() / 2);
    const Mutation mutations[] = {
        {absl::StrCat(s[i], std::string(4 - s[i].size() % 4, '=')), "padding '='"},
        {absl::StrCat(mid, "+", rest.substr(1)), "outside the base64url alphabet"},
        {absl::StrCat(mid, "/", rest.substr(1)), "outside the base64url alphabet"},
        {absl::StrCat(mid, " ", rest.substr(1)), "byte 0x20"},
        {absl::StrCat(mid, "\n", rest.substr(1)), "byte 0x0a"},
        {absl::StrCat(mid, "\t", rest.substr(1)), "byte 0x09"},
        {SetTrailingBit(s[i]), "non-zero trailing bits"},
        {absl::StrCat(s[i], std::string(s[i].size() % 4 == 1 ? 4 : (5 - s[i].size() % 4) % 4, 'A')),
         "is not a valid encoded length"},
    };
    for (const Mutation& m : mutations) {
      SCOPED_TRACE(absl::CEscape(m.segment));
      std::vector<std::string> t = s;
      t[i] = m.segment;
      const std::string mutated = absl::StrJoin(t, ".");
      ExpectParseRefused(mutated, absl::StrCat(kWhat[i], ": base64url: "));
      ExpectParseRefused(mutated, m.message);
    }
  }
}

// --- ECDSA signature form (RFC 7518 section 3.4) --------------------------

// DerEcdsaSignature signs `data` with `signer`'s EC key, returning OpenSSL's
// native DER form instead of JOSE's raw R||S.
std::string DerEcdsaSignature(const PrivateKeySigner& signer, absl::string_view data) {
  SslPtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, "SHA256", nullptr, nullptr,
                                  const_cast<EVP_PKEY*>(signer.private_key()), nullptr),
            1);
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size());
  std::string der(len, '\0');
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &len, in,
                           data.size()),
            1);
  der.resize(len);
  return der;
}

TEST(VerifyJwsTest, RefusesEs256SignatureOfWrongLength) {
  const std::vector<std::string> s = Segments(EcToken());
  const std::string signature = jose_test::FromB64(s[2]);
  ASSERT_EQ(signature.size(), 64u);
  const std::string input = absl::StrCat(s[0], ".", s[1]);
  const std::string der = DerEcdsaSignature(EcSigner(), input);
  ASSERT_TRUE(EcSigner().public_jwk().key() != nullptr);
  struct Case {
    std::string signature;
    size_t size;
  } cases[] = {
      {signature.substr(0, 63), 63},
      {absl::StrCat(signature, std::string(1, '\0')), 65},
      {absl::StrCat(std::string(1, '\0'), signature), 65},
      {der, der.size()},
      {std::string(1, '\0'), 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.size);
    const absl::Status status = Verify(absl::StrCat(input, ".", B64(c.signature)));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(
        status.message(),
        HasSubstr(absl::StrCat("ES256 signature must be 64 bytes (raw R||S), got ", c.size)));
  }
}

TEST(VerifyJwsTest, RefusesDegenerateEcdsaSignatures) {
  const std::vector<std::string> s = Segments(EcToken());
  const std::string input = absl::StrCat(s[0], ".", s[1]);
  // r = s = 0, and r = s = n (the P-256 group order): both are invalid.
  const std::string order = jose_test::FromB64("_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE");
  ASSERT_EQ(order.size(), 32u);
  for (const std::string& sig :
       {std::string(64, '\0'), absl::StrCat(order, order), std::string(64, '\xff')}) {
    const absl::Status status = Verify(absl::StrCat(input, ".", B64(sig)));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(status.message(), HasSubstr("does not verify"));
  }
}

TEST(VerifyJwsTest, RefusesRsaSignatureOfWrongLength) {
  const std::vector<std::string> s =
      Segments(SignToken(RsaSigner(), R"({"alg":"RS256","kid":"rsa-key-1"})", kPayload));
  const std::string signature = jose_test::FromB64(s[2]);
  const std::string input = absl::StrCat(s[0], ".", s[1]);
  for (const std::string& sig : {signature.substr(1), absl::StrCat(std::string(1, '\0'), signature),
                                 absl::StrCat(signature, std::string(1, '\0'))}) {
    const absl::Status status = Verify(absl::StrCat(input, ".", B64(sig)));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  }
}

// --- trailing garbage -----------------------------------------------------

TEST(ParseCompactJwsTest, RefusesTrailingGarbageAfterSignature) {
  const std::string token = EcToken();
  ExpectParseRefused(absl::StrCat(token, "."), "4 segments");
  ExpectParseRefused(absl::StrCat(token, " "), "base64url");
  ExpectParseRefused(absl::StrCat(token, "\n"), "base64url");
  ExpectParseRefused(absl::StrCat(token, "="), "padding");
  ExpectParseRefused(absl::StrCat(token, std::string(1, '\0')), "base64url");
}

TEST(VerifyJwsTest, RefusesExtraSignatureBytes) {
  // Decodable garbage appended to the signature makes it the wrong length.
  const absl::Status status = Verify(absl::StrCat(EcToken(), "AAAA"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("must be 64 bytes"));
}

TEST(ParseCompactJwsTest, RefusesTrailingGarbageInHeaderJson) {
  for (absl::string_view header :
       {R"({"alg":"ES256","kid":"ec-key-1"} x)", R"({"alg":"ES256","kid":"ec-key-1"}{})",
        R"({"alg":"ES256","kid":"ec-key-1"},)"}) {
    SCOPED_TRACE(header);
    ExpectParseRefused(EcToken(header), "JWS header is not valid JSON");
  }
  ExpectParseRefused(
      EcToken(jose_test::Bytes("{\"alg\":\"ES256\",\"kid\":\"ec-key-1\"}\0{\"alg\":\"none\"}")),
      "JWS header is not valid JSON");
}

TEST(ParseJwtTest, RefusesTrailingGarbageInPayloadJson) {
  for (absl::string_view payload :
       {R"({"sub":"a"} {"sub":"admin"})", R"({"sub":"a"}])", R"({"sub":"a"}x)"}) {
    SCOPED_TRACE(payload);
    const std::string token = EcToken(R"({"alg":"ES256","kid":"ec-key-1"})", payload);
    EXPECT_TRUE(ParseCompactJws(token).ok());  // a JWS may carry any bytes...
    auto jwt = ParseJwt(token);                // ... but a JWT's are a claims set
    ASSERT_FALSE(jwt.ok());
    EXPECT_EQ(jwt.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(jwt.status().message(), HasSubstr("JWT claims is not valid JSON"));
  }
  auto jwt = ParseJwt(EcToken(R"({"alg":"ES256","kid":"ec-key-1"})",
                              jose_test::Bytes("{\"sub\":\"a\"}\0{\"sub\":\"admin\"}")));
  ASSERT_FALSE(jwt.ok());
  EXPECT_THAT(jwt.status().message(), HasSubstr("JWT claims is not valid JSON"));
}

// --- header shapes that are not a plain JWS -------------------------------

TEST(ParseCompactJwsTest, RefusesEncHeader) {
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","enc":"A256GCM"})"),
                     "\"enc\": JWE is not supported");
}

TEST(ParseCompactJwsTest, RefusesNestedJwt) {
  for (absl::string_view cty : {"JWT", "jwt", "application/jwt", "Application/JWT"}) {
    SCOPED_TRACE(cty);
    ExpectParseRefused(
        EcToken(absl::StrCat(R"({"alg":"ES256","kid":"ec-key-1","cty":")", cty, "\"}")),
        "nested tokens are not supported");
  }
  // Another content type is fine.
  EXPECT_TRUE(Verify(EcToken(R"({"alg":"ES256","kid":"ec-key-1","cty":"json"})")).ok());
}

TEST(ParseCompactJwsTest, RefusesUnencodedPayloadAndCompression) {
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","b64":false,"crit":["b64"]})"),
                     "\"b64\"");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","kid":"ec-key-1","zip":"DEF"})"), "\"zip\"");
}

TEST(ParseCompactJwsTest, RefusesMissingOrMalformedAlg) {
  ExpectParseRefused(EcToken(R"({"kid":"ec-key-1"})"), "\"alg\" is missing");
  ExpectParseRefused(EcToken(R"({"alg":null})"), "\"alg\" is missing or not a string");
  ExpectParseRefused(EcToken(R"({"alg":["ES256"]})"), "not a string");
  ExpectParseRefused(EcToken(R"({"alg":"es256"})"), "\"es256\" is not supported");
  ExpectParseRefused(EcToken(R"({"alg":"ES256 "})"), "is not supported");
  ExpectParseRefused(EcToken(R"({"alg":"RSA-OAEP","enc":"A256GCM"})"), "is not supported");
}

TEST(ParseCompactJwsTest, RefusesHeaderThatIsNotAnObject) {
  ExpectParseRefused(EcToken(R"(["ES256"])"), "JWS header is not a JSON object");
  ExpectParseRefused(EcToken("null"), "JWS header is not a JSON object");
  ExpectParseRefused(EcToken(""), "header segment is empty");
}

TEST(ParseCompactJwsTest, RefusesNonStringTypOrCty) {
  ExpectParseRefused(EcToken(R"({"alg":"ES256","typ":1})"), "\"typ\" is not a string");
  ExpectParseRefused(EcToken(R"({"alg":"ES256","cty":{}})"), "\"cty\" is not a string");
}

}  // namespace
}  // namespace writ

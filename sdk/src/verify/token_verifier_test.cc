#include "writ/verify/token_verifier.h"

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/verify/verify_test_server.h"
#include "tests/testing/status_test_util.h"
#include "writ/base/base64url.h"
#include "writ/crypto/keys.h"
#include "writ/jose/signer.h"

namespace writ {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kAudience[] = "https://deploy.acme.example";
constexpr char kSubject[] = "spiffe://acme.example/ci/acme/app";
const absl::Time kStart = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

std::unique_ptr<PrivateKeySigner> NewSigner(absl::string_view kid) {
  auto key = GenerateKey(KeySpec::kEcP256);
  EXPECT_TRUE(key.ok());
  auto signer = PrivateKeySigner::New(*std::move(key), JwsAlgorithm::kEs256, kid);
  EXPECT_TRUE(signer.ok());
  return *std::move(signer);
}

std::string JwksOf(std::initializer_list<const Signer*> signers) {
  std::string keys;
  for (const Signer* s : signers) {
    absl::StrAppend(&keys, keys.empty() ? "" : ",", s->public_jwk().ToJson());
  }
  return absl::StrCat(R"({"keys":[)", keys, "]}");
}

// TokenSpec shapes a token as Writ's JwtMinter writes it.
struct TokenSpec {
  std::string iss;
  std::string sub = kSubject;
  std::string aud = kAudience;
  absl::Time iat = kStart;
  absl::Duration lifetime = absl::Minutes(5);
  std::optional<absl::Time> nbf;  // Default: iat.
  std::optional<std::string> scope = "deploy:read deploy:write";
  std::string typ = "at+jwt";
  // extra: further members, each `"name":value`, comma-separated.
  std::string extra;
};

std::string Payload(const TokenSpec& t) {
  std::string json = absl::StrCat(R"({"iss":")", t.iss, R"(","sub":")", t.sub, R"(","aud":")",
                                  t.aud, R"(","exp":)", absl::ToUnixSeconds(t.iat + t.lifetime),
                                  R"(,"iat":)", absl::ToUnixSeconds(t.iat), R"(,"nbf":)",
                                  absl::ToUnixSeconds(t.nbf.value_or(t.iat)),
                                  R"(,"jti":"jti-1","client_id":"repo:acme/app")");
  if (t.scope.has_value()) absl::StrAppend(&json, R"(,"scope":")", *t.scope, "\"");
  absl::StrAppend(
      &json, R"(,"attest":{"iss":"https://ci.example","sub":"repo:acme/app:ref:refs/heads/main",)",
      R"("claims":{"repository":"acme/app"}})");
  if (!t.extra.empty()) absl::StrAppend(&json, ",", t.extra);
  return json + "}";
}

std::string Sign(const Signer& signer, const TokenSpec& t) {
  auto token = SignCompactJws(signer, t.typ, Payload(t));
  EXPECT_TRUE(token.ok()) << token.status();
  return *token;
}

class TokenVerifierTest : public ::testing::Test {
 protected:
  TokenVerifierTest() : signer_(NewSigner("key-1")) { server_.SetJwks(JwksOf({signer_.get()})); }

  TokenVerifierOptions Options() {
    TokenVerifierOptions options;
    options.issuer_url = server_.issuer();
    options.audience = kAudience;
    options.clock = &clock_;
    return options;
  }
  std::unique_ptr<TokenVerifier> NewVerifier(TokenVerifierOptions options) {
    auto verifier = TokenVerifier::New(std::move(options));
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }
  std::unique_ptr<TokenVerifier> NewVerifier() { return NewVerifier(Options()); }
  TokenSpec Spec() {
    TokenSpec t;
    t.iss = server_.issuer();
    return t;
  }
  std::string Mint(const TokenSpec& t) { return Sign(*signer_, t); }
  std::string Mint() { return Mint(Spec()); }

  void ExpectRefused(const TokenVerifier& verifier, absl::string_view token, absl::StatusCode code,
                     absl::string_view message_part) {
    absl::StatusOr<VerifiedToken> got = verifier.Verify(token);
    ASSERT_FALSE(got.ok()) << "token verified";
    EXPECT_EQ(got.status().code(), code) << got.status();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string(message_part)));
    // The token is never echoed.
    if (token.size() > 20) {
      EXPECT_THAT(std::string(got.status().message()),
                  ::testing::Not(HasSubstr(std::string(token))));
    }
  }

  test::StandInWrit server_;
  FakeClock clock_{kStart + absl::Seconds(10)};
  std::unique_ptr<PrivateKeySigner> signer_;
};

TEST_F(TokenVerifierTest, VerifiesAWritTokenFoundThroughDiscovery) {
  auto verifier = NewVerifier();
  TokenSpec spec = Spec();
  ASSERT_OK_AND_ASSIGN(VerifiedToken token, verifier->Verify(Mint(spec)));
  EXPECT_EQ(token.subject, kSubject);
  EXPECT_EQ(token.client_id, "repo:acme/app");
  EXPECT_EQ(token.jti, "jti-1");
  EXPECT_THAT(token.scopes, ElementsAre("deploy:read", "deploy:write"));
  EXPECT_EQ(token.expires_at, kStart + absl::Minutes(5));
  EXPECT_FALSE(token.actor.has_value());
  EXPECT_EQ(token.claims.GetStringAt({"attest", "claims", "repository"}), "acme/app");
  EXPECT_EQ(server_.discovery_requests(), 1);
  EXPECT_EQ(server_.jwks_requests(), 1);
  // Within jwks_ttl the keys are not fetched again.
  clock_.Advance(absl::Minutes(4));
  ASSERT_OK(verifier->Verify(Mint()));
  EXPECT_EQ(server_.jwks_requests(), 1);
  JwksSourceState state = verifier->KeysState();
  EXPECT_EQ(state.source, "discovery");
  EXPECT_EQ(state.jwks_uri, server_.issuer() + "/jwks");
  EXPECT_EQ(state.key_count, 1u);
  EXPECT_TRUE(state.ready);
}

TEST_F(TokenVerifierTest, RejectsATamperedSignatureOrPayload) {
  auto verifier = NewVerifier();
  std::string token = Mint();
  const size_t last_dot = token.rfind('.');
  std::string bad_sig = token;
  bad_sig[last_dot + 5] = bad_sig[last_dot + 5] == 'A' ? 'B' : 'A';
  ExpectRefused(*verifier, bad_sig, absl::StatusCode::kUnauthenticated, "signature");

  // Another payload (a wider scope) under the original signature.
  TokenSpec wider = Spec();
  wider.scope = "deploy:read deploy:write admin";
  const std::string forged_payload = Base64UrlEncode(Payload(wider));
  const size_t first_dot = token.find('.');
  std::string forged =
      absl::StrCat(token.substr(0, first_dot + 1), forged_payload, token.substr(last_dot));
  ExpectRefused(*verifier, forged, absl::StatusCode::kUnauthenticated, "signature");

  // Signed by a key with the right kid that is not Writ's.
  auto impostor = NewSigner("key-1");
  ExpectRefused(*verifier, Sign(*impostor, Spec()), absl::StatusCode::kUnauthenticated,
                "signature");
}

TEST_F(TokenVerifierTest, RejectsWrongIssuerAndAudience) {
  auto verifier = NewVerifier();
  TokenSpec t = Spec();
  t.iss = server_.issuer() + "/";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"iss\"");
  t.iss = "https://writ.evil.example";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"iss\"");
  t = Spec();
  t.aud = "https://other.acme.example";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"aud\"");
  // An array audience containing this relying party is accepted.
  t.aud = "x";
  std::string payload = Payload(t);
  payload.replace(payload.find(R"("aud":"x")"), 9,
                  absl::StrCat(R"("aud":["https://other.example",")", kAudience, R"("])"));
  ASSERT_OK_AND_ASSIGN(std::string token, SignCompactJws(*signer_, "at+jwt", payload));
  EXPECT_OK(verifier->Verify(token));
}

TEST_F(TokenVerifierTest, ExpiryHoldsUntilExactlyExpPlusLeeway) {
  auto verifier = NewVerifier();  // leeway 30 s
  const std::string token = Mint();
  const absl::Time exp = kStart + absl::Minutes(5);
  clock_.Set(exp + absl::Seconds(29));
  EXPECT_OK(verifier->Verify(token));
  clock_.Set(exp + absl::Seconds(30) - absl::Nanoseconds(1));
  EXPECT_OK(verifier->Verify(token));
  clock_.Set(exp + absl::Seconds(30));
  ExpectRefused(*verifier, token, absl::StatusCode::kUnauthenticated, "expired");

  TokenVerifierOptions strict = Options();
  strict.leeway = absl::ZeroDuration();
  auto no_leeway = NewVerifier(strict);
  clock_.Set(exp - absl::Nanoseconds(1));
  EXPECT_OK(no_leeway->Verify(token));
  clock_.Set(exp);
  ExpectRefused(*no_leeway, token, absl::StatusCode::kUnauthenticated, "expired");
}

TEST_F(TokenVerifierTest, RejectsATokenNotYetValid) {
  auto verifier = NewVerifier();
  TokenSpec t = Spec();
  t.iat = kStart;
  t.nbf = clock_.Now() + absl::Seconds(31);
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "not valid before");
  t.nbf = clock_.Now() + absl::Seconds(30);  // exactly the leeway
  EXPECT_OK(verifier->Verify(Mint(t)));
  // Issued in the future, beyond the leeway.
  t = Spec();
  t.iat = clock_.Now() + absl::Seconds(31);
  t.nbf = kStart;
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "issued in the future");
}

TEST_F(TokenVerifierTest, RequiresTheAccessTokenType) {
  auto verifier = NewVerifier();
  TokenSpec t = Spec();
  t.typ = "JWT";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"typ\"");
  t.typ = "";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"typ\"");
  t.typ = "application/at+jwt";  // RFC 7515 4.1.9: the prefix may be given
  EXPECT_OK(verifier->Verify(Mint(t)));
  t.typ = "AT+JWT";
  EXPECT_OK(verifier->Verify(Mint(t)));
}

TEST_F(TokenVerifierTest, RejectsAlgNoneAndHmacKeyConfusion) {
  auto verifier = NewVerifier();
  const std::string payload = Base64UrlEncode(Payload(Spec()));
  const std::string none = absl::StrCat(
      Base64UrlEncode(R"({"alg":"none","kid":"key-1","typ":"at+jwt"})"), ".", payload, ".");
  ExpectRefused(*verifier, none, absl::StatusCode::kUnauthenticated, "malformed token");

  // HS256 "signed" with Writ's public key as the shared secret.
  const std::string signing_input = absl::StrCat(
      Base64UrlEncode(R"({"alg":"HS256","kid":"key-1","typ":"at+jwt"})"), ".", payload);
  const std::string secret = signer_->public_jwk().ToJson();
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(signing_input.data()),
                      signing_input.size(), mac, sizeof(mac), &mac_len),
            nullptr);
  const std::string hs256 =
      absl::StrCat(signing_input, ".",
                   Base64UrlEncode(absl::string_view(reinterpret_cast<const char*>(mac), mac_len)));
  ExpectRefused(*verifier, hs256, absl::StatusCode::kUnauthenticated, "malformed token");

  // An ES256 signature relabelled as ES384 does not verify under the ES256 key.
  const std::string token = Mint();
  const std::string relabelled =
      absl::StrCat(Base64UrlEncode(R"({"alg":"ES384","kid":"key-1","typ":"at+jwt"})"),
                   token.substr(token.find('.')));
  ExpectRefused(*verifier, relabelled, absl::StatusCode::kUnauthenticated, "");
}

TEST_F(TokenVerifierTest, RejectsMalformedTokensWithoutFetching) {
  auto verifier = NewVerifier();
  ExpectRefused(*verifier, "", absl::StatusCode::kUnauthenticated, "no token");
  ExpectRefused(*verifier, "not-a-jwt", absl::StatusCode::kUnauthenticated, "malformed token");
  ExpectRefused(*verifier, "a.b.c", absl::StatusCode::kUnauthenticated, "malformed token");
  ExpectRefused(*verifier, std::string(17 * 1024, 'a'), absl::StatusCode::kUnauthenticated,
                "the limit is 16384");
  // Expired, or for another audience: refused before any key is fetched.
  TokenSpec t = Spec();
  t.aud = "other";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"aud\"");
  clock_.Advance(absl::Hours(1));
  ExpectRefused(*verifier, Mint(), absl::StatusCode::kUnauthenticated, "expired");
  EXPECT_EQ(server_.jwks_requests(), 0);
  EXPECT_EQ(server_.discovery_requests(), 0);
}

TEST_F(TokenVerifierTest, RejectsBadClaimShapes) {
  auto verifier = NewVerifier();
  TokenSpec t = Spec();
  t.sub = "";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "no \"sub\"");
  t = Spec();
  t.scope.reset();
  t.extra = R"("scope":["deploy:read"])";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated,
                "\"scope\" is not a string");
  t = Spec();
  t.extra = R"("act":{"iss":"https://agents.example"})";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"act\" has no \"sub\"");
  t.extra = R"("act":"agent")";
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnauthenticated, "\"act\" has no \"sub\"");
}

TEST_F(TokenVerifierTest, MissingScopesArePermissionDeniedAndNamed) {
  TokenVerifierOptions options = Options();
  options.required_scopes = {"deploy:read"};
  auto verifier = NewVerifier(options);
  TokenSpec t = Spec();
  t.scope = "deploy:read";
  const std::string read_only = Mint(t);
  ASSERT_OK_AND_ASSIGN(VerifiedToken token, verifier->Verify(read_only));
  EXPECT_THAT(token.scopes, ElementsAre("deploy:read"));

  // Per call, on top of the options'.
  const std::vector<std::string> write = {"deploy:write"};
  absl::StatusOr<VerifiedToken> denied = verifier->Verify(read_only, write);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(denied.status().message()), HasSubstr("\"deploy:write\""));
  EXPECT_OK(verifier->Verify(Mint(), write));

  // The options' scopes are required on every call.
  t.scope = "deploy:write";
  denied = verifier->Verify(Mint(t), write);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(denied.status().message()), HasSubstr("\"deploy:read\""));

  // All missing scopes are named; a token without "scope" has none.
  t.scope.reset();
  const std::vector<std::string> two = {"deploy:write", "admin"};
  denied = verifier->Verify(Mint(t), two);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(denied.status().message()),
              HasSubstr("scopes \"deploy:read\", \"deploy:write\", \"admin\""));
  // Scopes match whole words only.
  t.scope = "deploy:readonly deploy";
  denied = verifier->Verify(Mint(t));
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);

  // A scope asked for per call must be a scope token.
  const std::vector<std::string> bad = {"a b"};
  EXPECT_EQ(verifier->Verify(Mint(), bad).status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> empty = {""};
  EXPECT_EQ(verifier->Verify(Mint(), empty).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TokenVerifierTest, DelegatedTokenYieldsTheActor) {
  auto verifier = NewVerifier();
  TokenSpec t = Spec();
  t.extra = R"("act":{"sub":"agent:build-bot","iss":"https://agents.example","act":{"sub":"x"}})";
  ASSERT_OK_AND_ASSIGN(VerifiedToken token, verifier->Verify(Mint(t)));
  EXPECT_EQ(token.subject, kSubject);
  EXPECT_EQ(token.actor, "agent:build-bot");
}

TEST_F(TokenVerifierTest, ANewKidCausesOneRefetchAndVerifies) {
  auto verifier = NewVerifier();
  ASSERT_OK(verifier->Verify(Mint()));
  EXPECT_EQ(server_.jwks_requests(), 1);

  // Writ rotates: the new key signs, both are published.
  auto next = NewSigner("key-2");
  server_.SetJwks(JwksOf({signer_.get(), next.get()}));
  ASSERT_OK(verifier->Verify(Sign(*next, Spec())));
  EXPECT_EQ(server_.jwks_requests(), 2);
  ASSERT_OK(verifier->Verify(Sign(*next, Spec())));
  ASSERT_OK(verifier->Verify(Mint()));
  EXPECT_EQ(server_.jwks_requests(), 2);
}

TEST_F(TokenVerifierTest, AFloodOfUnknownKidsFetchesAtMostOncePerCooldown) {
  auto verifier = NewVerifier();
  ASSERT_OK(verifier->Verify(Mint()));
  EXPECT_EQ(server_.jwks_requests(), 1);
  for (int i = 0; i < 50; ++i) {
    auto stranger = NewSigner(absl::StrCat("unknown-", i));
    absl::StatusOr<VerifiedToken> got = verifier->Verify(Sign(*stranger, Spec()));
    ASSERT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated) << got.status();
    if (i == 0) {
      EXPECT_THAT(std::string(got.status().message()), HasSubstr("even after refreshing"));
    } else {
      EXPECT_THAT(std::string(got.status().message()), HasSubstr("refresh_cooldown"));
    }
    clock_.Advance(absl::Milliseconds(500));  // 25 s in all: within the cooldown
  }
  EXPECT_EQ(server_.jwks_requests(), 2);
  // Writ's own tokens still verify meanwhile.
  EXPECT_OK(verifier->Verify(Mint(Spec())));
  clock_.Advance(absl::Seconds(5));  // 30 s after the first refresh
  auto stranger = NewSigner("unknown-late");
  EXPECT_FALSE(verifier->Verify(Sign(*stranger, Spec())).ok());
  EXPECT_EQ(server_.jwks_requests(), 3);
}

TEST_F(TokenVerifierTest, CachedKeysVerifyWhileTheIssuerIsDown) {
  auto verifier = NewVerifier();
  ASSERT_OK(verifier->Verify(Mint()));
  server_.SetDown(true);
  // Past jwks_ttl the refresh fails; the keys stay usable for stale_keys_max.
  clock_.Advance(absl::Minutes(6));
  TokenSpec t = Spec();
  t.iat = clock_.Now();
  EXPECT_OK(verifier->Verify(Mint(t)));
  EXPECT_FALSE(verifier->KeysState().last_error.empty());
  clock_.Advance(absl::Minutes(50));
  t.iat = clock_.Now();
  EXPECT_OK(verifier->Verify(Mint(t)));
  // jwks_ttl + stale_keys_max after the fetch: no keys any more.
  clock_.Set(kStart + absl::Seconds(10) + absl::Minutes(65));
  t.iat = clock_.Now();
  ExpectRefused(*verifier, Mint(t), absl::StatusCode::kUnavailable, "unavailable");
  // Back up: verifies again (after the failure cooldown).
  server_.SetDown(false);
  clock_.Advance(absl::Seconds(30));
  t.iat = clock_.Now();
  EXPECT_OK(verifier->Verify(Mint(t)));
}

TEST_F(TokenVerifierTest, NoKeysObtainableIsUnavailable) {
  server_.SetDown(true);
  auto verifier = NewVerifier();
  ExpectRefused(*verifier, Mint(), absl::StatusCode::kUnavailable, "HTTP 503");
  // A JWKS without usable keys is no better.
  server_.SetDown(false);
  server_.SetJwks(R"({"keys":[]})");
  clock_.Advance(absl::Seconds(30));
  ExpectRefused(*verifier, Mint(), absl::StatusCode::kUnavailable, "no usable verification key");
}

TEST_F(TokenVerifierTest, JwksUriSkipsDiscoveryAndStaticJwksFetchesNothing) {
  TokenVerifierOptions options = Options();
  options.jwks_uri = server_.issuer() + "/jwks";
  auto direct = NewVerifier(options);
  EXPECT_OK(direct->Verify(Mint()));
  EXPECT_EQ(server_.discovery_requests(), 0);
  EXPECT_EQ(server_.jwks_requests(), 1);

  options = Options();
  options.issuer_url = "https://writ.acme.example";
  options.static_jwks = JwksOf({signer_.get()});
  auto offline = NewVerifier(options);
  TokenSpec t = Spec();
  t.iss = "https://writ.acme.example";
  EXPECT_OK(offline->Verify(Mint(t)));
  // A rotated key is unknown to a static JWKS for good.
  auto next = NewSigner("key-2");
  absl::StatusOr<VerifiedToken> got = offline->Verify(Sign(*next, t));
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("static"));
  EXPECT_EQ(server_.jwks_requests(), 1);
}

TEST_F(TokenVerifierTest, ReadsTheAuthorizationHeader) {
  auto verifier = NewVerifier();
  const std::string token = Mint();
  EXPECT_OK(verifier->VerifyAuthorizationHeader("Bearer " + token));
  EXPECT_OK(verifier->VerifyAuthorizationHeader("bearer " + token));
  EXPECT_OK(verifier->VerifyAuthorizationHeader(" BEARER   " + token + " "));
  const std::vector<std::string> admin = {"admin"};
  EXPECT_EQ(verifier->VerifyAuthorizationHeader("Bearer " + token, admin).status().code(),
            absl::StatusCode::kPermissionDenied);
  for (const std::string& header :
       {std::string(""), std::string("Bearer"), std::string("Bearer "), "Basic " + token,
        "Bearertoken" + token, token, "Bearer " + token + " extra"}) {
    absl::StatusOr<VerifiedToken> got = verifier->VerifyAuthorizationHeader(header);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated) << header;
    EXPECT_THAT(std::string(got.status().message()), ::testing::Not(HasSubstr(token)));
  }
}

TEST_F(TokenVerifierTest, NewRefusesBadOptions) {
  auto refused = [](TokenVerifierOptions options, absl::string_view field) {
    absl::StatusOr<std::unique_ptr<TokenVerifier>> got = TokenVerifier::New(std::move(options));
    ASSERT_FALSE(got.ok()) << field;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string(field)));
  };
  TokenVerifierOptions o = Options();
  o.issuer_url = "";
  refused(o, "issuer_url");
  o.issuer_url = "http://writ.acme.example";  // http only on loopback
  refused(o, "issuer_url");
  o = Options();
  o.audience = "";
  refused(o, "audience");
  o = Options();
  o.leeway = absl::Seconds(61);
  refused(o, "leeway");
  o.leeway = -absl::Seconds(1);
  refused(o, "leeway");
  o = Options();
  o.expected_type = "";
  refused(o, "expected_type");
  o = Options();
  o.required_scopes = {"read write"};
  refused(o, "required_scopes");
  o = Options();
  o.jwks_uri = "http://keys.example/jwks";
  refused(o, "jwks_uri");
  o = Options();
  o.static_jwks = "{";
  refused(o, "static_jwks");
  o = Options();
  o.jwks_ttl = absl::ZeroDuration();
  refused(o, "jwks_ttl");
  o = Options();
  o.max_token_bytes = 0;
  refused(o, "max_token_bytes");
}

}  // namespace
}  // namespace writ

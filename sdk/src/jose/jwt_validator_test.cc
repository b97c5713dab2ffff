#include "writ/jose/jwt_validator.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/jose/jose_test_util.h"
#include "writ/base/clock.h"
#include "writ/jose/signer.h"

namespace writ {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::string_view kIssuer = "https://token.actions.githubusercontent.com";
constexpr absl::string_view kAudience = "https://writ.example";
// 2023-11-14T22:13:20Z, a round number to build times from.
constexpr int64_t kNow = 1700000000;

const PrivateKeySigner& Signer() {
  static const PrivateKeySigner* signer =
      jose_test::NewSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "gha-key").release();
  return *signer;
}

class JwtValidatorTest : public ::testing::Test {
 protected:
  JwtValidatorTest()
      : clock_(absl::FromUnixSeconds(kNow)), keys_(jose_test::SetOf({Signer().public_jwk()})) {
    options_.issuer = std::string(kIssuer);
    options_.audiences = {std::string(kAudience)};
  }

  // Claims with the expected issuer and audience plus `extra` members.
  static std::string Claims(absl::string_view extra) {
    return absl::StrCat(R"({"iss":")", kIssuer, R"(","aud":")", kAudience, "\"",
                        extra.empty() ? "" : ",", extra, "}");
  }
  static std::string Exp(int64_t exp) { return absl::StrCat(R"("exp":)", exp); }

  // Token signs `claims` with header typ `type` ("" leaves it out).
  static std::string Token(absl::string_view claims, absl::string_view type = "JWT") {
    auto token = SignCompactJws(Signer(), type, claims);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  // Check builds a validator from options_ and verifies `token` at `now`.
  absl::Status Check(absl::string_view token, int64_t now = kNow) {
    clock_.Set(absl::FromUnixSeconds(now));
    auto validator = JwtValidator::New(options_, &clock_);
    EXPECT_TRUE(validator.ok()) << validator.status();
    if (!validator.ok()) return validator.status();
    return validator->Verify(token, keys_).status();
  }

  FakeClock clock_;
  JwkSet keys_;
  JwtValidatorOptions options_;
};

void ExpectUnauthenticated(const absl::Status& status, absl::string_view substr) {
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(substr));
}

TEST_F(JwtValidatorTest, AcceptsValidToken) {
  auto validator = JwtValidator::New(options_, &clock_);
  ASSERT_TRUE(validator.ok());
  auto jwt = validator->Verify(
      Token(Claims(absl::StrCat(Exp(kNow + 300), R"(,"iat":1700000000,"sub":"repo:a/b")"))), keys_);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->claims.subject(), "repo:a/b");
  EXPECT_EQ(jwt->jws.kid(), "gha-key");
  EXPECT_EQ(jwt->jws.type(), "JWT");
}

// --- exp -------------------------------------------------------------------

TEST_F(JwtValidatorTest, RejectsTokenExpiringExactlyNow) {
  options_.leeway = absl::ZeroDuration();
  const std::string token = Token(Claims(Exp(kNow)));
  ExpectUnauthenticated(Check(token, kNow), "token expired at 2023-11-14T22:13:20Z");
  EXPECT_TRUE(Check(token, kNow - 1).ok());
}

TEST_F(JwtValidatorTest, RejectsTokenExpiringExactlyAtLeewayEnd) {
  options_.leeway = absl::Seconds(60);
  const std::string token = Token(Claims(Exp(kNow)));
  EXPECT_TRUE(Check(token, kNow).ok());
  EXPECT_TRUE(Check(token, kNow + 59).ok());
  ExpectUnauthenticated(Check(token, kNow + 60), "token expired");
}

TEST_F(JwtValidatorTest, DefaultLeewayIsSixtySeconds) {
  EXPECT_EQ(JwtValidatorOptions().leeway, absl::Seconds(60));
  const std::string token = Token(Claims(Exp(kNow)));
  EXPECT_TRUE(Check(token, kNow + 59).ok());
  ExpectUnauthenticated(Check(token, kNow + 60), "token expired");
}

TEST_F(JwtValidatorTest, RejectsSubSecondPastExpiry) {
  options_.leeway = absl::ZeroDuration();
  const std::string token = Token(Claims(R"("exp":1700000000.5)"));
  clock_.Set(absl::FromUnixMillis(1700000000499));
  auto validator = JwtValidator::New(options_, &clock_);
  ASSERT_TRUE(validator.ok());
  EXPECT_TRUE(validator->Verify(token, keys_).ok());
  clock_.Set(absl::FromUnixMillis(1700000000500));
  ExpectUnauthenticated(validator->Verify(token, keys_).status(), "token expired");
}

TEST_F(JwtValidatorTest, RejectsTokenWithoutExp) {
  ExpectUnauthenticated(Check(Token(Claims(R"("iat":1700000000)"))), "token has no \"exp\"");
}

// --- nbf -------------------------------------------------------------------

TEST_F(JwtValidatorTest, RejectsNotBeforeInTheFutureBeyondLeeway) {
  options_.leeway = absl::Seconds(60);
  const std::string token = Token(Claims(absl::StrCat(Exp(kNow + 3600), R"(,"nbf":)", kNow + 100)));
  ExpectUnauthenticated(Check(token, kNow + 39), "token is not valid before 2023-11-14T22:15:00Z");
  EXPECT_TRUE(Check(token, kNow + 40).ok());   // exactly nbf - leeway
  EXPECT_TRUE(Check(token, kNow + 100).ok());  // exactly nbf
}

TEST_F(JwtValidatorTest, NotBeforeWithoutLeewayIsInclusive) {
  options_.leeway = absl::ZeroDuration();
  const std::string token = Token(Claims(absl::StrCat(Exp(kNow + 3600), R"(,"nbf":)", kNow)));
  ExpectUnauthenticated(Check(token, kNow - 1), "not valid before");
  EXPECT_TRUE(Check(token, kNow).ok());
}

// --- iat -------------------------------------------------------------------

TEST_F(JwtValidatorTest, RejectsIssuedAtInTheFutureBeyondLeeway) {
  options_.leeway = absl::Seconds(30);
  const std::string token = Token(Claims(absl::StrCat(Exp(kNow + 3600), R"(,"iat":)", kNow + 31)));
  ExpectUnauthenticated(Check(token, kNow), "token is issued in the future");
  EXPECT_TRUE(Check(token, kNow + 1).ok());
  EXPECT_TRUE(
      Check(Token(Claims(absl::StrCat(Exp(kNow + 3600), R"(,"iat":)", kNow + 30))), kNow).ok());
}

// --- iss -------------------------------------------------------------------

TEST_F(JwtValidatorTest, RejectsIssuerMismatch) {
  for (absl::string_view iss :
       {"https://token.actions.githubusercontent.com/",
        "https://TOKEN.actions.githubusercontent.com", "http://token.actions.githubusercontent.com",
        "https://token.actions.githubusercontent.com.evil.example", ""}) {
    SCOPED_TRACE(iss);
    const std::string claims =
        absl::StrCat(R"({"iss":")", iss, R"(","aud":")", kAudience, R"(",)", Exp(kNow + 60), "}");
    ExpectUnauthenticated(Check(Token(claims)), "token \"iss\" is not the expected issuer");
  }
  const std::string no_iss = absl::StrCat(R"({"aud":")", kAudience, R"(",)", Exp(kNow + 60), "}");
  ExpectUnauthenticated(Check(Token(no_iss)), "\"iss\"");
}

// --- aud -------------------------------------------------------------------

TEST_F(JwtValidatorTest, AcceptsAudienceAsString) {
  EXPECT_TRUE(Check(Token(Claims(Exp(kNow + 60)))).ok());
}

TEST_F(JwtValidatorTest, AcceptsAudienceArrayContainingAnAcceptedOne) {
  options_.audiences = {"https://other.example", std::string(kAudience)};
  const std::string claims =
      absl::StrCat(R"({"iss":")", kIssuer, R"(","aud":["https://x.example",")", kAudience, R"("],)",
                   Exp(kNow + 60), "}");
  EXPECT_TRUE(Check(Token(claims)).ok());
}

TEST_F(JwtValidatorTest, RejectsAudienceThatMatchesNone) {
  for (absl::string_view aud :
       {R"("https://other.example")", R"(["https://a.example","https://b.example"])", "[]",
        R"("https://writ.example/")", R"("HTTPS://WRIT.EXAMPLE")"}) {
    SCOPED_TRACE(aud);
    const std::string claims =
        absl::StrCat(R"({"iss":")", kIssuer, R"(","aud":)", aud, ",", Exp(kNow + 60), "}");
    ExpectUnauthenticated(Check(Token(claims)),
                          "token \"aud\" names none of the accepted audiences");
  }
  const std::string no_aud = absl::StrCat(R"({"iss":")", kIssuer, R"(",)", Exp(kNow + 60), "}");
  ExpectUnauthenticated(Check(Token(no_aud)), "\"aud\"");
}

TEST_F(JwtValidatorTest, IgnoreAudienceSkipsTheCheck) {
  options_.audiences.clear();
  options_.ignore_audience = true;
  const std::string claims = absl::StrCat(R"({"iss":")", kIssuer, R"(",)", Exp(kNow + 60), "}");
  EXPECT_TRUE(Check(Token(claims)).ok());
}

// --- typ -------------------------------------------------------------------

TEST_F(JwtValidatorTest, ExpectedTypeIgnoresCaseAndApplicationPrefix) {
  const std::string claims = Claims(Exp(kNow + 60));
  options_.expected_type = "JWT";
  for (absl::string_view typ :
       {"JWT", "jwt", "Jwt", "application/jwt", "Application/JWT", "APPLICATION/JWT"}) {
    SCOPED_TRACE(typ);
    EXPECT_TRUE(Check(Token(claims, typ)).ok());
  }
  options_.expected_type = "application/at+jwt";
  EXPECT_TRUE(Check(Token(claims, "at+jwt")).ok());
  EXPECT_TRUE(Check(Token(claims, "application/AT+JWT")).ok());
}

TEST_F(JwtValidatorTest, RejectsUnexpectedType) {
  const std::string claims = Claims(Exp(kNow + 60));
  options_.expected_type = "JWT";
  for (absl::string_view typ : {"at+jwt", "JWS", "application/", "JWT ", "xapplication/jwt",
                                "application/application/jwt"}) {
    SCOPED_TRACE(typ);
    ExpectUnauthenticated(Check(Token(claims, typ)), "expected \"JWT\"");
  }
  ExpectUnauthenticated(Check(Token(claims, "")), "token \"typ\" is \"\", expected \"JWT\"");
}

TEST_F(JwtValidatorTest, TypeMismatchMessageNeverEchoesControlBytes) {
  options_.expected_type = "JWT";
  // SignCompactJws refuses such a "typ", so the header is signed by hand.
  const std::string header =
      absl::StrCat(R"({"alg":"ES256","kid":")", Signer().kid(), R"(","typ":"x\r\nForged: yes"})");
  ExpectUnauthenticated(Check(jose_test::SignToken(Signer(), header, Claims(Exp(kNow + 60)))),
                        "token \"typ\" is \"x??Forged: yes\", expected \"JWT\"");
}

TEST_F(JwtValidatorTest, AnyTypeWhenNoneExpected) {
  const std::string claims = Claims(Exp(kNow + 60));
  EXPECT_TRUE(Check(Token(claims, "")).ok());
  EXPECT_TRUE(Check(Token(claims, "whatever")).ok());
}

// --- max_lifetime ----------------------------------------------------------

TEST_F(JwtValidatorTest, RejectsLifetimeOverMax) {
  options_.max_lifetime = absl::Minutes(10);
  EXPECT_TRUE(Check(Token(Claims(absl::StrCat(Exp(kNow + 600), R"(,"iat":)", kNow)))).ok());
  ExpectUnauthenticated(Check(Token(Claims(absl::StrCat(Exp(kNow + 601), R"(,"iat":)", kNow)))),
                        "token lifetime exceeds 10m");
}

TEST_F(JwtValidatorTest, LifetimeWithoutIatCountsFromNow) {
  options_.max_lifetime = absl::Minutes(10);
  const std::string token = Token(Claims(Exp(kNow + 700)));
  ExpectUnauthenticated(Check(token, kNow), "lifetime exceeds");
  EXPECT_TRUE(Check(token, kNow + 100).ok());
}

// --- JwtValidator::New -----------------------------------------------------

absl::Status NewStatus(const JwtValidatorOptions& options) {
  FakeClock clock(absl::FromUnixSeconds(kNow));
  return JwtValidator::New(options, &clock).status();
}

JwtValidatorOptions ValidOptions() {
  JwtValidatorOptions options;
  options.issuer = std::string(kIssuer);
  options.audiences = {std::string(kAudience)};
  return options;
}

TEST(JwtValidatorNewTest, AcceptsValidOptions) { EXPECT_TRUE(NewStatus(ValidOptions()).ok()); }

TEST(JwtValidatorNewTest, RejectsEmptyIssuer) {
  JwtValidatorOptions options = ValidOptions();
  options.issuer.clear();
  const absl::Status status = NewStatus(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("needs an issuer"));
}

TEST(JwtValidatorNewTest, RejectsNoAudienceUnlessIgnored) {
  JwtValidatorOptions options = ValidOptions();
  options.audiences.clear();
  const absl::Status status = NewStatus(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("at least one accepted audience"));
  options.ignore_audience = true;
  EXPECT_TRUE(NewStatus(options).ok());
}

TEST(JwtValidatorNewTest, RejectsLeewayOverSixtySeconds) {
  JwtValidatorOptions options = ValidOptions();
  options.leeway = absl::Seconds(60);
  EXPECT_TRUE(NewStatus(options).ok());
  options.leeway = absl::Seconds(60) + absl::Nanoseconds(1);
  EXPECT_EQ(NewStatus(options).code(), absl::StatusCode::kInvalidArgument);
  options.leeway = absl::Seconds(61);
  const absl::Status status = NewStatus(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("leeway must be between 0 and 1m"));
  options.leeway = absl::InfiniteDuration();
  EXPECT_EQ(NewStatus(options).code(), absl::StatusCode::kInvalidArgument);
}

TEST(JwtValidatorNewTest, RejectsNegativeLeeway) {
  JwtValidatorOptions options = ValidOptions();
  options.leeway = absl::ZeroDuration();
  EXPECT_TRUE(NewStatus(options).ok());
  options.leeway = -absl::Nanoseconds(1);
  EXPECT_EQ(NewStatus(options).code(), absl::StatusCode::kInvalidArgument);
  options.leeway = -absl::InfiniteDuration();
  EXPECT_EQ(NewStatus(options).code(), absl::StatusCode::kInvalidArgument);
}

TEST(JwtValidatorNewTest, RejectsNonPositiveMaxLifetime) {
  JwtValidatorOptions options = ValidOptions();
  options.max_lifetime = absl::ZeroDuration();
  EXPECT_EQ(NewStatus(options).code(), absl::StatusCode::kInvalidArgument);
  options.max_lifetime = absl::Seconds(-1);
  EXPECT_EQ(NewStatus(options).code(), absl::StatusCode::kInvalidArgument);
  options.max_lifetime = absl::Seconds(1);
  EXPECT_TRUE(NewStatus(options).ok());
}

TEST(JwtValidatorNewTest, NullClockMeansSystemClock) {
  auto validator = JwtValidator::New(ValidOptions());
  ASSERT_TRUE(validator.ok());
  const JwkSet keys = jose_test::SetOf({Signer().public_jwk()});
  // Expired long ago by any real clock; valid until 9999 by any real clock.
  auto old_token = SignCompactJws(
      Signer(), "JWT",
      absl::StrCat(R"({"iss":")", kIssuer, R"(","aud":")", kAudience, R"(","exp":1000000000})"));
  auto new_token = SignCompactJws(
      Signer(), "JWT",
      absl::StrCat(R"({"iss":")", kIssuer, R"(","aud":")", kAudience, R"(","exp":253402300799})"));
  ASSERT_TRUE(old_token.ok() && new_token.ok());
  EXPECT_EQ(validator->Verify(*old_token, keys).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(validator->Verify(*new_token, keys).ok());
}

// --- status codes of Verify ------------------------------------------------

TEST_F(JwtValidatorTest, MalformedTokenIsInvalidArgument) {
  EXPECT_EQ(Check("not.a.token").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check("").code(), absl::StatusCode::kInvalidArgument);
  // A JWS whose payload is not a claims set is not a JWT.
  EXPECT_EQ(Check(Token("not json")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Check(Token(R"({"exp":"tomorrow"})")).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(JwtValidatorTest, UnknownKidIsNotFound) {
  auto other = jose_test::NewSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "other-key");
  auto token = SignCompactJws(*other, "JWT", Claims(Exp(kNow + 60)));
  ASSERT_TRUE(token.ok());
  const absl::Status status = Check(*token);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr("other-key"));
}

TEST_F(JwtValidatorTest, BadSignatureIsUnauthenticated) {
  std::string token = Token(Claims(Exp(kNow + 60)));
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(Check(token), "does not verify");
}

TEST_F(JwtValidatorTest, SignatureIsCheckedBeforeClaims) {
  // An expired token with a bad signature reports the signature.
  std::string token = Token(Claims(Exp(kNow - 3600)));
  token[token.size() - 5] = token[token.size() - 5] == 'A' ? 'B' : 'A';
  ExpectUnauthenticated(Check(token), "does not verify");
}

TEST_F(JwtValidatorTest, UsesParseOptions) {
  const std::string token = Token(Claims(Exp(kNow + 60)));
  options_.parse.max_token_bytes = token.size() - 1;
  EXPECT_EQ(Check(token).code(), absl::StatusCode::kInvalidArgument);
}

// --- ParseJwt and Check ----------------------------------------------------

TEST_F(JwtValidatorTest, ParseJwtReadsWithoutVerifying) {
  // Expired and signed by an unknown key: parsing alone does not care.
  auto other = jose_test::NewSigner(KeySpec::kEcP256, JwsAlgorithm::kEs256, "other-key");
  auto token = SignCompactJws(*other, "JWT", Claims(absl::StrCat(Exp(1), R"(,"sub":"s")")));
  ASSERT_TRUE(token.ok());
  auto jwt = ParseJwt(*token);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->claims.issuer(), kIssuer);
  EXPECT_THAT(jwt->claims.audiences(), ElementsAre(kAudience));
  EXPECT_EQ(jwt->jws.kid(), "other-key");
}

TEST_F(JwtValidatorTest, CheckVerifiesAParsedToken) {
  auto validator = JwtValidator::New(options_, &clock_);
  ASSERT_TRUE(validator.ok());
  auto good = ParseJwt(Token(Claims(Exp(kNow + 60))));
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(validator->Check(*std::move(good), keys_).ok());
  auto expired = ParseJwt(Token(Claims(Exp(kNow - 3600))));
  ASSERT_TRUE(expired.ok());
  ExpectUnauthenticated(validator->Check(*std::move(expired), keys_).status(), "expired");
}

TEST_F(JwtValidatorTest, ClockIsReadAtEachVerify) {
  auto validator = JwtValidator::New(options_, &clock_);
  ASSERT_TRUE(validator.ok());
  const std::string token = Token(Claims(Exp(kNow + 60)));
  EXPECT_TRUE(validator->Verify(token, keys_).ok());
  clock_.Advance(absl::Seconds(119));
  EXPECT_TRUE(validator->Verify(token, keys_).ok());
  clock_.Advance(absl::Seconds(1));
  ExpectUnauthenticated(validator->Verify(token, keys_).status(), "expired");
}

TEST_F(JwtValidatorTest, VerifiesConcurrently) {
  // One validator and key set shared by many threads, as a server does.
  auto validator = JwtValidator::New(options_, &clock_);
  ASSERT_TRUE(validator.ok());
  const std::string good = Token(Claims(Exp(kNow + 60)));
  std::string bad = good;
  bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (!validator->Verify(good, keys_).ok()) ++wrong;
        if (validator->Verify(bad, keys_).ok()) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace writ

namespace writ {
namespace {

TEST(JwtValidatorCheckTest, RefusesClaimsSwappedAfterParsing) {
  FakeClock clock(absl::FromUnixSeconds(1900000000));
  auto signer = PrivateKeySigner::New(*GenerateKey(KeySpec::kEcP256), JwsAlgorithm::kEs256);
  ASSERT_TRUE(signer.ok());
  auto token = SignCompactJws(**signer, "JWT",
                              R"({"iss":"https://i","aud":"a","sub":"alice","exp":1900000060})");
  ASSERT_TRUE(token.ok());
  auto jwt = ParseJwt(*token);
  ASSERT_TRUE(jwt.ok());
  auto forged = JwtClaims::Parse(R"({"iss":"https://i","aud":"a","sub":"admin","exp":1900000060})");
  ASSERT_TRUE(forged.ok());
  JwtValidatorOptions options;
  options.issuer = "https://i";
  options.audiences = {"a"};
  auto validator = JwtValidator::New(options, &clock);
  ASSERT_TRUE(validator.ok());
  auto keys = JwkSet::FromKeys({(*signer)->public_jwk()});
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(validator->Check(*jwt, *keys).ok());
  jwt->claims = *forged;
  auto result = validator->Check(*std::move(jwt), *keys);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(JwtValidatorCheckTest, ApplicationPrefixIsOptionalOnlyForSimpleTypes) {
  FakeClock clock(absl::FromUnixSeconds(1900000000));
  auto signer = PrivateKeySigner::New(*GenerateKey(KeySpec::kEcP256), JwsAlgorithm::kEs256);
  ASSERT_TRUE(signer.ok());
  auto keys = JwkSet::FromKeys({(*signer)->public_jwk()});
  ASSERT_TRUE(keys.ok());
  JwtValidatorOptions options;
  options.issuer = "https://i";
  options.audiences = {"a"};
  options.expected_type = "at+jwt";
  auto validator = JwtValidator::New(options, &clock);
  ASSERT_TRUE(validator.ok());
  const std::string claims = R"({"iss":"https://i","aud":"a","exp":1900000060})";
  EXPECT_TRUE(
      validator->Verify(*SignCompactJws(**signer, "application/at+jwt", claims), *keys).ok());
  // "application/x/at+jwt" is not "at+jwt" with a prefix: RFC 7515 section 4.1.9
  // drops "application/" only when no other "/" follows.
  EXPECT_FALSE(
      validator->Verify(*SignCompactJws(**signer, "application/x/at+jwt", claims), *keys).ok());
}

}  // namespace
}  // namespace writ

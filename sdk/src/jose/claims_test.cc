#include "writ/jose/claims.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/jose/jose_test_util.h"

namespace writ {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

JwtClaims MustParse(absl::string_view json) {
  auto claims = JwtClaims::Parse(json);
  EXPECT_TRUE(claims.ok()) << claims.status();
  if (!claims.ok()) std::abort();
  return *std::move(claims);
}

// ExpectRefused expects kInvalidArgument with `substr` in the message.
void ExpectRefused(absl::string_view json, absl::string_view substr) {
  auto claims = JwtClaims::Parse(json);
  ASSERT_FALSE(claims.ok()) << "accepted: " << json;
  EXPECT_EQ(claims.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(claims.status().message()), HasSubstr(substr));
}

TEST(JwtClaimsTest, ReadsRegisteredClaims) {
  const JwtClaims claims = MustParse(
      R"({"iss":"https://token.actions.githubusercontent.com",)"
      R"("sub":"repo:octo/hello:ref:refs/heads/main","aud":"https://writ.example","jti":"b2f1",)"
      R"("exp":1700000600,"nbf":1700000000,"iat":1700000001})");
  EXPECT_EQ(claims.issuer(), "https://token.actions.githubusercontent.com");
  EXPECT_EQ(claims.subject(), "repo:octo/hello:ref:refs/heads/main");
  EXPECT_EQ(claims.jwt_id(), "b2f1");
  EXPECT_THAT(claims.audiences(), ElementsAre("https://writ.example"));
  EXPECT_THAT(claims.expires_at(), Optional(absl::FromUnixSeconds(1700000600)));
  EXPECT_THAT(claims.not_before(), Optional(absl::FromUnixSeconds(1700000000)));
  EXPECT_THAT(claims.issued_at(), Optional(absl::FromUnixSeconds(1700000001)));
}

TEST(JwtClaimsTest, AbsentClaimsAreEmpty) {
  const JwtClaims claims = MustParse("{}");
  EXPECT_EQ(claims.issuer(), "");
  EXPECT_EQ(claims.subject(), "");
  EXPECT_EQ(claims.jwt_id(), "");
  EXPECT_THAT(claims.audiences(), IsEmpty());
  EXPECT_EQ(claims.expires_at(), std::nullopt);
  EXPECT_EQ(claims.not_before(), std::nullopt);
  EXPECT_EQ(claims.issued_at(), std::nullopt);
}

TEST(JwtClaimsTest, ReadsAudienceArray) {
  EXPECT_THAT(MustParse(R"({"aud":["a","b","c"]})").audiences(), ElementsAre("a", "b", "c"));
  EXPECT_THAT(MustParse(R"({"aud":[]})").audiences(), IsEmpty());
}

TEST(JwtClaimsTest, JsonReturnsInputVerbatim) {
  const std::string json = "{ \"sub\" : \"x\" ,\r\n \"exp\":1 }\n";
  EXPECT_EQ(MustParse(json).json(), json);
}

TEST(JwtClaimsTest, RefusesStringClaimsOfWrongType) {
  ExpectRefused(R"({"iss":1})", "claim \"iss\" is not a string");
  ExpectRefused(R"({"iss":null})", "claim \"iss\" is not a string");
  ExpectRefused(R"({"sub":true})", "claim \"sub\" is not a string");
  ExpectRefused(R"({"sub":["x"]})", "claim \"sub\" is not a string");
  ExpectRefused(R"({"jti":7})", "claim \"jti\" is not a string");
}

TEST(JwtClaimsTest, RefusesAudienceOfWrongType) {
  ExpectRefused(R"({"aud":["a",1]})", "claim \"aud\" holds a non-string");
  ExpectRefused(R"({"aud":["a",null]})", "claim \"aud\" holds a non-string");
  ExpectRefused(R"({"aud":[["a"]]})", "claim \"aud\" holds a non-string");
  ExpectRefused(R"({"aud":1})", "claim \"aud\" is neither a string nor an array");
  ExpectRefused(R"({"aud":{"a":1}})", "claim \"aud\" is neither a string nor an array");
  ExpectRefused(R"({"aud":null})", "claim \"aud\" is neither a string nor an array");
}

TEST(JwtClaimsTest, RefusesTimesOfWrongType) {
  for (absl::string_view name : {"exp", "nbf", "iat"}) {
    SCOPED_TRACE(name);
    for (absl::string_view value : {R"("1700000000")", "true", "null", "[1]", "{}"}) {
      ExpectRefused(absl::StrCat("{\"", name, "\":", value, "}"),
                    absl::StrCat("claim \"", name, "\" is not a number"));
    }
  }
}

TEST(JwtClaimsTest, RefusesNegativeTimes) {
  for (absl::string_view name : {"exp", "nbf", "iat"}) {
    SCOPED_TRACE(name);
    ExpectRefused(absl::StrCat("{\"", name, "\":-1}"), "out of range");
    ExpectRefused(absl::StrCat("{\"", name, "\":-0.5}"), "out of range");
    ExpectRefused(absl::StrCat("{\"", name, "\":-9223372036854775808}"), "out of range");
  }
}

TEST(JwtClaimsTest, AcceptsTimesUpToTheEndOfYear9999) {
  EXPECT_THAT(
      MustParse(R"({"exp":253402300799})").expires_at(),
      Optional(absl::FromCivil(absl::CivilSecond(9999, 12, 31, 23, 59, 59), absl::UTCTimeZone())));
  EXPECT_THAT(MustParse(R"({"exp":0})").expires_at(), Optional(absl::UnixEpoch()));
}

TEST(JwtClaimsTest, RefusesTimesAfterYear9999) {
  for (absl::string_view value : {"253402300800", "253402300799.5", "1e300", "18446744073709551615",
                                  "9223372036854775807", "1e400"}) {
    SCOPED_TRACE(value);
    auto claims = JwtClaims::Parse(absl::StrCat(R"({"exp":)", value, "}"));
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(JwtClaimsTest, ReadsFractionalTimes) {
  EXPECT_THAT(MustParse(R"({"iat":1700000000.25})").issued_at(),
              Optional(absl::FromUnixMillis(1700000000250)));
  EXPECT_THAT(MustParse(R"({"nbf":1.5e9})").not_before(),
              Optional(absl::FromUnixSeconds(1500000000)));
}

TEST(JwtClaimsTest, GetStringReadsTopLevelStrings) {
  const JwtClaims claims =
      MustParse(R"({"repository":"octo/hello","run_id":"42","n":42,"b":true,"o":{"k":"v"}})");
  EXPECT_THAT(claims.GetString("repository"), Optional(absl::string_view("octo/hello")));
  EXPECT_THAT(claims.GetString("run_id"), Optional(absl::string_view("42")));
  EXPECT_EQ(claims.GetString("n"), std::nullopt);
  EXPECT_EQ(claims.GetString("o"), std::nullopt);
  EXPECT_EQ(claims.GetString("missing"), std::nullopt);
}

TEST(JwtClaimsTest, GetStringKeepsEmbeddedNul) {
  const JwtClaims claims = MustParse(R"({"s":"a\u0000b"})");
  ASSERT_TRUE(claims.GetString("s").has_value());
  EXPECT_EQ(*claims.GetString("s"), absl::string_view("a\0b", 3));
}

TEST(JwtClaimsTest, GetStringAtFollowsNestedObjects) {
  const JwtClaims claims = MustParse(
      R"({"ctx":{"repo":{"owner":"octo","name":"hello","ids":["1"]},"ref":"main"},"top":"t"})");
  EXPECT_THAT(claims.GetStringAt({"ctx", "repo", "owner"}), Optional(absl::string_view("octo")));
  EXPECT_THAT(claims.GetStringAt({"ctx", "ref"}), Optional(absl::string_view("main")));
  EXPECT_THAT(claims.GetStringAt({"top"}), Optional(absl::string_view("t")));
  EXPECT_EQ(claims.GetStringAt({"ctx", "repo"}), std::nullopt);              // an object
  EXPECT_EQ(claims.GetStringAt({"ctx", "repo", "ids"}), std::nullopt);       // an array
  EXPECT_EQ(claims.GetStringAt({"ctx", "missing"}), std::nullopt);           // absent
  EXPECT_EQ(claims.GetStringAt({"top", "deeper"}), std::nullopt);            // through a string
  EXPECT_EQ(claims.GetStringAt({"ctx", "repo", "ids", "0"}), std::nullopt);  // no array index
  EXPECT_EQ(claims.GetStringAt({}), std::nullopt);                           // the root object
}

TEST(JwtClaimsTest, GetInt64ReadsIntegersOnly) {
  const JwtClaims claims = MustParse(
      R"({"i":42,"neg":-7,"big":9223372036854775807,"huge":18446744073709551615,"f":1.5,"s":"1"})");
  EXPECT_THAT(claims.GetInt64("i"), Optional(42));
  EXPECT_THAT(claims.GetInt64("neg"), Optional(-7));
  EXPECT_THAT(claims.GetInt64("big"), Optional(INT64_MAX));
  EXPECT_EQ(claims.GetInt64("huge"), std::nullopt);
  EXPECT_EQ(claims.GetInt64("f"), std::nullopt);
  EXPECT_EQ(claims.GetInt64("s"), std::nullopt);
  EXPECT_EQ(claims.GetInt64("missing"), std::nullopt);
}

TEST(JwtClaimsTest, GetBoolAndHas) {
  const JwtClaims claims = MustParse(R"({"t":true,"f":false,"n":null,"s":"true"})");
  EXPECT_THAT(claims.GetBool("t"), Optional(true));
  EXPECT_THAT(claims.GetBool("f"), Optional(false));
  EXPECT_EQ(claims.GetBool("s"), std::nullopt);
  EXPECT_EQ(claims.GetBool("n"), std::nullopt);
  EXPECT_TRUE(claims.Has("n"));
  EXPECT_TRUE(claims.Has("s"));
  EXPECT_FALSE(claims.Has("missing"));
}

TEST(JwtClaimsTest, CopiesOutliveTheOriginal) {
  std::optional<JwtClaims> copy;
  {
    const JwtClaims claims = MustParse(R"({"sub":"x","o":{"k":"v"}})");
    copy = claims;
  }
  EXPECT_EQ(copy->subject(), "x");
  EXPECT_THAT(copy->GetStringAt({"o", "k"}), Optional(absl::string_view("v")));
}

// --- strict JSON -----------------------------------------------------------

std::string Nested(int levels) {
  // The claims object is level 1; each "a" adds one.
  std::string json;
  for (int i = 1; i < levels; ++i) json += R"({"a":)";
  json += "{}";
  for (int i = 1; i < levels; ++i) json += "}";
  return json;
}

TEST(JwtClaimsTest, AcceptsSixteenLevelsOfNesting) {
  EXPECT_TRUE(JwtClaims::Parse(Nested(16)).ok());
}

TEST(JwtClaimsTest, RefusesNestingDeeperThanSixteen) {
  ExpectRefused(Nested(17), "JWT claims nests deeper than 16 levels");
  ExpectRefused(Nested(1000), "nests deeper");
}

TEST(JwtClaimsTest, RefusesInvalidUtf8) {
  for (absl::string_view bytes :
       {"\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf8\x88\x80\x80\x80"}) {
    SCOPED_TRACE(absl::CEscape(bytes));
    ExpectRefused(absl::StrCat(R"({"sub":")", bytes, "\"}"), "not valid JSON");
    ExpectRefused(absl::StrCat(R"({")", bytes, R"(":"x"})"), "not valid JSON");
  }
}

TEST(JwtClaimsTest, RefusesEscapedLoneSurrogate) {
  // "\udc00" would decode to bytes that are not UTF-8 and then flow into a
  // certificate or a log line.
  ExpectRefused(R"({"sub":"repo:\udc00"})", "not valid JSON");
  ExpectRefused(R"({"sub":"\ud800"})", "not valid JSON");
  // A proper pair is fine.
  EXPECT_EQ(MustParse(R"({"sub":"\ud83d\udd11"})").subject(), "\xf0\x9f\x94\x91");
}

TEST(JwtClaimsTest, RefusesDuplicateClaims) {
  ExpectRefused(R"({"sub":"a","sub":"admin"})", "JWT claims has a duplicate member \"sub\"");
  ExpectRefused(R"({"exp":1,"exp":99999999999})", "duplicate member \"exp\"");
}

TEST(JwtClaimsTest, RefusesTrailingBytes) {
  ExpectRefused(R"({"sub":"a"}{"sub":"b"})", "JWT claims is not valid JSON");
  ExpectRefused(jose_test::Bytes("{\"sub\":\"a\"}\0"), "JWT claims is not valid JSON");
}

TEST(JwtClaimsTest, RefusesRootThatIsNotAnObject) {
  for (absl::string_view json : {"[]", R"("sub")", "1", "null", ""}) {
    SCOPED_TRACE(json);
    auto claims = JwtClaims::Parse(json);
    ASSERT_FALSE(claims.ok());
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace writ

namespace writ {
namespace {
TEST(JwtClaimsDefaultTest, DefaultConstructedIsTheEmptySet) {
  JwtClaims claims;
  EXPECT_EQ(claims.json(), "{}");
  EXPECT_TRUE(claims.subject().empty());
  EXPECT_FALSE(claims.Has("sub"));
  EXPECT_FALSE(claims.expires_at().has_value());
}
}  // namespace
}  // namespace writ

#include "sdk/src/jose/strict_json.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/jose/jose_test_util.h"

namespace writ::internal {
namespace {

using jose_test::Bytes;
using ::testing::HasSubstr;

absl::Status Parse(absl::string_view json) {
  rapidjson::Document doc;
  return ParseStrictJsonObject(json, "test JSON", &doc);
}

// Nested returns `depth` levels: depth 1 is "{}", depth 2 is {"a":{}} ...
std::string NestedObjects(int depth) {
  std::string out;
  for (int i = 1; i < depth; ++i) out += R"({"a":)";
  out += "{}";
  for (int i = 1; i < depth; ++i) out += "}";
  return out;
}

TEST(ParseStrictJsonObjectTest, AcceptsObject) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseStrictJsonObject(R"({"a":"x","b":[1,2,{"c":null}],"d":true})", "t", &doc).ok());
  ASSERT_NE(FindMember(doc, "a"), nullptr);
  EXPECT_EQ(AsStringView(*FindMember(doc, "a")), "x");
  EXPECT_EQ(FindMember(doc, "z"), nullptr);
}

TEST(ParseStrictJsonObjectTest, AcceptsSurroundingWhitespace) {
  EXPECT_TRUE(Parse(" \t\r\n{ \"a\" : 1 } \r\n\t ").ok());
}

TEST(ParseStrictJsonObjectTest, MessageNamesWhatWasParsed) {
  const absl::Status status = Parse("{");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("test JSON is not valid JSON"));
}

TEST(ParseStrictJsonObjectTest, RefusesRootThatIsNotAnObject) {
  for (absl::string_view json : {"[]", "\"x\"", "1", "null", "true"}) {
    SCOPED_TRACE(json);
    const absl::Status status = Parse(json);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("not a JSON object"));
  }
}

TEST(ParseStrictJsonObjectTest, RefusesEmptyInput) {
  EXPECT_EQ(Parse("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse("   ").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseStrictJsonObjectTest, RefusesDuplicateNameInSmallObject) {
  const absl::Status status = Parse(R"({"alg":"ES256","alg":"none"})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("duplicate member \"alg\""));
}

TEST(ParseStrictJsonObjectTest, RefusesDuplicateNameInLargeObject) {
  // More than 8 members takes the sorting path.
  std::string json = "{";
  for (int i = 0; i < 20; ++i) absl::StrAppend(&json, "\"m", i, "\":", i, ",");
  json += R"("m7":0})";
  const absl::Status status = Parse(json);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("duplicate member \"m7\""));
}

TEST(ParseStrictJsonObjectTest, AcceptsLargeObjectWithoutDuplicates) {
  std::string json = "{";
  for (int i = 0; i < 20; ++i) absl::StrAppend(&json, i > 0 ? "," : "", "\"m", i, "\":", i);
  json += "}";
  EXPECT_TRUE(Parse(json).ok());
}

TEST(ParseStrictJsonObjectTest, RefusesDuplicateNameSpelledWithEscape) {
  // "\u0061lg" is "alg": names compare after unescaping.
  const absl::Status status = Parse(R"({"alg":"ES256","\u0061lg":"none"})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("duplicate member"));
}

TEST(ParseStrictJsonObjectTest, RefusesDuplicateNameInNestedObject) {
  const absl::Status status = Parse(R"({"a":[{"b":{"c":1,"c":2}}]})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("duplicate member \"c\""));
}

TEST(ParseStrictJsonObjectTest, AcceptsSameNameInDifferentObjects) {
  EXPECT_TRUE(Parse(R"({"a":{"x":1},"b":{"x":2},"x":3})").ok());
}

TEST(ParseStrictJsonObjectTest, NamesDifferingOnlyAfterNulAreDistinct) {
  EXPECT_TRUE(Parse(R"({"a\u0000b":1,"a\u0000c":2})").ok());
  EXPECT_EQ(Parse(R"({"a\u0000b":1,"a\u0000b":2})").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseStrictJsonObjectTest, RefusesTrailingBytes) {
  for (absl::string_view json : {R"({"a":1} x)", R"({"a":1}{})", R"({"a":1},)", R"({"a":1}])",
                                 "{\"a\":1}\"", "{\"a\":1}/"}) {
    SCOPED_TRACE(json);
    const absl::Status status = Parse(json);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("not valid JSON"));
  }
}

TEST(ParseStrictJsonObjectTest, RefusesTrailingBytesAfterNul) {
  // A NUL byte must not end the document early: every byte is part of it.
  EXPECT_EQ(Parse(Bytes("{\"sub\":\"alice\"}\0{\"sub\":\"admin\"}")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse(Bytes("{}\0")).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse(Bytes("{}\0 ")).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseStrictJsonObjectTest, RefusesRawNulInString) {
  EXPECT_EQ(Parse(Bytes("{\"a\":\"x\0y\"}")).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseStrictJsonObjectTest, RefusesNonStandardSyntax) {
  for (absl::string_view json :
       {R"({'a':1})", R"({"a":1,})", R"({a:1})", R"({"a":NaN})", R"({"a":Infinity})",
        R"({"a":-Infinity})", R"({"a":01})", R"({"a":1.})", R"({"a":.5})", R"({"a":+1})",
        R"({"a":0x10})", "{\"a\":1 /* c */}", "{\"a\":1 // c\n}", R"({"a":"\x41"})",
        "{\"a\":\"tab\there\"}", "{\"a\":\"new\nline\"}", R"({"a":[1,]})", R"({"a":True})"}) {
    SCOPED_TRACE(json);
    EXPECT_EQ(Parse(json).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseStrictJsonObjectTest, AcceptsSixteenLevelsOfNesting) {
  EXPECT_TRUE(Parse(NestedObjects(16)).ok());
}

TEST(ParseStrictJsonObjectTest, RefusesSeventeenLevelsOfNesting) {
  const absl::Status status = Parse(NestedObjects(17));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("nests deeper than 16 levels"));
}

TEST(ParseStrictJsonObjectTest, CountsArraysAsLevels) {
  // Root object + 15 arrays = 16 levels; one more array = 17.
  const std::string ok = absl::StrCat(R"({"a":)", std::string(15, '['), std::string(15, ']'), "}");
  const std::string deep =
      absl::StrCat(R"({"a":)", std::string(16, '['), std::string(16, ']'), "}");
  EXPECT_TRUE(Parse(ok).ok());
  EXPECT_THAT(Parse(deep).message(), HasSubstr("nests deeper"));
}

TEST(ParseStrictJsonObjectTest, SurvivesHostileNesting) {
  // The parser is iterative: a million brackets are an error, not a crash.
  const std::string json =
      absl::StrCat(R"({"a":)", std::string(1000000, '['), std::string(1000000, ']'), "}");
  EXPECT_EQ(Parse(json).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse(std::string(1000000, '{')).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseStrictJsonObjectTest, AcceptsValidUtf8) {
  EXPECT_TRUE(Parse("{\"a\":\"It\xe2\x80\x99s \xf0\x9f\x94\x91 \xc3\xa9\"}").ok());
  EXPECT_TRUE(Parse(R"({"a":"\u00e9\ud83d\udd11"})").ok());
}

TEST(ParseStrictJsonObjectTest, RefusesInvalidUtf8) {
  for (absl::string_view bytes : {
           "\xff",              // never valid
           "\xc0\xaf",          // overlong "/"
           "\xe0\x80\xaf",      // overlong "/"
           "\xed\xa0\x80",      // UTF-16 surrogate encoded in UTF-8
           "\xe2\x80",          // truncated sequence
           "\x80",              // lone continuation byte
           "\xf4\x90\x80\x80",  // above U+10FFFF
       }) {
    SCOPED_TRACE(absl::CEscape(bytes));
    const std::string in_value = absl::StrCat("{\"a\":\"", bytes, "\"}");
    const std::string in_name = absl::StrCat("{\"", bytes, "\":1}");
    EXPECT_EQ(Parse(in_value).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Parse(in_name).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseStrictJsonObjectTest, RefusesLoneSurrogateEscapes) {
  // An escaped lone surrogate would decode to bytes that are not UTF-8.
  for (absl::string_view escape : {R"(\ud800)", R"(\udc00)", R"(\udfff)", R"(\ud800x)",
                                   R"(\ud800\u0041)", R"(\udc00\ud800)"}) {
    SCOPED_TRACE(escape);
    EXPECT_EQ(Parse(absl::StrCat("{\"a\":\"", escape, "\"}")).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Parse(absl::StrCat("{\"", escape, "\":1}")).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(AppendJsonStringTest, EscapesQuotesBackslashesAndControls) {
  std::string out;
  AppendJsonString(Bytes("a\"b\\c\n\r\t\x01\x1f\0z"), &out);
  EXPECT_EQ(out, R"("a\"b\\c\n\r\t\u0001\u001f\u0000z")");
}

TEST(AppendJsonStringTest, OutputParsesBackToTheSameBytes) {
  const std::string value = Bytes("kid \"quoted\" \\ \x7f \xc3\xa9 \x02 \0 end");
  std::string json = R"({"v":)";
  AppendJsonString(value, &json);
  json += "}";
  rapidjson::Document doc;
  ASSERT_TRUE(ParseStrictJsonObject(json, "t", &doc).ok()) << json;
  EXPECT_EQ(AsStringView(*FindMember(doc, "v")), value);
}

TEST(ValidateKidTest, AcceptsPrintableAscii) {
  EXPECT_TRUE(ValidateKid("2011-04-29").ok());
  EXPECT_TRUE(ValidateKid("bilbo.baggins@hobbiton.example").ok());
  EXPECT_TRUE(ValidateKid("a/b").ok());
  EXPECT_TRUE(ValidateKid("!~\"{}").ok());
  EXPECT_TRUE(ValidateKid("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs").ok());
}

TEST(ValidateKidTest, AcceptsExactly256Bytes) {
  EXPECT_TRUE(ValidateKid(std::string(256, 'k')).ok());
}

TEST(ValidateKidTest, RefusesLongerThan256Bytes) {
  const absl::Status status = ValidateKid(std::string(257, 'k'));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("longer than 256 bytes"));
}

TEST(ValidateKidTest, RefusesEmpty) { EXPECT_THAT(ValidateKid("").message(), HasSubstr("empty")); }

TEST(ValidateKidTest, RefusesControlSpaceAndNonAscii) {
  for (absl::string_view kid :
       {absl::string_view("a\nb"), absl::string_view("a\0b", 3), absl::string_view("a b"),
        absl::string_view("a\x7f"), absl::string_view("\xc3\xa9"), absl::string_view("\t")}) {
    SCOPED_TRACE(absl::CEscape(kid));
    const absl::Status status = ValidateKid(kid);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("control, space or non-ASCII"));
  }
}

TEST(ValidateKidTest, RefusesPaths) {
  for (absl::string_view kid :
       {"../../dev/null", "..", "a/../b", "/../etc/passwd", "a\\b", "..\\x"}) {
    SCOPED_TRACE(kid);
    const absl::Status status = ValidateKid(kid);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("looks like a path"));
  }
}

}  // namespace
}  // namespace writ::internal

#include "bench/http_wire.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/api/form_body.h"

namespace writ::bench {
namespace {

constexpr char kOk[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 24\r\n"
    "Keep-Alive: timeout=2, max=1000\r\n"
    "\r\n"
    "{\"access_token\":\"a.b.c\"}";

std::string Response(absl::string_view status_line, absl::string_view headers,
                     absl::string_view body) {
  return absl::StrCat(status_line, "\r\n", headers, "\r\n", body);
}

TEST(FormEncodeTest, KeepsUnreservedAndEscapesTheRest) {
  std::string out = "x=";
  FormEncode("aZ09-._~ /:+%&=\xc3\xa9", &out);
  EXPECT_EQ(out, "x=aZ09-._~%20%2F%3A%2B%25%26%3D%C3%A9");
}

TEST(TokenRequestWriterTest, WritesAFormTheIssuerDecodes) {
  TokenRequestWriter writer(8443, {"https://api.bench.example", "deploy:write"});
  std::string request;
  writer.Write("eyJh.eyJz+/.sig", &request);
  ASSERT_TRUE(absl::StartsWith(request, "POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:8443\r\n"))
      << request;
  EXPECT_THAT(request,
              testing::HasSubstr("\r\nContent-Type: application/x-www-form-urlencoded\r\n"));
  const size_t head_end = request.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string body = request.substr(head_end + 4);
  const size_t cl = request.find("Content-Length: ");
  ASSERT_NE(cl, std::string::npos);
  size_t length = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(request.substr(cl + 16, request.find("\r\n", cl) - cl - 16), &length));
  EXPECT_EQ(length, body.size());

  auto form = issuer::FormBody::Parse(body);
  ASSERT_TRUE(form.ok()) << form.status();
  auto field = [&](absl::string_view name) { return form->Single(name).value().value_or("-"); };
  EXPECT_EQ(field("grant_type"), "urn:ietf:params:oauth:grant-type:token-exchange");
  EXPECT_EQ(field("subject_token_type"), "urn:ietf:params:oauth:token-type:jwt");
  EXPECT_EQ(field("subject_token"), "eyJh.eyJz+/.sig");
  EXPECT_EQ(field("audience"), "https://api.bench.example");
  EXPECT_EQ(field("scope"), "deploy:write");

  // The buffer is replaced, not appended to.
  writer.Write("t", &request);
  EXPECT_EQ(request.find("POST", 1), std::string::npos);
}

TEST(ParseHttpResponseTest, ParsesAKeepAliveResponse) {
  const ParsedResponse r = ParseHttpResponse(kOk);
  ASSERT_EQ(r.state, ParsedResponse::kComplete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.close);
  EXPECT_EQ(r.size, sizeof(kOk) - 1);
  EXPECT_EQ(r.body, "{\"access_token\":\"a.b.c\"}");
}

TEST(ParseHttpResponseTest, EveryPrefixIsIncomplete) {
  const std::string ok = kOk;
  for (size_t n = 0; n < ok.size(); ++n) {
    EXPECT_EQ(ParseHttpResponse(ok.substr(0, n)).state, ParsedResponse::kIncomplete) << n;
  }
}

TEST(ParseHttpResponseTest, StopsAtTheEndOfItsBody) {
  const std::string two = std::string(kOk) + "HTTP/1.1 503 Service Unavailable\r\n";
  const ParsedResponse r = ParseHttpResponse(two);
  ASSERT_EQ(r.state, ParsedResponse::kComplete);
  EXPECT_EQ(r.size, sizeof(kOk) - 1);
}

TEST(ParseHttpResponseTest, ConnectionCloseInAnyCaseAndList) {
  for (const char* header :
       {"Connection: close\r\n", "connection: Keep-Alive, CLOSE\r\n", "CONNECTION:close\r\n"}) {
    const ParsedResponse r = ParseHttpResponse(
        Response("HTTP/1.1 200 OK", absl::StrCat(header, "content-length: 2\r\n"), "{}"));
    ASSERT_EQ(r.state, ParsedResponse::kComplete) << header;
    EXPECT_TRUE(r.close) << header;
  }
}

TEST(ParseHttpResponseTest, Http10ClosesUnlessKeepAlive) {
  EXPECT_TRUE(ParseHttpResponse(Response("HTTP/1.0 200 OK", "Content-Length: 0\r\n", "")).close);
  const ParsedResponse kept = ParseHttpResponse(
      Response("HTTP/1.0 200 OK", "Connection: keep-alive\r\nContent-Length: 0\r\n", ""));
  ASSERT_EQ(kept.state, ParsedResponse::kComplete);
  EXPECT_FALSE(kept.close);
}

TEST(ParseHttpResponseTest, AcceptsAStatusLineWithoutReason) {
  const ParsedResponse r = ParseHttpResponse(Response("HTTP/1.1 204", "Content-Length: 0\r\n", ""));
  ASSERT_EQ(r.state, ParsedResponse::kComplete) << r.error;
  EXPECT_EQ(r.status, 204);
}

TEST(ParseHttpResponseTest, RejectsAResponseWithoutContentLength) {
  const ParsedResponse r =
      ParseHttpResponse(Response("HTTP/1.1 200 OK", "Content-Type: text/plain\r\n", "hello"));
  EXPECT_EQ(r.state, ParsedResponse::kInvalid);
  EXPECT_STREQ(r.error, "http:no_content_length");
}

TEST(ParseHttpResponseTest, RejectsChunkedBodies) {
  const ParsedResponse r = ParseHttpResponse(
      Response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n"));
  EXPECT_EQ(r.state, ParsedResponse::kInvalid);
  EXPECT_STREQ(r.error, "http:chunked");
}

TEST(ParseHttpResponseTest, RejectsBadContentLengths) {
  for (const char* value : {"", "12a", "-1", "+1", "1 2", "0x10"}) {
    const ParsedResponse r = ParseHttpResponse(
        Response("HTTP/1.1 200 OK", absl::StrCat("Content-Length: ", value, "\r\n"), ""));
    EXPECT_EQ(r.state, ParsedResponse::kInvalid) << value;
    EXPECT_STREQ(r.error, "http:parse") << value;
  }
  const ParsedResponse twice = ParseHttpResponse(
      Response("HTTP/1.1 200 OK", "Content-Length: 2\r\nContent-Length: 3\r\n", "{}x"));
  EXPECT_STREQ(twice.error, "http:parse");
  const ParsedResponse same_twice = ParseHttpResponse(
      Response("HTTP/1.1 200 OK", "Content-Length: 2\r\nContent-Length: 2\r\n", "{}"));
  EXPECT_EQ(same_twice.state, ParsedResponse::kComplete);
}

TEST(ParseHttpResponseTest, RejectsBodiesOverTheLimit) {
  for (const char* value : {"1048577", "99999999999999999999"}) {
    const ParsedResponse r = ParseHttpResponse(
        Response("HTTP/1.1 200 OK", absl::StrCat("Content-Length: ", value, "\r\n"), ""));
    EXPECT_EQ(r.state, ParsedResponse::kInvalid) << value;
    EXPECT_STREQ(r.error, "http:too_large") << value;
  }
  EXPECT_EQ(ParseHttpResponse(Response("HTTP/1.1 200 OK", "Content-Length: 1048576\r\n", "")).state,
            ParsedResponse::kIncomplete);
}

TEST(ParseHttpResponseTest, RejectsMalformedStatusLines) {
  for (const char* line : {"HTTP/2 200 OK", "HTTX/1.1 200 OK", "HTTP/1.1 20x OK", "HTTP/1.1 2000",
                           "HTTP/1.1  200 OK", "HTTP/1.2 200 OK", "HTTP/1.1 099 Low", ""}) {
    const ParsedResponse r = ParseHttpResponse(Response(line, "Content-Length: 0\r\n", ""));
    EXPECT_EQ(r.state, ParsedResponse::kInvalid) << line;
    EXPECT_STREQ(r.error, "http:parse") << line;
  }
}

TEST(ParseHttpResponseTest, RejectsAnImpossiblePrefixEarly) {
  EXPECT_EQ(ParseHttpResponse("HTTX").state, ParsedResponse::kInvalid);
  EXPECT_EQ(ParseHttpResponse("HTTP/1.1 2x0 OK\r\nContent-").state, ParsedResponse::kInvalid);
  EXPECT_EQ(ParseHttpResponse("<html>").state, ParsedResponse::kInvalid);
}

TEST(ParseHttpResponseTest, RejectsMalformedHeaders) {
  for (const char* headers :
       {"NoColon\r\nContent-Length: 0\r\n", ": value\r\nContent-Length: 0\r\n",
        "Content-Length: 0\r\n X-Folded: x\r\n", "Bad Name: x\r\nContent-Length: 0\r\n"}) {
    const ParsedResponse r = ParseHttpResponse(Response("HTTP/1.1 200 OK", headers, ""));
    EXPECT_EQ(r.state, ParsedResponse::kInvalid) << headers;
    EXPECT_STREQ(r.error, "http:parse") << headers;
  }
}

TEST(ParseHttpResponseTest, RejectsAnEndlessHead) {
  const std::string head = "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxResponseHead, 'a');
  EXPECT_EQ(ParseHttpResponse(head).state, ParsedResponse::kInvalid);
  EXPECT_EQ(ParseHttpResponse(head + "\r\nContent-Length: 0\r\n\r\n").state,
            ParsedResponse::kInvalid);
}

TEST(ExchangeSucceededTest, NeedsA200WithAnAccessToken) {
  std::string kind;
  EXPECT_TRUE(ExchangeSucceeded(ParseHttpResponse(kOk), &kind));

  const ParsedResponse unavailable = ParseHttpResponse(
      Response("HTTP/1.1 503 Service Unavailable", "Content-Length: 2\r\n", "{}"));
  EXPECT_FALSE(ExchangeSucceeded(unavailable, &kind));
  EXPECT_EQ(kind, "http:503");

  const ParsedResponse denied = ParseHttpResponse(Response(
      "HTTP/1.1 400 Bad Request", "Content-Length: 25\r\n", "{\"error\":\"access_denied\"}"));
  EXPECT_FALSE(ExchangeSucceeded(denied, &kind));
  EXPECT_EQ(kind, "http:400");

  const ParsedResponse empty =
      ParseHttpResponse(Response("HTTP/1.1 200 OK", "Content-Length: 2\r\n", "{}"));
  EXPECT_FALSE(ExchangeSucceeded(empty, &kind));
  EXPECT_EQ(kind, "http:200_without_access_token");
}

}  // namespace
}  // namespace writ::bench

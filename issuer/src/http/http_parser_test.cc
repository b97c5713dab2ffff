#include "issuer/src/http/http_parser.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace writ::issuer::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Result = RequestParser::Result;

ParseLimits Limits(size_t header = 1024, size_t body = 100) {
  ParseLimits limits;
  limits.max_header_bytes = header;
  limits.max_body_bytes = body;
  limits.max_headers = 8;
  return limits;
}

// ParseAll runs `data` through a fresh parser in one call.
Result ParseAll(absl::string_view data, RequestParser& parser) { return parser.Parse(data); }

int ErrorStatus(absl::string_view data, ParseLimits limits = Limits()) {
  RequestParser parser(limits);
  if (ParseAll(data, parser) != Result::kError) return 0;
  return parser.error().status;
}

TEST(RequestParserTest, ParsesGetWithQueryAndHeaders) {
  RequestParser parser(Limits());
  const std::string req =
      "GET /token?a=1&b=%20 HTTP/1.1\r\nHost: example.com\r\nX-Thing:  spaced value \t\r\n"
      "x-thing: second\r\n\r\nBODY";
  ASSERT_EQ(parser.Parse(req), Result::kDone);
  const RequestHead& head = parser.head();
  EXPECT_EQ(head.request.method, "GET");
  EXPECT_EQ(head.request.target, "/token?a=1&b=%20");
  EXPECT_EQ(head.request.path, "/token");
  EXPECT_EQ(head.request.query, "a=1&b=%20");
  EXPECT_THAT(head.request.headers,
              ElementsAre(Pair("host", "example.com"), Pair("x-thing", "spaced value"),
                          Pair("x-thing", "second")));
  EXPECT_EQ(*head.request.Header("x-thing"), "spaced value");
  EXPECT_EQ(head.request.Header("missing"), nullptr);
  EXPECT_EQ(head.head_bytes, req.size() - 4);
  EXPECT_EQ(head.request.header_bytes, head.head_bytes);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_EQ(head.minor_version, 1);
}

TEST(RequestParserTest, ParsesIncrementallyByteByByte) {
  const std::string req = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  RequestParser parser(Limits());
  const size_t head_end = req.find("\r\n\r\n") + 4;
  for (size_t i = 1; i < head_end; ++i) {
    ASSERT_EQ(parser.Parse(absl::string_view(req).substr(0, i)), Result::kNeedMore) << i;
  }
  ASSERT_EQ(parser.Parse(absl::string_view(req).substr(0, head_end)), Result::kDone);
  EXPECT_EQ(parser.head().content_length, 3u);
  EXPECT_EQ(parser.head().head_bytes, head_end);
  // Done stays done until Reset.
  EXPECT_EQ(parser.Parse(req), Result::kDone);
  parser.Reset();
  EXPECT_EQ(parser.Parse("GET / HTTP/1.1\r\n"), Result::kNeedMore);
}

TEST(RequestParserTest, IgnoresEmptyLinesBeforeRequestLine) {
  RequestParser parser(Limits());
  ASSERT_EQ(parser.Parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), Result::kDone);
  EXPECT_EQ(parser.head().request.path, "/");
  EXPECT_EQ(parser.head().head_bytes, 31u);
}

TEST(RequestParserTest, AcceptsAbsoluteAndAsteriskForms) {
  RequestParser parser(Limits());
  ASSERT_EQ(parser.Parse("GET http://example.com:8080/a/b?q HTTP/1.1\r\nHost: x\r\n\r\n"),
            Result::kDone);
  EXPECT_EQ(parser.head().request.path, "/a/b");
  EXPECT_EQ(parser.head().request.query, "q");
  parser.Reset();
  ASSERT_EQ(parser.Parse("GET https://example.com HTTP/1.1\r\nHost: x\r\n\r\n"), Result::kDone);
  EXPECT_EQ(parser.head().request.path, "/");
  parser.Reset();
  ASSERT_EQ(parser.Parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), Result::kDone);
  EXPECT_EQ(parser.head().request.path, "*");
}

TEST(RequestParserTest, RefusesMalformedRequestLines) {
  for (const char* line :
       {"GET /\r\n", "GET  / HTTP/1.1\r\n", "GET / HTTP/1.1 \r\n", "GET / http/1.1\r\n",
        "GET / HTTP/1\r\n", "GET / HTTP/1.10\r\n", "G(T / HTTP/1.1\r\n", " / HTTP/1.1\r\n",
        "GET foo HTTP/1.1\r\n", "GET * HTTP/1.1\r\n", "GET /a#frag HTTP/1.1\r\n",
        "GET /\x7f HTTP/1.1\r\n", "GET /\xc3\xa9 HTTP/1.1\r\n", "GET ftp://x/ HTTP/1.1\r\n",
        "GET http:/// HTTP/1.1\r\n", "CONNECT example.com:443 HTTP/1.1\r\n",
        "\x16\x03\x01\x02\r\n"}) {
    EXPECT_EQ(ErrorStatus(absl::StrCat(line, "Host: h\r\n\r\n")), 400) << line;
  }
}

TEST(RequestParserTest, RefusesOtherHttpVersionsWith505) {
  EXPECT_EQ(ErrorStatus("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatus("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
}

TEST(RequestParserTest, RefusesBareLineFeedsAndCarriageReturns) {
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\nHost: h\n\n"), 400);
  EXPECT_EQ(ErrorStatus("\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: h\r\nA: b\rc\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n"), 400);
}

TEST(RequestParserTest, RefusesMalformedHeaders) {
  const std::vector<std::string> headers = {"NoColon\r\n",
                                            ": empty-name\r\n",
                                            "Sp ace: x\r\n",
                                            "Name : x\r\n",
                                            " folded: x\r\n",
                                            "\tfolded: x\r\n",
                                            std::string("Nul: a\0b\r\n", 10),
                                            "Ctl: a\x01\r\n",
                                            "Del: a\x7f\r\n"};
  for (const std::string& h : headers) {
    EXPECT_EQ(ErrorStatus(absl::StrCat("GET / HTTP/1.1\r\nHost: h\r\n", h, "\r\n")), 400) << h;
  }
  // obs-text is allowed in values.
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: h\r\nA: caf\xc3\xa9\r\n\r\n"), 0);
}

TEST(RequestParserTest, RequiresExactlyOneHostInHttp11) {
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.0\r\n\r\n"), 0);
  EXPECT_EQ(ErrorStatus("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
}

TEST(RequestParserTest, HeaderSectionLimitIsExact) {
  const std::string base = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  // Pad so the head (through the blank line) is exactly `size` bytes.
  auto head_of = [&](size_t size) {
    return base + std::string(size - base.size() - 4, 'a') + "\r\n\r\n";
  };
  RequestParser parser(Limits(100));
  EXPECT_EQ(parser.Parse(head_of(100)), Result::kDone);
  EXPECT_EQ(ErrorStatus(head_of(101), Limits(100)), 431);
  // Without the end in sight, more than the limit is refused at once.
  EXPECT_EQ(ErrorStatus(std::string(101, 'a'), Limits(100)), 431);
  RequestParser waiting(Limits(100));
  EXPECT_EQ(waiting.Parse(std::string(100, 'a')), Result::kNeedMore);
}

TEST(RequestParserTest, TooManyHeaderLinesIs431) {
  std::string req = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 7; ++i) req += "A: b\r\n";
  RequestParser parser(Limits());
  EXPECT_EQ(parser.Parse(req + "\r\n"), Result::kDone);  // 8 lines
  EXPECT_EQ(ErrorStatus(req + "A: b\r\n\r\n"), 431);     // 9 lines
}

TEST(RequestParserTest, ContentLengthRules) {
  auto with = [](absl::string_view headers) {
    return absl::StrCat("POST / HTTP/1.1\r\nHost: h\r\n", headers, "\r\n");
  };
  RequestParser parser(Limits());
  ASSERT_EQ(parser.Parse(with("Content-Length: 100\r\n")), Result::kDone);
  EXPECT_EQ(parser.head().content_length, 100u);
  parser.Reset();
  ASSERT_EQ(parser.Parse(with("Content-Length: 007\r\ncontent-length: 7\r\n")), Result::kDone);
  EXPECT_EQ(parser.head().content_length, 7u);
  parser.Reset();
  ASSERT_EQ(parser.Parse(with("Content-Length: 0\r\nContent-Length: 00\r\n")), Result::kDone);
  EXPECT_EQ(parser.head().content_length, 0u);

  EXPECT_EQ(ErrorStatus(with("Content-Length: 101\r\n")), 413);
  EXPECT_EQ(ErrorStatus(with("Content-Length: 99999999999999999999999999\r\n")), 413);
  EXPECT_EQ(ErrorStatus(with("Content-Length: 18446744073709551617\r\n")), 413);
  EXPECT_EQ(ErrorStatus(with("Content-Length: 1\r\nContent-Length: 2\r\n")), 400);
  EXPECT_EQ(ErrorStatus(with("Content-Length: 1, 1\r\n")), 400);
  EXPECT_EQ(ErrorStatus(with("Content-Length: -1\r\n")), 400);
  EXPECT_EQ(ErrorStatus(with("Content-Length: +1\r\n")), 400);
  EXPECT_EQ(ErrorStatus(with("Content-Length: 0x10\r\n")), 400);
  EXPECT_EQ(ErrorStatus(with("Content-Length:\r\n")), 400);
  EXPECT_EQ(ErrorStatus(with("Content-Length: 1 2\r\n")), 400);
}

TEST(RequestParserTest, TransferEncodingIs501EvenWithContentLength) {
  RequestParser parser(Limits());
  ASSERT_EQ(parser.Parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Result::kError);
  EXPECT_EQ(parser.error().status, 501);
  EXPECT_THAT(parser.error().reason, HasSubstr("Transfer-Encoding"));
  EXPECT_EQ(ErrorStatus("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                        "Transfer-Encoding: identity\r\n\r\n"),
            501);
}

TEST(RequestParserTest, KeepAliveDecision) {
  auto keep_alive = [](absl::string_view req) {
    RequestParser parser(Limits());
    EXPECT_EQ(parser.Parse(req), Result::kDone) << req;
    return parser.head().keep_alive;
  };
  EXPECT_TRUE(keep_alive("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
  EXPECT_FALSE(keep_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n"));
  EXPECT_FALSE(keep_alive("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n"));
  EXPECT_FALSE(keep_alive("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keep_alive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  EXPECT_FALSE(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
}

TEST(RequestParserTest, ExpectContinueOnlyForHttp11WithABody) {
  auto expects = [](absl::string_view req) {
    RequestParser parser(Limits());
    EXPECT_EQ(parser.Parse(req), Result::kDone) << req;
    return parser.head().expect_continue;
  };
  EXPECT_TRUE(
      expects("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_FALSE(expects("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_FALSE(expects("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  EXPECT_FALSE(expects("POST / HTTP/1.1\r\nHost: h\r\nExpect: other\r\nContent-Length: 5\r\n\r\n"));
}

TEST(RequestParserTest, ErrorReasonsQuoteNoInput) {
  RequestParser parser(Limits());
  ASSERT_EQ(parser.Parse("GET /secret-token-value HTTP/9.9\r\nHost: h\r\n\r\n"), Result::kError);
  EXPECT_THAT(parser.error().reason, ::testing::Not(HasSubstr("secret")));
}

TEST(SerializeResponseTest, WritesStatusHeadersLengthAndBody) {
  HttpResponse r;
  r.status = 201;
  r.headers = {{"Cache-Control", "no-store"},
               {"Content-Length", "999"},
               {"Connection", "x"},
               {"Transfer-Encoding", "chunked"}};
  r.body = "hello";
  r.content_type = "text/plain";
  EXPECT_EQ(SerializeResponse(r, false, false),
            "HTTP/1.1 201 Created\r\nCache-Control: no-store\r\nContent-Type: text/plain\r\n"
            "Content-Length: 5\r\nConnection: keep-alive\r\n\r\nhello");
  EXPECT_EQ(SerializeResponse(r, true, true),
            "HTTP/1.1 201 Created\r\nCache-Control: no-store\r\nContent-Type: text/plain\r\n"
            "Content-Length: 5\r\nConnection: close\r\n\r\n");
}

TEST(SerializeResponseTest, ContentTypeHeaderKeptOnlyWithoutContentTypeField) {
  HttpResponse r;
  r.headers = {{"Content-Type", "a/b"}};
  EXPECT_THAT(SerializeResponse(r, false, false), HasSubstr("Content-Type: a/b\r\n"));
  r.content_type = "c/d";
  const std::string out = SerializeResponse(r, false, false);
  EXPECT_THAT(out, HasSubstr("Content-Type: c/d\r\n"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("a/b")));
}

TEST(SerializeResponseTest, NoBodyStatusesCarryNoBodyOrLength) {
  HttpResponse r;
  r.status = 204;
  r.body = "ignored";
  EXPECT_EQ(SerializeResponse(r, false, false),
            "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
  r.status = 304;
  EXPECT_EQ(SerializeResponse(r, false, false),
            "HTTP/1.1 304 Not Modified\r\nConnection: keep-alive\r\n\r\n");
  r.status = 299;
  EXPECT_EQ(SerializeResponse(r, false, false),
            "HTTP/1.1 299 \r\nContent-Length: 7\r\nConnection: keep-alive\r\n\r\nignored");
}

TEST(SerializeResponseTest, UnsendableResponsesBecome500) {
  auto status_line = [](const HttpResponse& r) {
    const std::string out = SerializeResponse(r, false, false);
    return out.substr(0, out.find("\r\n"));
  };
  HttpResponse r;
  r.status = 100;
  EXPECT_EQ(status_line(r), "HTTP/1.1 500 Internal Server Error");
  r.status = 600;
  EXPECT_EQ(status_line(r), "HTTP/1.1 500 Internal Server Error");
  r.status = 200;
  r.headers = {{"X", "a\r\nInjected: yes"}};
  const std::string injected = SerializeResponse(r, false, false);
  EXPECT_THAT(injected, HasSubstr("500"));
  EXPECT_THAT(injected, ::testing::Not(HasSubstr("Injected")));
  r.headers = {{"Bad Name", "v"}};
  EXPECT_EQ(status_line(r), "HTTP/1.1 500 Internal Server Error");
  r.headers = {};
  r.content_type = "text/plain\r\nX: y";
  EXPECT_EQ(status_line(r), "HTTP/1.1 500 Internal Server Error");
}

TEST(ErrorResponseTest, IsPlainText) {
  const HttpResponse r = ErrorResponse(413, "too big");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, "too big\n");
  EXPECT_THAT(r.content_type, HasSubstr("text/plain"));
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(799), "");
}

}  // namespace
}  // namespace writ::issuer::http

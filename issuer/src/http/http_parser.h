// The wire format of HttpServer, without sockets: RequestParser reads a
// request head incrementally from the bytes received so far, and
// SerializeResponse writes a response. Both are pure, so they are unit tested
// and fuzzed on their own (tests/fuzz/http_request_fuzzer.cc).
//
//   RequestParser parser({.max_header_bytes = 16384, .max_body_bytes = 65536});
//   switch (parser.Parse(received)) {  // received: this request's bytes so far
//     case RequestParser::Result::kNeedMore: ...  // read more, call again
//     case RequestParser::Result::kError: ...     // answer parser.error().status, close
//     case RequestParser::Result::kDone: ...      // head(); the body follows it
//   }
#ifndef WRIT_ISSUER_HTTP_HTTP_PARSER_H_
#define WRIT_ISSUER_HTTP_HTTP_PARSER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "issuer/src/http/http_server.h"

namespace writ::issuer::http {

// ParseLimits bounds what a request may hold.
struct ParseLimits {
  // Request line, headers and the blank line ending them (and any empty lines
  // before the request line), in bytes. Default: 16 KiB.
  size_t max_header_bytes = 16 * 1024;
  // Content-Length at most. Default: 64 KiB.
  size_t max_body_bytes = 64 * 1024;
  // Header lines at most; more is answered 431. Default: 128.
  size_t max_headers = 128;
};

// RequestHead is a parsed request line and header section.
struct RequestHead {
  // method, target, path, query, headers and header_bytes; body and
  // remote_address are left empty.
  HttpRequest request;
  int minor_version = 1;         // HTTP/1.<minor_version>: 0 or 1
  size_t head_bytes = 0;         // bytes up to and including the blank line
  size_t content_length = 0;     // the body's length; at most max_body_bytes
  bool expect_continue = false;  // HTTP/1.1 "Expect: 100-continue"
  bool keep_alive = true;        // whether the connection may stay open after this request
};

// ParseError is why a request is refused: the status to answer with
// (400, 413, 431, 501 or 505) and a short reason that quotes none of the input.
struct ParseError {
  int status = 400;
  std::string reason;
  // path of the request, when its request line was read before the refusal.
  std::string path;
};

// RequestParser parses one request head at a time, strictly (RFC 9112):
// lines end with CRLF; no whitespace before a header's colon, no obsolete
// line folding, no control characters; HTTP/1.1 needs exactly one Host; a
// body only by one decimal Content-Length (repeats must agree); any
// Transfer-Encoding is refused. Not thread-safe; cheap to keep per connection.
class RequestParser {
 public:
  enum class Result { kNeedMore, kDone, kError };

  explicit RequestParser(ParseLimits limits) : limits_(limits) {}

  // Parse looks at `data`, the bytes of this request received so far starting
  // at its first byte (each call must pass a longer prefix of the same bytes;
  // bytes already scanned are not scanned again). Returns kNeedMore until the
  // head is complete, then kDone (see head()), or kError (see error()), and
  // keeps returning that result until Reset.
  Result Parse(absl::string_view data);

  // head is the parsed head after kDone.
  RequestHead& head() { return head_; }
  // error is the refusal after kError.
  const ParseError& error() const { return error_; }

  // Reset readies the parser for the next request on the connection.
  void Reset();

 private:
  Result Fail(int status, absl::string_view reason);
  Result ParseHead(absl::string_view head);
  Result ParseRequestLine(absl::string_view line);
  Result ParseHeaderLine(absl::string_view line);
  Result CheckHeaders();

  ParseLimits limits_;
  Result result_ = Result::kNeedMore;
  size_t scanned_ = 0;     // bytes scanned for the end of the head
  size_t line_start_ = 0;  // where the line being scanned starts
  size_t head_start_ = 0;  // where the request line starts (after empty lines)
  bool in_request_line_ = true;
  RequestHead head_;
  ParseError error_;
};

// SerializeResponse writes `response` as an HTTP/1.1 response with
// Content-Length (none for 1xx, 204 and 304, which carry no body),
// Content-Type when response.content_type is set, and "Connection: close"
// when `close`. Content-Length, Transfer-Encoding and Connection among
// response.headers are dropped (and Content-Type too when content_type is
// set). For a HEAD request (`head_request`) the body is left out. A response
// the server cannot send as is (a status outside 200..599, or a header name
// or value that is not a valid token / contains CR, LF or NUL) becomes a 500.
std::string SerializeResponse(const HttpResponse& response, bool head_request, bool close);

// ErrorResponse is the plain-text answer for `status` with `reason` as body.
HttpResponse ErrorResponse(int status, absl::string_view reason);

// ReasonPhrase is the standard reason phrase of `status`, or "" if unknown.
absl::string_view ReasonPhrase(int status);

}  // namespace writ::issuer::http

#endif  // WRIT_ISSUER_HTTP_HTTP_PARSER_H_

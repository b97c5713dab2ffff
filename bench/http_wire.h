// HTTP/1.1 on the wire for issuer_load's event-driven HTTP client: the
// token-exchange request it writes and a parser for the responses it reads.
// Pure functions over bytes: no sockets, so the parser is tested on split,
// truncated and malformed input (http_wire_test.cc).
#ifndef WRIT_BENCH_HTTP_WIRE_H_
#define WRIT_BENCH_HTTP_WIRE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "bench/load_clients.h"

namespace writ::bench {

// FormEncode appends `value` to `out` as an application/x-www-form-urlencoded
// value: unreserved characters (ALPHA, DIGIT, "-._~") as they are, every other
// byte as %XX. Tokens (base64url and dots) pass through unchanged.
void FormEncode(absl::string_view value, std::string* out);

// TokenRequestWriter writes `POST /oauth2/token` requests: an RFC 8693 token
// exchange of a JWT for `shape`'s audience and scope, the same form fields
// the libcurl client sends. Thread-compatible (const after construction).
class TokenRequestWriter {
 public:
  TokenRequestWriter(int port, const ExchangeRequestShape& shape);

  // Write replaces `out` with one complete request (head and body) carrying
  // `subject_token`. Keep-alive is HTTP/1.1's default, so no Connection header.
  void Write(absl::string_view subject_token, std::string* out) const;

 private:
  std::string head_;         // request line and headers up to "Content-Length: "
  std::string body_prefix_;  // grant_type, subject_token_type, "subject_token="
  std::string body_suffix_;  // audience and scope
};

// ParsedResponse is one HTTP/1.x response at the start of a byte buffer.
struct ParsedResponse {
  enum State {
    kIncomplete,  // a prefix of a valid response: read more
    kComplete,    // status, close, size and body are set
    kInvalid,     // not a response this client accepts: error is set
  };
  State state = kIncomplete;
  int status = 0;
  // close: the server closes the connection after this response
  // ("Connection: close", or HTTP/1.0 without "Connection: keep-alive").
  bool close = false;
  size_t size = 0;         // bytes of head + body: where the next response starts
  absl::string_view body;  // points into the parsed buffer
  const char* error = "";  // kInvalid: "http:parse", "http:no_content_length",
                           // "http:chunked" or "http:too_large"
};

// kMaxResponseHead and kMaxResponseBody bound what ParseHttpResponse accepts:
// the issuer's answers are ~1-2 KiB.
inline constexpr size_t kMaxResponseHead = 16 * 1024;
inline constexpr size_t kMaxResponseBody = 1024 * 1024;

// ParseHttpResponse parses the response at the start of `data`. It needs
// Content-Length (the issuer always sends it; chunked bodies are refused) and
// accepts header names in any case. Bytes after `size` are not looked at.
// kIncomplete for any prefix of a valid response, so callers append what they
// read and call it again; kInvalid as soon as the bytes cannot become one.
ParsedResponse ParseHttpResponse(absl::string_view data);

// ExchangeSucceeded classifies a complete response to a token exchange: true
// for a 200 whose body has "access_token"; otherwise false with
// `error_kind` set to "http:<status>" or "http:200_without_access_token", the
// labels the libcurl client uses.
bool ExchangeSucceeded(const ParsedResponse& response, std::string* error_kind);

}  // namespace writ::bench

#endif  // WRIT_BENCH_HTTP_WIRE_H_

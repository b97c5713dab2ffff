// libFuzzer target: HttpServer's request parser (issuer/src/http/http_parser.h)
// and the response writer. Checks that parsing in two steps agrees with
// parsing at once, that a parsed head stays within the limits, and that no
// header value can add a line to a response.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "issuer/src/http/http_parser.h"

using writ::issuer::http::HttpResponse;
using writ::issuer::http::ParseLimits;
using writ::issuer::http::RequestParser;
using writ::issuer::http::SerializeResponse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks where the input is split across two reads.
  const size_t split = data[0] % size;
  const absl::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  ParseLimits limits;
  limits.max_header_bytes = 2048;
  limits.max_body_bytes = 1024;
  limits.max_headers = 32;

  RequestParser whole(limits);
  const RequestParser::Result at_once = whole.Parse(input);
  RequestParser parts(limits);
  RequestParser::Result in_two = parts.Parse(input.substr(0, split));
  if (in_two == RequestParser::Result::kNeedMore) in_two = parts.Parse(input);
  if (at_once != in_two) abort();

  if (at_once == RequestParser::Result::kError) {
    const int status = whole.error().status;
    if (status != 400 && status != 413 && status != 431 && status != 501 && status != 505) abort();
    if (whole.error().status != parts.error().status) abort();
    return 0;
  }
  if (at_once == RequestParser::Result::kNeedMore) {
    if (input.size() > limits.max_header_bytes) abort();
    return 0;
  }
  const auto& head = whole.head();
  if (head.head_bytes > input.size() || head.head_bytes > limits.max_header_bytes) abort();
  if (head.content_length > limits.max_body_bytes) abort();
  if (head.request.path.empty() || head.request.method.empty()) abort();
  if (head.head_bytes != parts.head().head_bytes) abort();
  if (head.request.headers.size() > limits.max_headers) abort();

  // Echo what the request carried into a response: it must stay one head.
  HttpResponse response;
  response.content_type = head.request.target;
  for (const auto& [name, value] : head.request.headers) response.headers.emplace_back(name, value);
  response.headers.emplace_back(std::string(input.substr(0, split)), "v");
  response.body = std::string(input.substr(0, 64));
  const std::string out = SerializeResponse(response, head.request.method == "HEAD", true);
  const size_t end = out.find("\r\n\r\n");
  if (end == std::string::npos) abort();
  const absl::string_view wire_head(out.data(), end);
  size_t lines = 1;
  for (size_t i = 0; i < wire_head.size(); ++i) {
    if (wire_head[i] == '\n' || wire_head[i] == '\r') {
      if (wire_head.substr(i, 2) != "\r\n") abort();  // a bare CR or LF got through
      ++lines;
      ++i;
    }
  }
  // Status line + headers kept + Content-Type + Content-Length + Connection.
  if (lines > response.headers.size() + 4) abort();
  if (!absl::StartsWith(out, "HTTP/1.1 ")) abort();
  return 0;
}

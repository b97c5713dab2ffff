#include "issuer/src/http/http_parser.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace writ::issuer::http {
namespace {

// tchar (RFC 9110 section 5.6.2).
bool IsTokenChar(unsigned char c) {
  if (absl::ascii_isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// field-value characters: VCHAR, obs-text, SP and HTAB (no CTL).
bool IsFieldValue(absl::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

absl::string_view TrimOws(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool HasToken(absl::string_view list, absl::string_view token) {
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    if (absl::EqualsIgnoreCase(TrimOws(item), token)) return true;
  }
  return false;
}

}  // namespace

const std::string* HttpRequest::Header(absl::string_view lowercase_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lowercase_name) return &value;
  }
  return nullptr;
}

void RequestParser::Reset() {
  result_ = Result::kNeedMore;
  scanned_ = line_start_ = head_start_ = 0;
  in_request_line_ = true;
  head_ = RequestHead();
  error_ = ParseError();
}

RequestParser::Result RequestParser::Fail(int status, absl::string_view reason) {
  error_.status = status;
  error_.reason = std::string(reason);
  error_.path = std::move(head_.request.path);
  head_ = RequestHead();
  return result_ = Result::kError;
}

RequestParser::Result RequestParser::Parse(absl::string_view data) {
  if (result_ != Result::kNeedMore) return result_;
  // Find the blank line ending the head, scanning each byte once across calls.
  for (; scanned_ < data.size(); ++scanned_) {
    // A head ending at or past this byte would be over the limit.
    if (scanned_ >= limits_.max_header_bytes) break;
    if (data[scanned_] != '\n') continue;
    if (scanned_ == 0 || data[scanned_ - 1] != '\r') {
      return Fail(400, "a line ends with a bare LF; lines end with CRLF");
    }
    const bool empty_line = scanned_ - 1 == line_start_;
    line_start_ = scanned_ + 1;
    if (!empty_line) {
      in_request_line_ = false;
      continue;
    }
    if (in_request_line_) {
      head_start_ = line_start_;  // an empty line before the request line is ignored
      continue;
    }
    const size_t end = scanned_ + 1;
    if (end > limits_.max_header_bytes) {
      return Fail(431, "the request line and headers are too large");
    }
    head_.head_bytes = end;
    head_.request.header_bytes = end;
    // Without the final CRLF: the lines are split on CRLF below.
    return ParseHead(data.substr(head_start_, end - 2 - head_start_));
  }
  if (data.size() > limits_.max_header_bytes) {
    return Fail(431, "the request line and headers are too large");
  }
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::ParseHead(absl::string_view head) {
  // `head` is "request-line CRLF *(field-line CRLF)"; the last CRLF ends it.
  size_t pos = head.find("\r\n");
  if (Result r = ParseRequestLine(head.substr(0, pos)); r == Result::kError) return r;
  size_t lines = 0;
  while (pos + 2 < head.size()) {
    const size_t start = pos + 2;
    pos = head.find("\r\n", start);
    if (pos == absl::string_view::npos) return Fail(400, "malformed header section");
    if (++lines > limits_.max_headers) return Fail(431, "too many header fields");
    if (Result r = ParseHeaderLine(head.substr(start, pos - start)); r == Result::kError) {
      return r;
    }
  }
  if (Result r = CheckHeaders(); r == Result::kError) return r;
  return result_ = Result::kDone;
}

RequestParser::Result RequestParser::ParseRequestLine(absl::string_view line) {
  // method SP request-target SP HTTP-version, single spaces.
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == absl::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == absl::string_view::npos || line.find(' ', sp2 + 1) != absl::string_view::npos) {
    return Fail(400, "malformed request line");
  }
  const absl::string_view method = line.substr(0, sp1);
  const absl::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const absl::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Fail(400, "malformed request method");
  if (version.size() != 8 || !absl::StartsWith(version, "HTTP/") ||
      !absl::ascii_isdigit(version[5]) || version[6] != '.' || !absl::ascii_isdigit(version[7])) {
    return Fail(400, "malformed HTTP version");
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return Fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
  }
  head_.minor_version = version[7] - '0';
  if (target.empty()) return Fail(400, "empty request target");
  for (unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f || c == '#') return Fail(400, "malformed request target");
  }
  absl::string_view path_and_query = target;
  if (target[0] == '/') {
    // origin-form
  } else if (target == "*" && method == "OPTIONS") {
    // asterisk-form
  } else {
    // absolute-form: scheme "://" authority [path-abempty] ["?" query]
    size_t scheme_end = target.find("://");
    const absl::string_view scheme = target.substr(0, scheme_end);
    if (scheme_end == absl::string_view::npos ||
        !(absl::EqualsIgnoreCase(scheme, "http") || absl::EqualsIgnoreCase(scheme, "https"))) {
      return Fail(400, "malformed request target");
    }
    const absl::string_view rest = target.substr(scheme_end + 3);
    const size_t authority_end = rest.find_first_of("/?");
    if (authority_end == 0 || rest.empty()) return Fail(400, "malformed request target");
    path_and_query =
        authority_end == absl::string_view::npos ? absl::string_view() : rest.substr(authority_end);
  }
  const size_t q = path_and_query.find('?');
  head_.request.method = std::string(method);
  head_.request.target = std::string(target);
  head_.request.path = std::string(path_and_query.substr(0, q));
  if (head_.request.path.empty()) head_.request.path = "/";
  if (q != absl::string_view::npos) head_.request.query = std::string(path_and_query.substr(q + 1));
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::ParseHeaderLine(absl::string_view line) {
  if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
    return Fail(400, "obsolete line folding in the header section");
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return Fail(400, "a header line has no colon");
  const absl::string_view name = line.substr(0, colon);
  if (!IsToken(name)) return Fail(400, "malformed header name");
  const absl::string_view value = TrimOws(line.substr(colon + 1));
  if (!IsFieldValue(value)) return Fail(400, "a header value holds a control character");
  head_.request.headers.emplace_back(absl::AsciiStrToLower(name), std::string(value));
  return Result::kNeedMore;
}

RequestParser::Result RequestParser::CheckHeaders() {
  bool has_length = false;
  std::string length;  // digits without leading zeros
  int hosts = 0;
  bool close = false, keep_alive = false;
  for (const auto& [name, value] : head_.request.headers) {
    if (name == "transfer-encoding") {
      return Fail(501, "Transfer-Encoding is not supported; send Content-Length");
    }
    if (name == "content-length") {
      if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) {
        return Fail(400, "Content-Length is not a decimal number");
      }
      std::string digits = value.substr(std::min(value.find_first_not_of('0'), value.size()));
      if (has_length && digits != length) return Fail(400, "conflicting Content-Length headers");
      has_length = true;
      length = std::move(digits);
    } else if (name == "host") {
      ++hosts;
    } else if (name == "connection") {
      close = close || HasToken(value, "close");
      keep_alive = keep_alive || HasToken(value, "keep-alive");
    } else if (name == "expect") {
      if (head_.minor_version == 1 && absl::EqualsIgnoreCase(value, "100-continue")) {
        head_.expect_continue = true;
      }
    }
  }
  if (hosts > 1) return Fail(400, "more than one Host header");
  if (hosts == 0 && head_.minor_version == 1) return Fail(400, "an HTTP/1.1 request needs Host");
  uint64_t content_length = 0;
  if (has_length) {
    // 20 digits may overflow uint64: anything that long is over the limit anyway.
    if (length.size() > 19 || !absl::SimpleAtoi(length.empty() ? "0" : length, &content_length) ||
        content_length > limits_.max_body_bytes) {
      return Fail(413, absl::StrCat("the body is larger than ", limits_.max_body_bytes, " bytes"));
    }
  }
  head_.content_length = static_cast<size_t>(content_length);
  if (content_length == 0) head_.expect_continue = false;
  head_.keep_alive = head_.minor_version == 1 ? !close : (keep_alive && !close);
  return Result::kNeedMore;
}

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

HttpResponse ErrorResponse(int status, absl::string_view reason) {
  HttpResponse r;
  r.status = status;
  r.body = absl::StrCat(reason, "\n");
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

namespace {

bool IsValidResponse(const HttpResponse& r) {
  if (r.status < 200 || r.status > 599) return false;
  if (!IsFieldValue(r.content_type)) return false;
  for (const auto& [name, value] : r.headers) {
    if (!IsToken(name) || !IsFieldValue(value)) return false;
  }
  return true;
}

}  // namespace

std::string SerializeResponse(const HttpResponse& response, bool head_request, bool close) {
  if (!IsValidResponse(response)) {
    return SerializeResponse(ErrorResponse(500, "the handler's response is not valid HTTP"),
                             head_request, close);
  }
  const bool no_body = response.status == 204 || response.status == 304;
  std::string out;
  out.reserve(128 + response.body.size() + response.headers.size() * 48);
  absl::StrAppend(&out, "HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status), "\r\n");
  for (const auto& [name, value] : response.headers) {
    if (absl::EqualsIgnoreCase(name, "content-length") ||
        absl::EqualsIgnoreCase(name, "transfer-encoding") ||
        absl::EqualsIgnoreCase(name, "connection") ||
        (!response.content_type.empty() && absl::EqualsIgnoreCase(name, "content-type"))) {
      continue;
    }
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (!response.content_type.empty()) {
    absl::StrAppend(&out, "Content-Type: ", response.content_type, "\r\n");
  }
  if (!no_body) absl::StrAppend(&out, "Content-Length: ", response.body.size(), "\r\n");
  // Said either way: an HTTP/1.0 client kept alive waits for a close unless
  // it is told otherwise.
  out.append(close ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
  out.append("\r\n");
  if (!no_body && !head_request) out.append(response.body);
  return out;
}

}  // namespace writ::issuer::http

#include "bench/http_wire.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace writ::bench {
namespace {

// kUnreserved[b]: byte b stands for itself in a form value. A table: the
// request writer runs it over every ~1 KiB token.
constexpr std::array<bool, 256> MakeUnreservedTable() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  }
  return t;
}
constexpr std::array<bool, 256> kUnreserved = MakeUnreservedTable();

bool Unreserved(char c) { return kUnreserved[static_cast<unsigned char>(c)]; }

// TokenChar: RFC 9110 tchar, what a header name is made of.
bool TokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

ParsedResponse Invalid(const char* error) {
  ParsedResponse r;
  r.state = ParsedResponse::kInvalid;
  r.error = error;
  return r;
}

// ParseStatusLine reads "HTTP/1.x SSS reason"; sets `minor` and `status`.
bool ParseStatusLine(absl::string_view line, int* minor, int* status) {
  if (line.size() < 12 || !absl::StartsWith(line, "HTTP/1.") || line[8] != ' ') return false;
  if (line[7] != '0' && line[7] != '1') return false;
  *minor = line[7] - '0';
  absl::string_view code = line.substr(9, 3);
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  if (line.size() > 12 && line[12] != ' ') return false;
  *status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  return *status >= 100;
}

}  // namespace

void FormEncode(absl::string_view value, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  size_t i = 0;
  while (i < value.size()) {
    // Runs of unreserved bytes (all of a token, usually) are copied whole.
    size_t run = i;
    while (run < value.size() && Unreserved(value[run])) ++run;
    out->append(value.data() + i, run - i);
    if (run == value.size()) break;
    const unsigned char b = static_cast<unsigned char>(value[run]);
    const char escaped[3] = {'%', kHex[b >> 4], kHex[b & 0xf]};
    out->append(escaped, 3);
    i = run + 1;
  }
}

TokenRequestWriter::TokenRequestWriter(int port, const ExchangeRequestShape& shape) {
  head_ = absl::StrCat(
      "POST /oauth2/token HTTP/1.1\r\n"
      "Host: 127.0.0.1:",
      port,
      "\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: ");
  body_prefix_ = "grant_type=";
  FormEncode("urn:ietf:params:oauth:grant-type:token-exchange", &body_prefix_);
  body_prefix_ += "&subject_token_type=";
  FormEncode("urn:ietf:params:oauth:token-type:jwt", &body_prefix_);
  body_prefix_ += "&subject_token=";
  body_suffix_ = "&audience=";
  FormEncode(shape.audience, &body_suffix_);
  body_suffix_ += "&scope=";
  FormEncode(shape.scope, &body_suffix_);
}

void TokenRequestWriter::Write(absl::string_view subject_token, std::string* out) const {
  size_t token_size = subject_token.size();
  for (char c : subject_token) {
    if (!Unreserved(c)) token_size += 2;
  }
  out->assign(head_);
  absl::StrAppend(out, body_prefix_.size() + token_size + body_suffix_.size(), "\r\n\r\n",
                  body_prefix_);
  FormEncode(subject_token, out);
  out->append(body_suffix_);
}

ParsedResponse ParseHttpResponse(absl::string_view data) {
  const size_t head_end = data.find("\r\n\r\n");
  if (head_end == absl::string_view::npos) {
    // A prefix can still become a response unless it is already too long or
    // already fails the status line.
    if (data.size() > kMaxResponseHead) return Invalid("http:parse");
    const size_t first_eol = data.find("\r\n");
    const absl::string_view start = data.substr(0, std::min<size_t>(data.size(), 7));
    if (!absl::StartsWith("HTTP/1.", start)) return Invalid("http:parse");
    if (first_eol != absl::string_view::npos) {
      int minor = 0, status = 0;
      if (!ParseStatusLine(data.substr(0, first_eol), &minor, &status)) {
        return Invalid("http:parse");
      }
    }
    return ParsedResponse();
  }
  if (head_end + 4 > kMaxResponseHead) return Invalid("http:parse");

  ParsedResponse r;
  int minor = 0;
  bool keep_alive_token = false, have_length = false;
  size_t length = 0;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(data.substr(0, head_end), "\r\n")) {
    if (first) {
      first = false;
      if (!ParseStatusLine(line, &minor, &r.status)) return Invalid("http:parse");
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == 0 || colon == absl::string_view::npos) return Invalid("http:parse");
    const absl::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!TokenChar(c)) return Invalid("http:parse");  // also refuses obs-fold
    }
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "content-length")) {
      size_t n = 0;
      for (char c : value) {
        if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return Invalid("http:parse");
      }
      if (value.empty() || value.size() > 9 || !absl::SimpleAtoi(value, &n)) {
        return Invalid(value.size() > 9 ? "http:too_large" : "http:parse");
      }
      if (have_length && n != length) return Invalid("http:parse");
      have_length = true;
      length = n;
    } else if (absl::EqualsIgnoreCase(name, "transfer-encoding")) {
      return Invalid("http:chunked");
    } else if (absl::EqualsIgnoreCase(name, "connection")) {
      for (absl::string_view option : absl::StrSplit(value, ',')) {
        option = absl::StripAsciiWhitespace(option);
        if (absl::EqualsIgnoreCase(option, "close")) r.close = true;
        if (absl::EqualsIgnoreCase(option, "keep-alive")) keep_alive_token = true;
      }
    }
  }
  if (!have_length) return Invalid("http:no_content_length");
  if (length > kMaxResponseBody) return Invalid("http:too_large");
  if (minor == 0 && !keep_alive_token) r.close = true;
  const size_t body_start = head_end + 4;
  if (data.size() - body_start < length) {
    r.close = false;
    r.status = 0;
    return r;  // kIncomplete
  }
  r.state = ParsedResponse::kComplete;
  r.size = body_start + length;
  r.body = data.substr(body_start, length);
  return r;
}

bool ExchangeSucceeded(const ParsedResponse& response, std::string* error_kind) {
  if (response.status != 200) {
    *error_kind = absl::StrCat("http:", response.status);
    return false;
  }
  if (!absl::StrContains(response.body, "\"access_token\"")) {
    *error_kind = "http:200_without_access_token";
    return false;
  }
  return true;
}

}  // namespace writ::bench

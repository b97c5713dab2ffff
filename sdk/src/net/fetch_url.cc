#include "writ/net/fetch_url.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace writ {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using CurlUrlPtr = std::unique_ptr<CURLU, CurlUrlDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

// GetPart returns one part of `url`, or nullopt-like empty pointer when absent.
CurlString GetPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK) return nullptr;
  return CurlString(value);
}

}  // namespace

bool IsLoopbackHost(absl::string_view host) {
  if (absl::ConsumePrefix(&host, "[")) {
    if (!absl::ConsumeSuffix(&host, "]")) return false;
  }
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::string text(host);
  unsigned char addr[16];
  if (inet_pton(AF_INET, text.c_str(), addr) == 1) return addr[0] == 127;
  if (inet_pton(AF_INET6, text.c_str(), addr) == 1) {
    static constexpr unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                     0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(addr, addr + 16, kLoopback6);
  }
  return false;
}

absl::StatusOr<FetchUrl> ParseFetchUrl(absl::string_view url, bool allow_metadata_http) {
  if (url.empty()) return absl::InvalidArgumentError("URL is empty");
  CurlUrlPtr parsed(curl_url());
  if (parsed == nullptr) return absl::ResourceExhaustedError("cannot allocate a URL parser");
  const std::string text(url);
  // CURLU_NON_SUPPORT_SCHEME so that "ftp://" gets our message, not curl's.
  const CURLUcode rc =
      curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), CURLU_NON_SUPPORT_SCHEME);
  if (rc != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("URL \"", text, "\" does not parse: ", curl_url_strerror(rc)));
  }
  CurlString scheme = GetPart(parsed.get(), CURLUPART_SCHEME);
  CurlString host = GetPart(parsed.get(), CURLUPART_HOST);
  if (scheme == nullptr || host == nullptr || *host == '\0') {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", text, "\" has no host"));
  }
  if (GetPart(parsed.get(), CURLUPART_USER) != nullptr ||
      GetPart(parsed.get(), CURLUPART_PASSWORD) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", text, "\" carries credentials"));
  }
  if (GetPart(parsed.get(), CURLUPART_FRAGMENT) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", text, "\" has a fragment"));
  }
  FetchUrl out;
  out.scheme = absl::AsciiStrToLower(scheme.get());
  out.host = absl::AsciiStrToLower(host.get());
  if (absl::StartsWith(out.host, "[") && absl::EndsWith(out.host, "]")) {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.scheme != "https" && out.scheme != "http") {
    return absl::InvalidArgumentError(
        absl::StrCat("URL \"", text, "\" must use https (scheme is \"", out.scheme, "\")"));
  }
  if (out.scheme == "http" && !IsLoopbackHost(out.host) &&
      !(allow_metadata_http && out.host == kMetadataHost)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "URL \"", text, "\" must use https (plain http is allowed only on loopback hosts)"));
  }
  CurlString port = GetPart(parsed.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (port == nullptr || !absl::SimpleAtoi(port.get(), &out.port) || out.port <= 0 ||
      out.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", text, "\" has no valid port"));
  }
  return out;
}

}  // namespace writ

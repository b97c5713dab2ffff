#include "writ/net/curl_fetcher.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "writ/net/fetch_url.h"

namespace writ {
namespace {

CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Sink collects the body and aborts the transfer once it passes the cap.
struct Sink {
  std::string body;
  size_t max_bytes = 0;
  bool overflow = false;
};

size_t WriteToSink(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t len = size * count;
  if (len > sink->max_bytes - sink->body.size()) {
    sink->overflow = true;
    return 0;  // libcurl aborts with CURLE_WRITE_ERROR.
  }
  sink->body.append(data, len);
  return len;
}

std::string HostPort(const FetchUrl& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  return absl::StrCat(v6 ? "[" : "", u.host, v6 ? "]" : "", ":", u.port);
}

// Shorten keeps messages bounded when a server sends a huge Location.
std::string Shorten(absl::string_view s) {
  constexpr size_t kMax = 200;
  if (s.size() <= kMax) return std::string(s);
  return absl::StrCat(s.substr(0, kMax), "...");
}

bool IsRedirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

absl::Status TransferError(CURLcode rc, const char* errbuf, const Sink& sink,
                           const FetchUrl& origin, const FetchLimits& limits) {
  const std::string where = HostPort(origin);
  const std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
      if (sink.overflow || rc == CURLE_FILESIZE_EXCEEDED) {
        return absl::UnavailableError(absl::StrCat("response from ", where, " exceeds ",
                                                   limits.max_bytes, " bytes; transfer aborted"));
      }
      break;
    case CURLE_OPERATION_TIMEDOUT:
      return absl::UnavailableError(absl::StrCat("request to ", where, " timed out: ", detail));
    case CURLE_COULDNT_RESOLVE_HOST:
      return absl::UnavailableError(absl::StrCat("resolving ", origin.host, " failed: ", detail));
    case CURLE_COULDNT_CONNECT:
      return absl::UnavailableError(absl::StrCat("connecting to ", where, " failed: ", detail));
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return absl::UnavailableError(absl::StrCat("TLS with ", where, " failed: ", detail));
    default:
      break;
  }
  return absl::UnavailableError(absl::StrCat("request to ", where, " failed: ", detail));
}

}  // namespace

std::unique_ptr<HttpFetcher> CurlFetcherUnlessGiven(HttpFetcher* given,
                                                    CurlFetcher::Options options,
                                                    HttpFetcher** use) {
  std::unique_ptr<HttpFetcher> owned;
  if (given == nullptr) owned = std::make_unique<CurlFetcher>(std::move(options));
  *use = given != nullptr ? given : owned.get();
  return owned;
}

CurlFetcher::CurlFetcher(Options options) : options_(std::move(options)) { GlobalInit(); }

absl::StatusOr<HttpResponse> CurlFetcher::Fetch(const HttpRequest& request,
                                                const FetchLimits& limits) {
  const bool post = request.method == "POST";
  if (!post && request.method != "GET") {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTP method \"", request.method.substr(0, 16), "\" is not supported"));
  }
  const absl::string_view url = request.url;
  const bool metadata = request.allow_metadata_http;
  absl::StatusOr<FetchUrl> origin = ParseFetchUrl(url, metadata);
  if (!origin.ok()) return origin.status();
  if (const CURLcode rc = GlobalInit(); rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("libcurl failed to initialise: ", curl_easy_strerror(rc)));
  }
  // The total timeout covers every hop, so it is kept as a deadline on a
  // monotonic clock (this is transport timing, not token time).
  // Capped so an unbounded timeout cannot overflow the deadline.
  const absl::Duration total = std::min(limits.total_timeout, absl::Hours(24));
  const auto deadline = std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(total);
  std::string current(url);
  for (int hop = 0;; ++hop) {
    absl::StatusOr<FetchUrl> target = ParseFetchUrl(current, metadata);
    if (!target.ok()) return target.status();
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (remaining.count() <= 0) {
      return absl::UnavailableError(absl::StrCat("request to ", HostPort(*origin),
                                                 " timed out after ",
                                                 absl::FormatDuration(limits.total_timeout)));
    }
    std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
    if (easy == nullptr) return absl::UnavailableError("libcurl could not create a handle");
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    bool has_accept = false;
    for (const std::string& line : request.headers) {
      if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) {
        return absl::InvalidArgumentError("an HTTP header line contains a line break");
      }
      has_accept = has_accept || absl::StartsWithIgnoreCase(line, "accept:");
      headers.reset(curl_slist_append(headers.release(), line.c_str()));
    }
    if (!has_accept) {
      headers.reset(curl_slist_append(headers.release(), "Accept: application/json"));
    }
    if (headers == nullptr) return absl::UnavailableError("libcurl could not build the headers");
    Sink sink;
    sink.max_bytes = limits.max_bytes;
    char errbuf[CURL_ERROR_SIZE] = {0};
    CURL* h = easy.get();
    const long connect_ms = static_cast<long>(std::max<int64_t>(
        1,
        std::min<int64_t>(absl::ToInt64Milliseconds(limits.connect_timeout), remaining.count())));
    curl_easy_setopt(h, CURLOPT_URL, current.c_str());
    if (post) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    } else {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (!options_.ca_pem.empty()) {
      // The blob replaces the CA file but not Debian's CA directory
      // (/etc/ssl/certs, built in): clear both, so the private CA is the only
      // trust anchor, and fail closed if libcurl will not have it so.
      curl_blob blob{const_cast<char*>(options_.ca_pem.data()), options_.ca_pem.size(),
                     CURL_BLOB_NOCOPY};
      if (curl_easy_setopt(h, CURLOPT_CAINFO, nullptr) != CURLE_OK ||
          curl_easy_setopt(h, CURLOPT_CAPATH, nullptr) != CURLE_OK ||
          curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK) {
        return absl::UnavailableError("libcurl cannot limit TLS trust to the given CA");
      }
    }
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count()));
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteToSink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    // A proxy from the environment must never see loopback traffic, nor the
    // instance metadata service's tokens (IMDS must be reached directly).
    if (IsLoopbackHost(target->host) || target->host == kMetadataHost) {
      curl_easy_setopt(h, CURLOPT_PROXY, "");
    }

    const CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) return TransferError(rc, errbuf, sink, *target, limits);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    // A POST is not replayed elsewhere: its redirect is the caller's answer.
    if (post || !IsRedirect(status)) return HttpResponse{status, std::move(sink.body)};

    char* location = nullptr;
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location);
    if (location == nullptr || *location == '\0') {
      return absl::UnavailableError(absl::StrCat("redirect (HTTP ", status, ") from ",
                                                 HostPort(*target), " has no Location"));
    }
    if (hop >= kMaxRedirects) {
      return absl::UnavailableError(
          absl::StrCat("more than ", kMaxRedirects, " redirects from ", HostPort(*origin)));
    }
    absl::StatusOr<FetchUrl> next = ParseFetchUrl(location);
    if (!next.ok()) {
      return absl::UnavailableError(absl::StrCat("redirect from ", HostPort(*target), " to \"",
                                                 Shorten(location),
                                                 "\" refused: ", next.status().message()));
    }
    if (!next->SameOrigin(*origin)) {
      return absl::UnavailableError(absl::StrCat(
          "redirect from ", origin->scheme, "://", HostPort(*origin), " to ", next->scheme, "://",
          HostPort(*next), " refused: only same scheme, host and port are followed"));
    }
    current = location;
  }
}

}  // namespace writ

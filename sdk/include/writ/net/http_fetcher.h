// HttpFetcher: the one way Writ's code makes an outbound HTTP request (the
// issuer's OIDC discovery and JWKS fetches, the SDK's calls to Writ and to
// CI/cloud token endpoints), behind an interface so tests can inject fakes.
#ifndef WRIT_NET_HTTP_FETCHER_H_
#define WRIT_NET_HTTP_FETCHER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace writ {

// HttpResponse is what a server answered: any HTTP status, and the body.
struct HttpResponse {
  // status is the HTTP status code (200, 404, 503 ...).
  long status = 0;
  // body is the response body, at most FetchLimits::max_bytes long.
  std::string body;
};

// FetchLimits bounds one request.
struct FetchLimits {
  // connect_timeout bounds establishing each connection (TCP + TLS).
  // Default: 2 s.
  absl::Duration connect_timeout = absl::Seconds(2);
  // total_timeout bounds the whole request, redirects included. Default: 5 s.
  absl::Duration total_timeout = absl::Seconds(5);
  // max_bytes caps the response body; a longer body fails the request.
  // Default: 256 KiB.
  size_t max_bytes = 256 * 1024;
};

// HttpRequest is one GET or POST.
struct HttpRequest {
  // method is "GET" or "POST". Default: "GET".
  std::string method = "GET";
  // url must be https://, or http:// on a loopback host (see fetch_url.h).
  std::string url;
  // headers are "Name: value" lines sent as given. Credentials in them are
  // never logged or put in error messages. Default: none (the fetcher adds
  // "Accept: application/json" when no Accept header is given).
  std::vector<std::string> headers;
  // body is sent with a POST (give its Content-Type in `headers`).
  // Default: empty.
  std::string body;
  // allow_metadata_http permits plain http:// to the cloud instance metadata
  // address 169.254.169.254 (link-local, never routed), which serves only
  // http. Nothing else is relaxed. Default: false.
  bool allow_metadata_http = false;
};

// HttpFetcher performs HTTP requests. Implementations are thread-safe.
class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;

  // Fetch performs `request` within `limits`. Any HTTP status is a response
  // (the caller decides what a 404 means). Returns kInvalidArgument for a URL
  // the fetcher never requests, and kUnavailable, naming the host and what
  // failed, when the transfer fails (connect, TLS, timeout, size cap,
  // refused redirect).
  virtual absl::StatusOr<HttpResponse> Fetch(const HttpRequest& request,
                                             const FetchLimits& limits) = 0;

  // Get fetches `url` with no extra headers: Fetch({"GET", url}).
  absl::StatusOr<HttpResponse> Get(absl::string_view url, const FetchLimits& limits) {
    HttpRequest request;
    request.url = std::string(url);
    return Fetch(request, limits);
  }
};

}  // namespace writ

#endif  // WRIT_NET_HTTP_FETCHER_H_

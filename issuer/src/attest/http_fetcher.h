// HttpFetcher: the one way the attestation stage reads a URL (OIDC discovery
// documents and JWKS), behind an interface so tests can inject fakes.
#ifndef WRIT_ISSUER_ATTEST_HTTP_FETCHER_H_
#define WRIT_ISSUER_ATTEST_HTTP_FETCHER_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace writ::issuer {

// HttpResponse is what a server answered: any HTTP status, and the body.
struct HttpResponse {
  // status is the HTTP status code (200, 404, 503 ...).
  long status = 0;
  // body is the response body, at most FetchLimits::max_bytes long.
  std::string body;
};

// FetchLimits bounds one Get.
struct FetchLimits {
  // connect_timeout bounds establishing each connection (TCP + TLS).
  // Default: 2 s.
  absl::Duration connect_timeout = absl::Seconds(2);
  // total_timeout bounds the whole Get, redirects included. Default: 5 s.
  absl::Duration total_timeout = absl::Seconds(5);
  // max_bytes caps the response body; a longer body fails the Get.
  // Default: 256 KiB.
  size_t max_bytes = 256 * 1024;
};

// HttpFetcher performs HTTP GET requests. Implementations are thread-safe.
class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;

  // Get fetches `url` within `limits`. Any HTTP status is a response (the
  // caller decides what a 404 means). Returns kInvalidArgument for a URL the
  // fetcher never requests, and kUnavailable, naming the host and what failed,
  // when the transfer fails (connect, TLS, timeout, size cap, refused
  // redirect).
  virtual absl::StatusOr<HttpResponse> Get(absl::string_view url, const FetchLimits& limits) = 0;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_HTTP_FETCHER_H_

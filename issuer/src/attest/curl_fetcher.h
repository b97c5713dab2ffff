// CurlFetcher: HttpFetcher over libcurl, locked down for fetching OIDC
// discovery documents and JWKS from configured issuers.
#ifndef WRIT_ISSUER_ATTEST_CURL_FETCHER_H_
#define WRIT_ISSUER_ATTEST_CURL_FETCHER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/attest/http_fetcher.h"

namespace writ::issuer {

// CurlFetcher fetches with libcurl, one easy handle per Get:
//   - only http and https; https required except on loopback hosts
//     (127.0.0.0/8, [::1], localhost), see ParseFetchUrl;
//   - TLS peer and host verification on, against the system trust store;
//   - connect and total timeouts from FetchLimits (the total covers every
//     redirect hop);
//   - the body is capped at FetchLimits::max_bytes while it is received: the
//     transfer is aborted as soon as the cap is passed;
//   - redirects (301, 302, 303, 307, 308) are followed by hand, at most 3,
//     and only when the Location has the same scheme, host and port as the
//     first URL; any other redirect fails the Get;
//   - no proxy for loopback hosts; no compression; no cookies.
// curl_global_init runs once per process, on first construction.
// Thread-safe; holds no state between Gets.
class CurlFetcher final : public HttpFetcher {
 public:
  // kMaxRedirects is how many same-origin redirects one Get follows.
  static constexpr int kMaxRedirects = 3;

  CurlFetcher();

  // Get: see HttpFetcher::Get. Error messages name the URL's host and what
  // failed ("connecting to 127.0.0.1:8443 failed: ...", "response from
  // example.com exceeds 262144 bytes", "redirect from a.example to
  // b.example refused").
  absl::StatusOr<HttpResponse> Get(absl::string_view url, const FetchLimits& limits) override;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_CURL_FETCHER_H_

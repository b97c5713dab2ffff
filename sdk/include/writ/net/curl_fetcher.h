// CurlFetcher: HttpFetcher over libcurl, locked down for fetching from
// configured issuers (OIDC discovery, JWKS, token endpoints).
#ifndef WRIT_NET_CURL_FETCHER_H_
#define WRIT_NET_CURL_FETCHER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/net/http_fetcher.h"

namespace writ {

// CurlFetcher fetches with libcurl, one easy handle per Get:
//   - only http and https; https required except on loopback hosts
//     (127.0.0.0/8, [::1], localhost), see ParseFetchUrl;
//   - TLS peer and host verification on, against the system trust store;
//   - connect and total timeouts from FetchLimits (the total covers every
//     redirect hop);
//   - the body is capped at FetchLimits::max_bytes while it is received: the
//     transfer is aborted as soon as the cap is passed;
//   - redirects (301, 302, 303, 307, 308) of a GET are followed by hand, at
//     most 3, and only when the Location has the same scheme, host and port
//     as the first URL; any other redirect fails the request. A POST is never
//     redirected: its 3xx answer is returned as a response;
//   - no proxy for loopback hosts or the metadata address; no compression;
//     no cookies.
// curl_global_init runs once per process, on first construction.
// Thread-safe; holds no state between requests.
class CurlFetcher final : public HttpFetcher {
 public:
  // Options adjust TLS and identification.
  struct Options {
    // ca_pem, when set, is the only trust anchor set for https (PEM
    // certificates), e.g. a private CA in front of Writ. Default: empty (the
    // system trust store).
    std::string ca_pem;
    // user_agent is sent on every request. Default: "writ".
    std::string user_agent = "writ";
  };

  // kMaxRedirects is how many same-origin redirects one GET follows.
  static constexpr int kMaxRedirects = 3;

  CurlFetcher() : CurlFetcher(Options()) {}
  explicit CurlFetcher(Options options);

  // Fetch: see HttpFetcher::Fetch. Error messages name the URL's host and
  // what failed ("connecting to 127.0.0.1:8443 failed: ...", "response from
  // example.com exceeds 262144 bytes", "redirect from a.example to
  // b.example refused"), never a header value or the body.
  absl::StatusOr<HttpResponse> Fetch(const HttpRequest& request,
                                     const FetchLimits& limits) override;

 private:
  const Options options_;
};

// CurlFetcherUnlessGiven is how a component that takes an optional fetcher
// gets one: `given` when set (returns null: nothing owned), else a new
// CurlFetcher with `options`, which the caller keeps. `*use` is set to the
// fetcher to call either way.
std::unique_ptr<HttpFetcher> CurlFetcherUnlessGiven(HttpFetcher* given,
                                                    CurlFetcher::Options options,
                                                    HttpFetcher** use);

}  // namespace writ

#endif  // WRIT_NET_CURL_FETCHER_H_

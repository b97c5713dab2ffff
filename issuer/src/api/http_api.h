// HttpApi: Writ's standard HTTP surface. OIDC discovery and JWKS for Writ's
// own tokens, RFC 8693 token exchange at /oauth2/token with RFC 6749 5.2
// errors, /healthz and /readyz; and the certificate endpoints
// (http_certificates.h). It only translates; the exchanges decide.
#ifndef WRIT_ISSUER_API_HTTP_API_H_
#define WRIT_ISSUER_API_HTTP_API_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "issuer/src/api/work_pool.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/exchange/token_exchange.h"
#include "issuer/src/http/http_server.h"
#include "issuer/src/keys/key_manager.h"

namespace writ::issuer {

// ReadinessCheck returns what is not ready (empty: ready).
using ReadinessCheck = std::function<std::vector<std::string>()>;

class HttpApi {
 public:
  // Bind creates the server and binds `listener` (port 0: any free port),
  // with TLS when the listener has a certificate. Returns kUnavailable when
  // the port cannot be bound, kInvalidArgument for unusable TLS files.
  static absl::StatusOr<std::unique_ptr<HttpApi>> Bind(const ListenerConfig& listener,
                                                       const LimitsConfig& limits);
  // Serve starts answering on the bound socket, on its own threads.
  // `issuer_url` is Writ's own issuer (the discovery document's "issuer").
  // `certificates` null leaves the certificate POST endpoints out. Every
  // pointer must outlive the HttpApi. Call once.
  // `readiness` decides /readyz; `details` adds informational lines to it.
  void Serve(const std::string& issuer_url, const TokenExchange* exchange,
             const CertificateExchange* certificates, const KeyManager* keys,
             ReadinessCheck readiness, ReadinessCheck details = nullptr);
  ~HttpApi();

  // port is the bound port.
  int port() const;
  // Stop stops accepting, finishes the requests in flight, and joins.
  void Stop();

 private:
  HttpApi() = default;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<WorkPool> pool_;
  LimitsConfig limits_;
};

// OAuthHttpStatus is the HTTP status for an RFC 6749 error code.
int OAuthHttpStatus(absl::string_view oauth_error);

// DiscoveryDocument returns the OIDC discovery / RFC 8414 metadata JSON,
// plus Writ's own metadata: "spiffe_bundle_endpoint", "x509_bundle_endpoint"
// and "ssh_ca_keys_endpoint" always, "x509_svid_endpoint" and
// "ssh_certificate_endpoint" when `certificate_endpoints`.
std::string DiscoveryDocument(absl::string_view issuer_url, bool certificate_endpoints = false);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_API_HTTP_API_H_

// The certificate endpoints of Writ's HTTP surface (Writ-specific; no RFC):
//
//   POST /v1/x509-svid        Authorization: Bearer <OIDC token>; body: a PEM
//                             or DER PKCS #10 CSR (Content-Type
//                             application/pkcs10, application/x-pem-file or
//                             text/plain); ?lifetime=10m optional. 200:
//                             {"spiffe_id","x509_svid" (leaf PEM + chain PEM),
//                              "bundle" (PEM),"serial","expires_at","rule"}
//   POST /v1/ssh-certificate  Authorization: Bearer <OIDC token>; body: one
//                             OpenSSH public key line (text/plain);
//                             ?principal=a&principal=b&lifetime=5m. 200:
//                             {"certificate","principals","serial",
//                              "expires_at","key_id","rule"}
//   GET  /v1/bundle           the SPIFFE trust bundle (JWKS form)
//   GET  /v1/bundle.pem       the X.509 authorities, PEM
//   GET  /v1/ssh/ca-keys      the SSH CA keys, sshd TrustedUserCAKeys format
//
// Errors are RFC 6749 5.2 JSON with /oauth2/token's status mapping; a missing
// or non-Bearer Authorization header is 401 with "WWW-Authenticate: Bearer".
// The Bearer token is a secret: nothing here logs it.
#ifndef WRIT_ISSUER_API_HTTP_CERTIFICATES_H_
#define WRIT_ISSUER_API_HTTP_CERTIFICATES_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "issuer/src/api/work_pool.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/http/http_server.h"
#include "issuer/src/keys/key_manager.h"

namespace writ::issuer {

// kBundleRefreshHint is the spiffe_refresh_hint of /v1/bundle: how often
// verifiers should fetch it again (well inside keys.publish_lead).
inline constexpr absl::Duration kBundleRefreshHint = absl::Minutes(5);

// RegisterCertificateRoutes adds the routes above to `server`. With
// `certificates` null the POST routes are left out (404); the bundle routes
// need only `keys` (503 while it publishes no bundle). Issuance runs on
// `pool` (503 temporarily_unavailable when it is full) and is answered from
// the ledger's thread once the decision is recorded. The pointers must
// outlive the server.
void RegisterCertificateRoutes(http::HttpServer& server, WorkPool* pool,
                               const CertificateExchange* certificates, const KeyManager* keys);

// IsCertificatePostPath is true for the POST routes above (whose transport
// errors are answered as OAuth JSON).
bool IsCertificatePostPath(absl::string_view path);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_API_HTTP_CERTIFICATES_H_

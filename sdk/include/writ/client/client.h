// Client: one workload's way in to Writ. It gets this workload's OIDC token
// from an AttestationSource and exchanges it at Writ's standard endpoints:
// RFC 8693 token exchange, X.509-SVIDs from a CSR, SSH certificates, and the
// trust bundle.
//
//   ClientOptions options;
//   options.issuer_url = "https://writ.acme.example";
//   options.attestation = NewGitHubActionsSource();
//   ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::New(std::move(options)));
//   TokenRequest request;
//   request.audience = "https://deploy.acme.example";
//   request.scopes = {"deploy:write"};
//   ASSIGN_OR_RETURN(Token token, client->ExchangeToken(request));
//
// For a token per call with caching and background refresh, wrap the client
// in a TokenCache (token_cache.h).
#ifndef WRIT_CLIENT_CLIENT_H_
#define WRIT_CLIENT_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/client/attestation.h"
#include "writ/client/token.h"
#include "writ/net/http_fetcher.h"

namespace writ {

// ClientOptions configures a Client.
struct ClientOptions {
  // issuer_url is Writ's issuer URL, exactly as in its discovery document.
  // https://, or http:// only on a loopback host. Required.
  std::string issuer_url;
  // attestation yields this workload's OIDC token. Required.
  std::shared_ptr<AttestationSource> attestation;
  // attestation_audience is the audience asked of the attestation source
  // (the audience Writ's trusted-issuer config accepts). Default: issuer_url.
  std::string attestation_audience;
  // ca_pem replaces the system trust store for https to Writ (a private CA).
  // Must be empty when `fetcher` is given (configure that fetcher instead).
  // Default: empty.
  std::string ca_pem;
  // timeout bounds each call to Writ (connect 2 s of it). Default: 10 s.
  absl::Duration timeout = absl::Seconds(10);
  // fetcher makes the HTTP requests; not owned. Default: null (a CurlFetcher
  // owned by the client).
  HttpFetcher* fetcher = nullptr;
  // clock stamps issued_at/expires_at; not owned. Default: null (system).
  const Clock* clock = nullptr;
};

// X509SvidReply is Writ's answer to a CSR (POST /v1/x509-svid).
struct X509SvidReply {
  std::string spiffe_id;
  // certificate_chain_pem is the SVID, leaf first.
  std::string certificate_chain_pem;
  // bundle_pem is every CA certificate of the trust domain published now.
  std::string bundle_pem;
  std::string serial;
  absl::Time expires_at;
};

// SshCertificateReply is Writ's answer for an SSH public key
// (POST /v1/ssh-certificate).
struct SshCertificateReply {
  // certificate is one OpenSSH certificate line ("ssh-ed25519-cert-v01@openssh.com AAAA...").
  std::string certificate;
  std::vector<std::string> principals;
  std::string key_id;
  absl::Time expires_at;
};

// Client talks to one Writ issuer. Thread-safe; holds no tokens.
//
// Errors: Writ's refusals come back with the issuer's reason in the message
// ("the issuer refused: invalid_scope: <description> (request_id <id>)") and
// a code by kind: kInvalidArgument (invalid_request, unsupported_grant_type;
// also a request refused before sending it), kUnauthenticated (invalid_grant,
// unauthorized_client, invalid_client: the attestation was not accepted),
// kPermissionDenied (invalid_scope, invalid_target, access_denied: the
// policy said no), kResourceExhausted (HTTP 429), kUnimplemented (HTTP 404:
// an issuer without that endpoint), kUnavailable (Writ unreachable, HTTP
// 5xx, or a 200 answer without the promised fields). An attestation source's
// failure is passed through with its own code ("attestation from <source>
// failed: ..."). No message ever holds a token.
class Client {
 public:
  // New checks the options. Returns kInvalidArgument naming the field.
  static absl::StatusOr<std::unique_ptr<Client>> New(ClientOptions options);
  virtual ~Client() = default;

  // ExchangeToken gets a fresh attestation token and exchanges it
  // (POST /oauth2/token, RFC 8693; the lifetime goes as Writ's
  // requested_lifetime, in whole seconds). No caching. A scope that RFC 6749
  // does not allow (empty, with a space) or a lifetime under 1 s is
  // kInvalidArgument before anything is sent.
  virtual absl::StatusOr<Token> ExchangeToken(const TokenRequest& request) = 0;

  // MintX509Svid sends a PEM CSR (POST /v1/x509-svid) with a fresh
  // attestation token.
  virtual absl::StatusOr<X509SvidReply> MintX509Svid(
      absl::string_view csr_pem, std::optional<absl::Duration> lifetime = std::nullopt) = 0;

  // MintSshCertificate asks for a certificate for one OpenSSH public key line
  // (POST /v1/ssh-certificate). `principals` empty: all the policy allows;
  // otherwise each must be allowed.
  virtual absl::StatusOr<SshCertificateReply> MintSshCertificate(
      absl::string_view public_key_line, const std::vector<std::string>& principals = {},
      std::optional<absl::Duration> lifetime = std::nullopt) = 0;

  // FetchBundlePem returns the trust domain's CA certificates
  // (GET /v1/bundle.pem).
  virtual absl::StatusOr<std::string> FetchBundlePem() = 0;

  // issuer_url returns the configured issuer URL.
  virtual const std::string& issuer_url() const = 0;
};

}  // namespace writ

#endif  // WRIT_CLIENT_CLIENT_H_

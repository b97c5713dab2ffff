// IssuerConfig: everything writ-issuer can be told, with the embedded dev
// default. LoadIssuerConfig (config_loader.h) reads it from YAML.
#ifndef WRIT_ISSUER_CONFIG_ISSUER_CONFIG_H_
#define WRIT_ISSUER_CONFIG_ISSUER_CONFIG_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "issuer/src/attest/trusted_issuer.h"

namespace writ::issuer {

// ListenerConfig is one server socket.
struct ListenerConfig {
  // host to bind. Default: 127.0.0.1.
  std::string host = "127.0.0.1";
  // port; 0 picks a free port. Defaults: 8080 (HTTP), 8081 (gRPC).
  int port = 0;
  // tls_cert_file and tls_key_file (PEM). Both or neither. Without TLS the
  // host must be loopback. Default: empty (plain, loopback only).
  std::string tls_cert_file;
  std::string tls_key_file;
  // enabled: false turns the listener off. Default: true.
  bool enabled = true;
};

// TokenConfig governs the JWTs Writ mints.
struct TokenConfig {
  // default_lifetime when neither request nor rule says. Default: 5 min.
  absl::Duration default_lifetime = absl::Minutes(5);
  // max_lifetime caps every lifetime, whatever a rule says. Default: 1 h.
  absl::Duration max_lifetime = absl::Hours(1);
  // max_delegation_depth caps the length of an "act" chain. Default: 4.
  int max_delegation_depth = 4;
};

// LimitsConfig bounds what a request may cost.
struct LimitsConfig {
  // max_body_bytes for an HTTP request body. Default: 64 KiB.
  size_t max_body_bytes = 64 * 1024;
  // max_header_bytes for one HTTP header line. Default: 8 KiB.
  size_t max_header_bytes = 8 * 1024;
  // max_grpc_message_bytes for one gRPC request. Default: 64 KiB.
  size_t max_grpc_message_bytes = 64 * 1024;
  // http_threads serving HTTP. Default: 0 (2 x cores, at least 8).
  int http_threads = 0;
};

// IssuerConfig is writ-issuer's whole configuration.
struct IssuerConfig {
  // source names where this came from ("embedded default" or the file path).
  std::string source = "embedded default";
  // issuer_url is Writ's own "iss" and the base of its discovery document.
  // Default: http://127.0.0.1:8080 (follows the HTTP listener when unset).
  std::string issuer_url;
  ListenerConfig http{.port = 8080};
  ListenerConfig grpc{.port = 8081};
  // data_dir holds the signing keys and the ledger. Default: ./writ-data.
  std::string data_dir = "writ-data";
  // policy_dir holds policies/*.yaml. Default: policies.
  std::string policy_dir = "policies";
  std::vector<TrustedIssuerConfig> trusted_issuers;
  TokenConfig tokens;
  LimitsConfig limits;
};

// DefaultIssuerConfig returns the embedded dev default: loopback listeners on
// 8080/8081, ./writ-data, ./policies, and the public CI issuers GitHub Actions
// and GitLab.com trusted for audience issuer_url.
IssuerConfig DefaultIssuerConfig();

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_CONFIG_ISSUER_CONFIG_H_

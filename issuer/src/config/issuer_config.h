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
  // max_header_bytes for an HTTP request's request line and headers
  // together (431 above it). Default: 16 KiB.
  size_t max_header_bytes = 16 * 1024;
  // max_grpc_message_bytes for one gRPC request. Default: 64 KiB.
  size_t max_grpc_message_bytes = 64 * 1024;
  // http_threads: workers for what may block: certificate issuance (HTTP
  // and gRPC), and token exchanges that must first fetch an attesting
  // issuer's keys (HTTP and gRPC each have a pool this size). Default: 0
  // (2 x cores, at least 8).
  int http_threads = 0;
  // http_io_threads: HTTP event loops. They own the connections and also run
  // each token exchange whose attesting issuer's keys are at hand (an
  // exchange that must fetch keys moves to the http_threads workers).
  // Default: 0 (one per core, at most 8).
  int http_io_threads = 0;
  // max_http_connections open at once; more are closed as they come. Each
  // may buffer up to max_header_bytes + max_body_bytes. Default: 1024.
  size_t max_http_connections = 1024;
};

// LedgerConfig paces the ledger's writes (ledger/rocksdb_ledger.h has the
// details and the measurements behind the defaults).
struct LedgerConfig {
  // commit_delay: when decisions arrive while the previous batch is being
  // fsync'ed, the writer waits up to this long for commit_group of them to
  // write them with one fsync. 0 turns it off. Default: 300us.
  absl::Duration commit_delay = absl::Microseconds(300);
  // commit_group: how many decisions end that wait at once. Default: 8.
  size_t commit_group = 8;
  // background_write_bytes_per_sec: ceiling of the rate limiter on what the
  // ledger's flushes and compactions write (it tunes itself between 1/20 of
  // this and this). 0 turns it off. Default: 160 MiB (so at least 8 MiB/s).
  int64_t background_write_bytes_per_sec = int64_t{160} << 20;
};

// KeysConfig governs the key rings (keys/key_manager.h).
struct KeysConfig {
  // rotate_after: an active key older than this is rotated by the schedule.
  // Default: 24 h.
  absl::Duration rotate_after = absl::Hours(24);
  // publish_lead: how long a prepared key is published before the schedule
  // (or `writ keys rotate` without --force) may make it active; verifiers'
  // JWKS and bundle caches must refresh within it. Default: 1 h.
  absl::Duration publish_lead = absl::Hours(1);
  // check_interval: how often the schedule looks. Default: 1 min.
  absl::Duration check_interval = absl::Minutes(1);
};

// X509Config governs X.509-SVIDs and Writ's X.509 CA.
struct X509Config {
  // enabled: false turns X.509-SVID issuance off. Default: true.
  bool enabled = true;
  // trust_domain of the SPIFFE IDs Writ issues: a rule's SPIFFE ID must be
  // in it (a rule granting x509-svid in another trust domain is refused at
  // load). Default: "writ.local"; DefaultIssuerConfig() (the embedded dev
  // default, and the base every config file starts from) sets
  // "acme.example", the example organisation of the shipped policies.
  std::string trust_domain = "writ.local";
  // mode: "self-signed" (dev: each CA key is its own root) or "intermediate"
  // (production: Writ writes a CSR per CA key, the operator's root signs it,
  // and the signed certificate is placed next to it). Default: self-signed.
  std::string mode = "self-signed";
  // root_bundle_file: intermediate mode, the operator's root certificate(s)
  // (PEM) that the signed CA certificates chain to; published as the bundle.
  std::string root_bundle_file;
  // ca_lifetime: validity of a self-signed CA certificate. Must exceed
  // keys.rotate_after + keys.publish_lead + tokens.max_lifetime. Default: 30 d.
  absl::Duration ca_lifetime = absl::Hours(24 * 30);
  // facts_extension_oid: the dotted OID of the non-critical extension that
  // carries the attested facts, under an arc the operator owns (e.g.
  // "1.3.6.1.4.1.<enterprise number>.1"); every arc below 2^31 so that common
  // verifiers can parse it. Default: "" (no facts extension).
  std::string facts_extension_oid;
};

// SshConfig governs SSH user certificates.
struct SshConfig {
  // enabled: false turns SSH certificate issuance off. Default: true.
  bool enabled = true;
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
  LedgerConfig ledger;
  KeysConfig keys;
  X509Config x509;
  SshConfig ssh;
};

// DefaultIssuerConfig returns the embedded dev default: loopback listeners on
// 8080/8081, ./writ-data, ./policies, and the public CI issuers GitHub Actions
// and GitLab.com trusted for audience issuer_url.
IssuerConfig DefaultIssuerConfig();

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_CONFIG_ISSUER_CONFIG_H_

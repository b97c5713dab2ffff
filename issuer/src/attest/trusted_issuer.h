// TrustedIssuerConfig: one OIDC issuer whose tokens Writ accepts as attestation.
#ifndef WRIT_ISSUER_ATTEST_TRUSTED_ISSUER_H_
#define WRIT_ISSUER_ATTEST_TRUSTED_ISSUER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "writ/jose/algorithm.h"

namespace writ::issuer {

// TrustedIssuerConfig says which tokens of one issuer are accepted, and how its
// keys are obtained. Exactly one key source applies: static_jwks when set,
// else jwks_uri when set, else OIDC discovery at
// issuer + "/.well-known/openid-configuration".
struct TrustedIssuerConfig {
  // name is how policies refer to this issuer ("github"). Required, unique.
  std::string name;
  // issuer is the exact "iss" value (string comparison). Required. Must be
  // https://, or http:// on a loopback host (127.0.0.1, [::1], localhost).
  std::string issuer;
  // audiences: the token's "aud" must contain one of these. Required, never
  // empty.
  std::vector<std::string> audiences;
  // algorithms the issuer's tokens may use. Default: RS256 and ES256.
  std::vector<JwsAlgorithm> algorithms = {JwsAlgorithm::kRs256, JwsAlgorithm::kEs256};
  // jwks_uri skips discovery. Same scheme rule as `issuer`. Default: empty.
  std::string jwks_uri;
  // static_jwks is a JWKS document (JSON) used instead of any fetch.
  // Default: empty.
  std::string static_jwks;
  // leeway for exp/nbf/iat. At most 60 s. Default: 30 s.
  absl::Duration leeway = absl::Seconds(30);
  // max_token_bytes: longer tokens are refused before parsing. Default: 16 KiB.
  size_t max_token_bytes = 16 * 1024;
  // one_time_jti: a token's "jti" is accepted once within the token's life;
  // tokens without "jti" are refused. Default: false.
  bool one_time_jti = false;
  // jwks_ttl: how long fetched keys are used before a refresh. Default: 5 min.
  absl::Duration jwks_ttl = absl::Minutes(5);
  // refresh_cooldown: minimum time between two fetches caused by unknown kids.
  // Default: 30 s.
  absl::Duration refresh_cooldown = absl::Seconds(30);
  // stale_keys_max: how long the last good keys stay usable after the TTL when
  // the issuer cannot be reached. Default: 1 h.
  absl::Duration stale_keys_max = absl::Hours(1);
  // connect_timeout and fetch_timeout bound each discovery/JWKS fetch.
  // Defaults: 2 s and 5 s.
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration fetch_timeout = absl::Seconds(5);
  // max_response_bytes caps a discovery or JWKS response. Default: 256 KiB.
  size_t max_response_bytes = 256 * 1024;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_TRUSTED_ISSUER_H_

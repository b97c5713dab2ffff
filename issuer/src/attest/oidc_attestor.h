// OidcAttestor: verifies federated OIDC tokens (GitHub Actions, GitLab CI,
// Kubernetes service accounts, Entra ID ...) against configured trusted
// issuers.
#ifndef WRIT_ISSUER_ATTEST_OIDC_ATTESTOR_H_
#define WRIT_ISSUER_ATTEST_OIDC_ATTESTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/attest/attestor.h"
#include "issuer/src/attest/jwks_cache.h"
#include "issuer/src/attest/replay_cache.h"
#include "issuer/src/attest/trusted_issuer.h"
#include "writ/base/clock.h"
#include "writ/jose/jwt_validator.h"
#include "writ/net/http_fetcher.h"

namespace writ::issuer {

// OidcAttestorOptions tunes what is shared by all issuers.
struct OidcAttestorOptions {
  // replay bounds the one-time jti cache. Default: ReplayCacheOptions.
  ReplayCacheOptions replay;
};

// OidcAttestor implements Attestor for OIDC ID tokens (compact JWS). For a
// token it:
//   1. refuses it (kInvalidArgument) when it is longer than the largest
//      max_token_bytes of any issuer, before any parsing;
//   2. parses it without verifying, to read "iss"; an "iss" that names no
//      trusted issuer is refused (kUnauthenticated) with no network I/O;
//   3. applies that issuer's max_token_bytes and algorithms;
//   4. verifies the signature with the issuer's keys (JwksCache), refreshing
//      once on an unknown kid (subject to refresh_cooldown);
//   5. checks "iss", "aud", "exp" (required), "nbf", "iat" with
//      writ::JwtValidator and the issuer's leeway, and requires "sub";
//   6. with one_time_jti, requires "jti" and refuses a replay.
// Messages never contain the token. Thread-safe; a slow issuer never delays
// tokens of another issuer.
class OidcAttestor final : public Attestor {
 public:
  // New checks every issuer: name non-empty and unique; issuer an https URL,
  // or http on a loopback host, and unique; audiences non-empty (and no
  // empty audience); leeway in [0, 60 s]; algorithms non-empty; jwks_uri
  // under the same scheme rule; static_jwks a valid JWKS with a key; positive
  // sizes, TTL and timeouts. Returns kInvalidArgument naming the issuer and
  // the field. `fetcher` (may be null when every issuer has static_jwks) and
  // `clock` (null: the system clock) are not owned and must outlive the
  // attestor. Nothing is fetched here; see StartWarmUp.
  static absl::StatusOr<std::unique_ptr<OidcAttestor>> New(std::vector<TrustedIssuerConfig> issuers,
                                                           HttpFetcher* fetcher, const Clock* clock,
                                                           const OidcAttestorOptions& options = {});

  // Attest: see Attestor::Attest and the class comment.
  absl::StatusOr<AttestedIdentity> Attest(absl::string_view token, KeyFetch fetch) override;
  using Attestor::Attest;

  // Forget releases the identity's jti when its issuer has one_time_jti.
  void Forget(const AttestedIdentity& identity) override;

  // issuers returns the configuration, in the order given to New.
  const std::vector<TrustedIssuerConfig>& issuers() const { return configs_; }

  // KeyStates describes every issuer's keys (for /readyz and startup output).
  // Never blocks on a fetch.
  std::vector<IssuerKeyState> KeyStates() const { return keys_->States(); }

  // StartWarmUp starts fetching every issuer's keys in the background and
  // returns at once. Call at most once.
  void StartWarmUp() { keys_->StartWarmUp(); }

 private:
  struct Issuer {
    const TrustedIssuerConfig* config;
    IssuerKeys* keys;
    JwtValidator validator;
  };

  OidcAttestor(std::vector<TrustedIssuerConfig> configs, const Clock* clock,
               const OidcAttestorOptions& options)
      : configs_(std::move(configs)), clock_(clock), replay_(clock, options.replay) {}

  absl::Status VerifySignature(const Issuer& issuer, const ParsedJws& jws, KeyFetch fetch);

  std::vector<TrustedIssuerConfig> configs_;
  const Clock* const clock_;
  std::unique_ptr<JwksCache> keys_;
  // by_iss_ maps an exact "iss" to its issuer; fixed after New.
  absl::flat_hash_map<std::string, std::unique_ptr<Issuer>> by_iss_;
  size_t max_token_bytes_ = 0;
  ReplayCache replay_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_OIDC_ATTESTOR_H_

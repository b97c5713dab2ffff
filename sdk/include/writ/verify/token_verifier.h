// TokenVerifier: how a relying party checks the access tokens Writ mints.
// From Writ's issuer URL it finds the JWKS (OIDC discovery), caches the keys,
// follows key rotation, and checks each token's signature, "iss", "aud",
// "exp"/"nbf"/"iat", "typ" (at+jwt) and the scopes the caller requires.
//
//   TokenVerifierOptions options;
//   options.issuer_url = "https://writ.acme.example";
//   options.audience = "https://deploy.acme.example";
//   options.required_scopes = {"deploy:read"};
//   ASSIGN_OR_RETURN(std::unique_ptr<TokenVerifier> verifier,
//                    TokenVerifier::New(std::move(options)));
//   // Per request (thread-safe):
//   absl::StatusOr<VerifiedToken> token = verifier->VerifyAuthorizationHeader(
//       request.header("Authorization"), {"deploy:write"});
//   if (!token.ok()) return Refuse(token.status());  // 401, 403 or 503 by code
//   Deploy(token->subject, token->actor);
//
// Keys: fetched on first use and kept for jwks_ttl; a token signed by a key
// not yet seen (Writ rotated) causes one refetch, at most once per
// refresh_cooldown however many such tokens arrive; while Writ cannot be
// reached the last keys stay usable for stale_keys_max. See JwksSource.
#ifndef WRIT_VERIFY_TOKEN_VERIFIER_H_
#define WRIT_VERIFY_TOKEN_VERIFIER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "writ/base/clock.h"
#include "writ/jose/claims.h"
#include "writ/jose/jwt_validator.h"
#include "writ/net/http_fetcher.h"
#include "writ/net/jwks_source.h"

namespace writ {

// TokenVerifierOptions configures a TokenVerifier.
struct TokenVerifierOptions {
  // issuer_url is Writ's issuer URL, exactly as its tokens' "iss" and its
  // discovery document name it. https://, or http:// only on a loopback
  // host. Required.
  std::string issuer_url;
  // jwks_uri skips discovery and fetches the keys from here. Same scheme
  // rule. Default: empty (discovery at issuer_url).
  std::string jwks_uri;
  // static_jwks is a JWKS document (JSON) to verify with offline: nothing is
  // fetched and rotation needs a new verifier. Default: empty.
  std::string static_jwks;
  // audience names this relying party: a token's "aud" must contain it.
  // Required.
  std::string audience;
  // required_scopes must all be in every token's "scope" (on top of those a
  // Verify call names). Each is non-empty, without spaces. Default: none.
  std::vector<std::string> required_scopes;
  // leeway is the clock difference allowed for "exp", "nbf" and "iat".
  // Between 0 and kMaxJwtLeeway (60 s). Default: 30 s.
  absl::Duration leeway = absl::Seconds(30);
  // expected_type is the JWS "typ" a token must carry: Writ's access tokens
  // are "at+jwt" (RFC 9068 section 2.1), which keeps ID tokens and other
  // JWTs signed by the same keys from passing as access tokens. Compared
  // ignoring case and an "application/" prefix. Must not be empty.
  // Default: "at+jwt".
  std::string expected_type = "at+jwt";
  // max_token_bytes: longer tokens are refused before parsing.
  // Default: 16 KiB.
  size_t max_token_bytes = 16 * 1024;
  // jwks_ttl: how long fetched keys are used before a refresh. Default: 5 min.
  absl::Duration jwks_ttl = absl::Minutes(5);
  // refresh_cooldown: the least time between two fetches caused by unknown
  // kids or by failures. Default: 30 s.
  absl::Duration refresh_cooldown = absl::Seconds(30);
  // stale_keys_max: how long keys stay usable past jwks_ttl while Writ
  // cannot be reached. Default: 1 h.
  absl::Duration stale_keys_max = absl::Hours(1);
  // ca_pem, when set, is the only trust anchor for https to Writ (a private
  // CA); used only by the fetcher the verifier makes itself. Default: empty
  // (the system trust store).
  std::string ca_pem;
  // fetcher makes the discovery and JWKS requests; not owned, must outlive
  // the verifier. Default: null (a CurlFetcher owned by the verifier).
  HttpFetcher* fetcher = nullptr;
  // clock is "now" for every time check and the key cache; not owned, must
  // outlive the verifier. Default: null (the system clock).
  const Clock* clock = nullptr;
};

// VerifiedToken is what a token that passed every check says.
struct VerifiedToken {
  // subject is "sub": the identity Writ granted (e.g. a SPIFFE ID).
  std::string subject;
  // client_id is the "client_id" claim (RFC 9068); empty when absent.
  std::string client_id;
  // jti is the token's unique ID; empty when absent.
  std::string jti;
  // scopes are the space-separated "scope" claim, in order; empty when the
  // token carries none.
  std::vector<std::string> scopes;
  // expires_at is "exp".
  absl::Time expires_at;
  // actor is "act"."sub" when the token was issued to an actor acting for
  // the subject (delegation, RFC 8693 section 4.1); nullopt otherwise.
  std::optional<std::string> actor;
  // claims holds every claim, e.g. the attested facts under "attest".
  JwtClaims claims;
};

// TokenVerifier verifies Writ access tokens for one audience. Thread-safe.
class TokenVerifier {
 public:
  // New checks the options and sets up the key source; nothing is fetched
  // yet. Returns kInvalidArgument naming the field that is wrong.
  static absl::StatusOr<std::unique_ptr<TokenVerifier>> New(TokenVerifierOptions options);
  ~TokenVerifier();

  // Verify checks `token` and returns what it says. The checks, cheapest
  // first: size and syntax; "typ", "iss", "aud", "exp", "nbf", "iat" at the
  // clock's now; the signature with Writ's keys (one refetch when the kid is
  // unknown); a "sub"; every scope in options().required_scopes and in
  // `required_scopes`. So a token that can never pass costs no key fetch.
  //
  // Returns kUnauthenticated (HTTP 401) for a malformed, expired, not yet
  // valid or tampered token, a wrong "iss", "aud" or "typ", and a key that
  // is unknown even after a refresh; kPermissionDenied (HTTP 403) naming the
  // scopes missing from an otherwise valid token; kUnavailable (HTTP 503)
  // when no keys can be had. Messages never contain the token.
  absl::StatusOr<VerifiedToken> Verify(absl::string_view token,
                                       absl::Span<const std::string> required_scopes = {}) const;

  // VerifyAuthorizationHeader takes an HTTP Authorization header value:
  // "Bearer <token>" (RFC 6750 section 2.1; the scheme in any letter case),
  // then as Verify. Returns kUnauthenticated when the header is empty, has
  // another scheme or holds no single token.
  absl::StatusOr<VerifiedToken> VerifyAuthorizationHeader(
      absl::string_view header, absl::Span<const std::string> required_scopes = {}) const;

  // KeysState describes the keys held now (source, URL, count, last fetch,
  // last error), for readiness checks. Never blocks on a fetch.
  JwksSourceState KeysState() const;

  const TokenVerifierOptions& options() const { return options_; }

 private:
  TokenVerifier(TokenVerifierOptions options, std::unique_ptr<HttpFetcher> owned_fetcher,
                std::unique_ptr<JwksSource> keys, JwtValidator validator);

  absl::Status VerifySignature(const ParsedJws& jws) const;

  const TokenVerifierOptions options_;
  const std::unique_ptr<HttpFetcher> owned_fetcher_;
  const std::unique_ptr<JwksSource> keys_;
  const JwtValidator validator_;
};

}  // namespace writ

#endif  // WRIT_VERIFY_TOKEN_VERIFIER_H_

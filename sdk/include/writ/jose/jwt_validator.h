// JwtValidator: the whole check of a signed JWT, with strict defaults and an
// injected clock.
//
//   JwtValidatorOptions opts;
//   opts.issuer = "https://token.actions.githubusercontent.com";
//   opts.audiences = {"https://writ.example"};
//   ASSIGN_OR_RETURN(JwtValidator validator, JwtValidator::New(opts, &clock));
//   ASSIGN_OR_RETURN(VerifiedJwt jwt, validator.Verify(token, jwks));
#ifndef WRIT_JOSE_JWT_VALIDATOR_H_
#define WRIT_JOSE_JWT_VALIDATOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/jose/claims.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jws.h"

namespace writ {

// The largest clock leeway a validator accepts.
inline constexpr absl::Duration kMaxJwtLeeway = absl::Seconds(60);

// JwtValidatorOptions says what a valid token looks like.
struct JwtValidatorOptions {
  // The exact "iss" required (string comparison, no normalisation). Required.
  std::string issuer;
  // The token's "aud" must contain at least one of these. Required: an
  // audience check can only be skipped by naming it (ignore_audience).
  std::vector<std::string> audiences;
  // Skip the audience check. Default: false.
  bool ignore_audience = false;
  // Allowed clock difference for "exp", "nbf" and "iat". At most 60 s.
  // Default: 60 s.
  absl::Duration leeway = absl::Seconds(60);
  // When set, the JWS "typ" header must equal this, ignoring letter case and
  // an "application/" prefix (RFC 7515 section 4.1.9). Default: unset.
  std::optional<std::string> expected_type;
  // Reject tokens whose exp - iat (or exp - now without iat) exceeds this.
  // Default: unset (no limit).
  std::optional<absl::Duration> max_lifetime;
  // How tokens are parsed. Default: JwsParseOptions defaults.
  JwsParseOptions parse;
};

// VerifiedJwt is a token whose signature and claims passed.
struct VerifiedJwt {
  ParsedJws jws;
  JwtClaims claims;
};

// UnverifiedJwt is a token split and parsed but not yet checked: what a
// caller needs to choose the key set (by "iss") before verifying.
struct UnverifiedJwt {
  ParsedJws jws;
  JwtClaims claims;
};

// ParseJwt parses a compact JWS and its claims. Nothing is verified.
// Returns kInvalidArgument as ParseCompactJws and JwtClaims::Parse do.
absl::StatusOr<UnverifiedJwt> ParseJwt(absl::string_view token,
                                       const JwsParseOptions& options = {});

// JwtValidator checks tokens. Immutable after New; thread-safe.
class JwtValidator {
 public:
  // New checks the options. Returns kInvalidArgument for an empty issuer, no
  // audiences without ignore_audience, or a leeway that is negative or over
  // kMaxJwtLeeway. `clock` must outlive the validator; null means the system
  // clock.
  static absl::StatusOr<JwtValidator> New(JwtValidatorOptions options,
                                          const Clock* clock = nullptr);

  // Verify parses `token`, checks its signature against `keys` and its claims.
  // Returns kInvalidArgument for a malformed token, kNotFound for an unknown
  // kid, kUnauthenticated for a bad signature or failed claim check.
  absl::StatusOr<VerifiedJwt> Verify(absl::string_view token, const JwkSet& keys) const;

  // Check verifies the signature and claims of an already parsed token.
  absl::StatusOr<VerifiedJwt> Check(UnverifiedJwt jwt, const JwkSet& keys) const;

  // ValidateClaims checks "typ" (when expected), "iss", "aud", "exp" (required),
  // "nbf" and "iat" at the clock's now. Returns kUnauthenticated naming the
  // failed check.
  absl::Status ValidateClaims(const ParsedJws& jws, const JwtClaims& claims) const;

  const JwtValidatorOptions& options() const { return options_; }

 private:
  JwtValidator(JwtValidatorOptions options, const Clock* clock)
      : options_(std::move(options)), clock_(clock) {}
  JwtValidatorOptions options_;
  const Clock* clock_;
};

}  // namespace writ

#endif  // WRIT_JOSE_JWT_VALIDATOR_H_

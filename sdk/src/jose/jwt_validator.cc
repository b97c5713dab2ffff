#include "writ/jose/jwt_validator.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/base/status_macros.h"
#include "writ/jose/jws_verifier.h"

namespace writ {
namespace {

// RFC 7515 section 4.1.9: "typ" compares case-insensitively and an
// "application/" prefix may be left out.
absl::string_view StripApplication(absl::string_view type) {
  if (absl::StartsWithIgnoreCase(type, "application/") &&
      !absl::StrContains(type.substr(12), '/')) {
    type.remove_prefix(12);
  }
  return type;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<UnverifiedJwt> ParseJwt(absl::string_view token, const JwsParseOptions& options) {
  ASSIGN_OR_RETURN(ParsedJws jws, ParseCompactJws(token, options));
  ASSIGN_OR_RETURN(JwtClaims claims, JwtClaims::Parse(jws.payload()));
  return UnverifiedJwt{std::move(jws), std::move(claims)};
}

absl::StatusOr<JwtValidator> JwtValidator::New(JwtValidatorOptions options, const Clock* clock) {
  if (options.issuer.empty()) return absl::InvalidArgumentError("validator needs an issuer");
  if (options.audiences.empty() && !options.ignore_audience) {
    return absl::InvalidArgumentError("validator needs at least one accepted audience");
  }
  if (options.leeway < absl::ZeroDuration() || options.leeway > kMaxJwtLeeway) {
    return absl::InvalidArgumentError(
        absl::StrCat("leeway must be between 0 and ", absl::FormatDuration(kMaxJwtLeeway)));
  }
  if (options.max_lifetime.has_value() && *options.max_lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("max_lifetime must be positive");
  }
  return JwtValidator(std::move(options), clock != nullptr ? clock : &Clock::Real());
}

absl::StatusOr<VerifiedJwt> JwtValidator::Verify(absl::string_view token,
                                                 const JwkSet& keys) const {
  ASSIGN_OR_RETURN(UnverifiedJwt jwt, ParseJwt(token, options_.parse));
  return Check(std::move(jwt), keys);
}

absl::StatusOr<VerifiedJwt> JwtValidator::Check(UnverifiedJwt jwt, const JwkSet& keys) const {
  // The claims checked must be the ones signed: a caller could have swapped
  // them between ParseJwt and Check.
  if (jwt.claims.json() != jwt.jws.payload()) {
    return absl::InvalidArgumentError("claims do not come from this token's payload");
  }
  RETURN_IF_ERROR(VerifyJws(jwt.jws, keys));
  RETURN_IF_ERROR(ValidateClaims(jwt.jws, jwt.claims));
  return VerifiedJwt{std::move(jwt.jws), std::move(jwt.claims)};
}

absl::Status JwtValidator::ValidateClaims(const ParsedJws& jws, const JwtClaims& claims) const {
  if (options_.expected_type.has_value() &&
      !absl::EqualsIgnoreCase(StripApplication(jws.type()),
                              StripApplication(*options_.expected_type))) {
    return absl::UnauthenticatedError(
        absl::StrCat("token \"typ\" is \"", internal::Printable(jws.type(), 32), "\", expected \"",
                     *options_.expected_type, "\""));
  }
  if (claims.issuer() != options_.issuer) {
    return absl::UnauthenticatedError("token \"iss\" is not the expected issuer");
  }
  if (!options_.ignore_audience) {
    const auto& auds = claims.audiences();
    const bool match = std::any_of(auds.begin(), auds.end(), [&](const std::string& a) {
      return std::find(options_.audiences.begin(), options_.audiences.end(), a) !=
             options_.audiences.end();
    });
    if (!match)
      return absl::UnauthenticatedError("token \"aud\" names none of the accepted audiences");
  }
  const absl::Time now = clock_->Now();
  const auto exp = claims.expires_at();
  if (!exp.has_value()) return absl::UnauthenticatedError("token has no \"exp\"");
  // RFC 7519 section 4.1.4: valid only while now is before exp.
  if (now >= *exp + options_.leeway) {
    return absl::UnauthenticatedError(absl::StrCat("token expired at ", Rfc3339(*exp)));
  }
  if (const auto nbf = claims.not_before(); nbf.has_value() && now < *nbf - options_.leeway) {
    return absl::UnauthenticatedError(absl::StrCat("token is not valid before ", Rfc3339(*nbf)));
  }
  const auto iat = claims.issued_at();
  if (iat.has_value() && *iat > now + options_.leeway) {
    return absl::UnauthenticatedError(
        absl::StrCat("token is issued in the future (", Rfc3339(*iat), ")"));
  }
  if (options_.max_lifetime.has_value() && *exp - iat.value_or(now) > *options_.max_lifetime) {
    return absl::UnauthenticatedError(
        absl::StrCat("token lifetime exceeds ", absl::FormatDuration(*options_.max_lifetime)));
  }
  return absl::OkStatus();
}

}  // namespace writ

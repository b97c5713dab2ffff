#include "issuer/src/attest/oidc_attestor.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "writ/base/status_macros.h"
#include "writ/jose/jws_verifier.h"
#include "writ/net/fetch_url.h"

namespace writ::issuer {
namespace {

// Quote shows an untrusted value in a message: escaped and cut short.
std::string Quote(absl::string_view value) {
  constexpr size_t kMax = 128;
  std::string out = absl::CHexEscape(value.substr(0, kMax));
  if (value.size() > kMax) absl::StrAppend(&out, "...");
  return absl::StrCat("\"", out, "\"");
}

absl::Status FieldError(const TrustedIssuerConfig& config, size_t index, absl::string_view field,
                        absl::string_view why) {
  const std::string who =
      config.name.empty() ? absl::StrCat("#", index + 1) : absl::StrCat("\"", config.name, "\"");
  return absl::InvalidArgumentError(absl::StrCat("trusted issuer ", who, ": ", field, ": ", why));
}

// ForIssuer prefixes a failure with the issuer's name, keeping its code.
absl::Status ForIssuer(const TrustedIssuerConfig& config, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat("trusted issuer \"", config.name, "\": ", status.message()));
}

absl::Status ValidateConfig(const TrustedIssuerConfig& config, size_t index) {
  if (config.name.empty()) return FieldError(config, index, "name", "must not be empty");
  if (config.issuer.empty()) return FieldError(config, index, "issuer", "must not be empty");
  if (absl::Status url = ParseFetchUrl(config.issuer).status(); !url.ok()) {
    return FieldError(config, index, "issuer", url.message());
  }
  if (config.audiences.empty()) {
    return FieldError(config, index, "audiences", "must name at least one audience");
  }
  for (const std::string& audience : config.audiences) {
    if (audience.empty()) return FieldError(config, index, "audiences", "holds an empty audience");
  }
  if (config.leeway < absl::ZeroDuration() || config.leeway > kMaxJwtLeeway) {
    return FieldError(config, index, "leeway",
                      absl::StrCat("must be between 0 and ", absl::FormatDuration(kMaxJwtLeeway),
                                   " (is ", absl::FormatDuration(config.leeway), ")"));
  }
  // JwsAlgorithm has no "none" and no HMAC, so only emptiness is left to check.
  if (config.algorithms.empty()) {
    return FieldError(config, index, "algorithms", "must name at least one algorithm");
  }
  if (config.max_token_bytes == 0) {
    return FieldError(config, index, "max_token_bytes", "must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<OidcAttestor>> OidcAttestor::New(
    std::vector<TrustedIssuerConfig> issuers, HttpFetcher* fetcher, const Clock* clock,
    const OidcAttestorOptions& options) {
  if (clock == nullptr) clock = &Clock::Real();
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> urls;
  for (size_t i = 0; i < issuers.size(); ++i) {
    const TrustedIssuerConfig& config = issuers[i];
    RETURN_IF_ERROR(ValidateConfig(config, i));
    if (!names.insert(config.name).second) {
      return FieldError(config, i, "name", "is used by another trusted issuer");
    }
    if (!urls.insert(config.issuer).second) {
      return FieldError(config, i, "issuer",
                        absl::StrCat("\"", config.issuer, "\" is configured twice"));
    }
  }
  std::unique_ptr<OidcAttestor> attestor(new OidcAttestor(std::move(issuers), clock, options));
  ASSIGN_OR_RETURN(attestor->keys_, JwksCache::New(attestor->configs_, fetcher, clock));
  for (const TrustedIssuerConfig& config : attestor->configs_) {
    JwtValidatorOptions validator_options;
    validator_options.issuer = config.issuer;
    validator_options.audiences = config.audiences;
    validator_options.leeway = config.leeway;
    validator_options.parse.max_token_bytes = config.max_token_bytes;
    absl::StatusOr<JwtValidator> validator = JwtValidator::New(validator_options, clock);
    if (!validator.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("trusted issuer \"", config.name, "\": ", validator.status().message()));
    }
    attestor->by_iss_.emplace(
        config.issuer,
        std::make_unique<Issuer>(Issuer{&config, attestor->keys_->Find(config.name), *validator}));
    attestor->max_token_bytes_ = std::max(attestor->max_token_bytes_, config.max_token_bytes);
  }
  return attestor;
}

absl::Status OidcAttestor::VerifySignature(const Issuer& issuer, const ParsedJws& jws,
                                           KeyFetch fetch) {
  ASSIGN_OR_RETURN(std::shared_ptr<const JwkSet> keys, issuer.keys->Keys(fetch));
  const absl::Status verified = VerifyJws(jws, *keys);
  if (verified.code() != absl::StatusCode::kNotFound) return ForIssuer(*issuer.config, verified);

  // Unknown kid: the issuer may have rotated. One refresh, then one retry.
  absl::StatusOr<std::shared_ptr<const JwkSet>> refreshed =
      issuer.keys->KeysAfterUnknownKid(keys, fetch);
  if (!refreshed.ok()) {
    const absl::StatusCode code = refreshed.status().code();
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kAborted) {
      return refreshed.status();
    }
    return ForIssuer(*issuer.config, absl::UnauthenticatedError(absl::StrCat(
                                         verified.message(),
                                         "; keys not refreshed: ", refreshed.status().message())));
  }
  const absl::Status retried = VerifyJws(jws, **refreshed);
  if (retried.code() == absl::StatusCode::kNotFound) {
    return ForIssuer(*issuer.config, absl::UnauthenticatedError(absl::StrCat(
                                         retried.message(), ", even after refreshing the keys")));
  }
  return ForIssuer(*issuer.config, retried);
}

absl::StatusOr<AttestedIdentity> OidcAttestor::Attest(absl::string_view token, KeyFetch fetch) {
  if (by_iss_.empty()) {
    return absl::UnauthenticatedError("no token issuer is trusted: none is configured");
  }
  if (token.size() > max_token_bytes_) {
    return absl::InvalidArgumentError(
        absl::StrCat("token is ", token.size(), " bytes; the limit is ", max_token_bytes_));
  }
  JwsParseOptions parse;
  parse.max_token_bytes = max_token_bytes_;
  absl::StatusOr<UnverifiedJwt> jwt = ParseJwt(token, parse);
  if (!jwt.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed token: ", jwt.status().message()));
  }
  const std::string& iss = jwt->claims.issuer();
  if (iss.empty()) return absl::UnauthenticatedError("token has no \"iss\" claim");
  auto found = by_iss_.find(iss);
  if (found == by_iss_.end()) {
    return absl::UnauthenticatedError(absl::StrCat("token issuer ", Quote(iss), " is not trusted"));
  }
  const Issuer& issuer = *found->second;
  const TrustedIssuerConfig& config = *issuer.config;
  if (token.size() > config.max_token_bytes) {
    return ForIssuer(config, absl::InvalidArgumentError(
                                 absl::StrCat("token is ", token.size(), " bytes; the limit is ",
                                              config.max_token_bytes, " (max_token_bytes)")));
  }
  const JwsAlgorithm alg = jwt->jws.algorithm();
  if (std::find(config.algorithms.begin(), config.algorithms.end(), alg) ==
      config.algorithms.end()) {
    return ForIssuer(config, absl::UnauthenticatedError(absl::StrCat(
                                 "token algorithm ", JwsAlgorithmName(alg), " is not allowed")));
  }
  RETURN_IF_ERROR(VerifySignature(issuer, jwt->jws, fetch));
  RETURN_IF_ERROR(ForIssuer(config, issuer.validator.ValidateClaims(jwt->jws, jwt->claims)));
  const JwtClaims& claims = jwt->claims;
  if (claims.subject().empty()) {
    return ForIssuer(config, absl::UnauthenticatedError("token has no \"sub\" claim"));
  }
  const absl::Time expires_at = *claims.expires_at();  // ValidateClaims requires "exp".
  if (config.one_time_jti) {
    if (claims.jwt_id().empty()) {
      return ForIssuer(config, absl::UnauthenticatedError(
                                   "token has no \"jti\" claim, and one_time_jti requires one"));
    }
    RETURN_IF_ERROR(ForIssuer(config, replay_.CheckAndRemember(config.name, claims.jwt_id(),
                                                               expires_at + config.leeway)));
  }
  return AttestedIdentity{config.name, iss, claims.subject(), claims.jwt_id(), expires_at, claims};
}

void OidcAttestor::Forget(const AttestedIdentity& identity) {
  auto it = by_iss_.find(identity.issuer);
  if (it == by_iss_.end() || !it->second->config->one_time_jti || identity.jti.empty()) return;
  replay_.Forget(it->second->config->name, identity.jti);
}

}  // namespace writ::issuer

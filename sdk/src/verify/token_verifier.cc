#include "writ/verify/token_verifier.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "writ/base/status_macros.h"
#include "writ/jose/jws_verifier.h"
#include "writ/net/curl_fetcher.h"
#include "writ/net/fetch_url.h"

namespace writ {
namespace {

absl::Status OptionError(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("token verifier: ", field, ": ", why));
}

// CheckScopeToken applies RFC 6749 section 3.3: a scope is one or more of
// %x21 / %x23-5B / %x5D-7E (printable ASCII but space, '"' and '\').
absl::Status CheckScopeToken(absl::string_view scope) {
  if (scope.empty()) return absl::InvalidArgumentError("a required scope is empty");
  for (const char c : scope) {
    if (c < 0x21 || c > 0x7e || c == '"' || c == '\\') {
      return absl::InvalidArgumentError(
          "a required scope holds a space, a quote, a backslash or a non-printable byte");
    }
  }
  return absl::OkStatus();
}

// ScopesOf reads the space-separated "scope" claim (RFC 9068 section 2.2.3).
absl::StatusOr<std::vector<std::string>> ScopesOf(const JwtClaims& claims) {
  if (!claims.Has("scope")) return std::vector<std::string>();
  std::optional<absl::string_view> scope = claims.GetString("scope");
  if (!scope.has_value()) return absl::UnauthenticatedError("token \"scope\" is not a string");
  return std::vector<std::string>(absl::StrSplit(*scope, ' ', absl::SkipEmpty()));
}

// MissingScopes lists the required scopes (in order, once each) that
// `granted` lacks.
std::vector<std::string> MissingScopes(const std::vector<std::string>& granted,
                                       absl::Span<const std::string> a,
                                       absl::Span<const std::string> b) {
  std::vector<std::string> missing;
  for (absl::Span<const std::string> required : {a, b}) {
    for (const std::string& scope : required) {
      if (std::find(granted.begin(), granted.end(), scope) != granted.end()) continue;
      if (std::find(missing.begin(), missing.end(), scope) != missing.end()) continue;
      missing.push_back(scope);
    }
  }
  return missing;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenVerifier>> TokenVerifier::New(TokenVerifierOptions options) {
  if (options.issuer_url.empty()) return OptionError("issuer_url", "must not be empty");
  if (absl::Status url = ParseFetchUrl(options.issuer_url).status(); !url.ok()) {
    return OptionError("issuer_url", url.message());
  }
  if (options.audience.empty()) return OptionError("audience", "must not be empty");
  if (options.expected_type.empty()) return OptionError("expected_type", "must not be empty");
  if (options.max_token_bytes == 0) return OptionError("max_token_bytes", "must be positive");
  for (const std::string& scope : options.required_scopes) {
    if (absl::Status ok = CheckScopeToken(scope); !ok.ok()) {
      return OptionError("required_scopes", ok.message());
    }
  }

  JwtValidatorOptions validator_options;
  validator_options.issuer = options.issuer_url;
  validator_options.audiences = {options.audience};
  validator_options.leeway = options.leeway;
  validator_options.expected_type = options.expected_type;
  validator_options.parse.max_token_bytes = options.max_token_bytes;
  absl::StatusOr<JwtValidator> validator = JwtValidator::New(validator_options, options.clock);
  if (!validator.ok()) return OptionError("leeway", validator.status().message());

  HttpFetcher* fetcher = nullptr;
  std::unique_ptr<HttpFetcher> owned_fetcher = CurlFetcherUnlessGiven(
      options.fetcher, {.ca_pem = options.ca_pem, .user_agent = "writ-verify"}, &fetcher);
  JwksSourceOptions source;
  source.label = absl::StrCat("Writ issuer \"", options.issuer_url, "\"");
  source.issuer = options.issuer_url;
  source.jwks_uri = options.jwks_uri;
  source.static_jwks = options.static_jwks;
  source.jwks_ttl = options.jwks_ttl;
  source.refresh_cooldown = options.refresh_cooldown;
  source.stale_keys_max = options.stale_keys_max;
  ASSIGN_OR_RETURN(std::unique_ptr<JwksSource> keys,
                   JwksSource::New(std::move(source), fetcher, options.clock));
  return std::unique_ptr<TokenVerifier>(new TokenVerifier(
      std::move(options), std::move(owned_fetcher), std::move(keys), *std::move(validator)));
}

TokenVerifier::TokenVerifier(TokenVerifierOptions options,
                             std::unique_ptr<HttpFetcher> owned_fetcher,
                             std::unique_ptr<JwksSource> keys, JwtValidator validator)
    : options_(std::move(options)),
      owned_fetcher_(std::move(owned_fetcher)),
      keys_(std::move(keys)),
      validator_(std::move(validator)) {}

TokenVerifier::~TokenVerifier() = default;

absl::Status TokenVerifier::VerifySignature(const ParsedJws& jws) const {
  ASSIGN_OR_RETURN(std::shared_ptr<const JwkSet> keys, keys_->Keys());
  const absl::Status verified = VerifyJws(jws, *keys);
  if (verified.code() != absl::StatusCode::kNotFound) return verified;

  // Unknown kid: Writ may have rotated. One refresh (JwksSource allows one
  // per refresh_cooldown, however many callers ask), then one retry.
  absl::StatusOr<std::shared_ptr<const JwkSet>> refreshed = keys_->KeysAfterUnknownKid(keys);
  if (!refreshed.ok()) {
    if (refreshed.status().code() == absl::StatusCode::kUnavailable) return refreshed.status();
    return absl::UnauthenticatedError(
        absl::StrCat(verified.message(), "; keys not refreshed: ", refreshed.status().message()));
  }
  const absl::Status retried = VerifyJws(jws, **refreshed);
  if (retried.code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError(
        absl::StrCat(retried.message(), ", even after refreshing the keys"));
  }
  return retried;
}

absl::StatusOr<VerifiedToken> TokenVerifier::Verify(
    absl::string_view token, absl::Span<const std::string> required_scopes) const {
  for (const std::string& scope : required_scopes) RETURN_IF_ERROR(CheckScopeToken(scope));
  if (token.empty()) return absl::UnauthenticatedError("no token");
  if (token.size() > options_.max_token_bytes) {
    return absl::UnauthenticatedError(
        absl::StrCat("token is ", token.size(), " bytes; the limit is ", options_.max_token_bytes));
  }
  absl::StatusOr<UnverifiedJwt> jwt = ParseJwt(token, validator_.options().parse);
  if (!jwt.ok()) {
    return absl::UnauthenticatedError(absl::StrCat("malformed token: ", jwt.status().message()));
  }
  // Claims before the signature: an expired or foreign token is refused
  // without a key fetch, so only tokens that could pass can cause one.
  RETURN_IF_ERROR(validator_.ValidateClaims(jwt->jws, jwt->claims));
  RETURN_IF_ERROR(VerifySignature(jwt->jws));

  const JwtClaims& claims = jwt->claims;
  VerifiedToken out;
  out.subject = claims.subject();
  if (out.subject.empty()) return absl::UnauthenticatedError("token has no \"sub\"");
  if (claims.Has("client_id")) {
    std::optional<absl::string_view> client_id = claims.GetString("client_id");
    if (!client_id.has_value()) {
      return absl::UnauthenticatedError("token \"client_id\" is not a string");
    }
    out.client_id = std::string(*client_id);
  }
  if (claims.Has("act")) {
    std::optional<absl::string_view> actor = claims.GetStringAt({"act", "sub"});
    if (!actor.has_value() || actor->empty()) {
      return absl::UnauthenticatedError("token \"act\" has no \"sub\" string");
    }
    out.actor = std::string(*actor);
  }
  out.jti = claims.jwt_id();
  out.expires_at = *claims.expires_at();  // ValidateClaims requires "exp".
  ASSIGN_OR_RETURN(out.scopes, ScopesOf(claims));
  const std::vector<std::string> missing =
      MissingScopes(out.scopes, options_.required_scopes, required_scopes);
  if (!missing.empty()) {
    return absl::PermissionDeniedError(absl::StrCat("token lacks the required scope",
                                                    missing.size() > 1 ? "s" : "", " \"",
                                                    absl::StrJoin(missing, "\", \""), "\""));
  }
  out.claims = claims;
  return out;
}

absl::StatusOr<VerifiedToken> TokenVerifier::VerifyAuthorizationHeader(
    absl::string_view header, absl::Span<const std::string> required_scopes) const {
  header = absl::StripAsciiWhitespace(header);
  if (header.empty()) return absl::UnauthenticatedError("no Authorization header");
  const size_t space = header.find(' ');
  if (space == absl::string_view::npos ||
      !absl::EqualsIgnoreCase(header.substr(0, space), "Bearer")) {
    return absl::UnauthenticatedError("the Authorization header is not \"Bearer <token>\"");
  }
  const absl::string_view token = absl::StripLeadingAsciiWhitespace(header.substr(space + 1));
  for (const char c : token) {
    if (c <= 0x20 || c > 0x7e) {
      return absl::UnauthenticatedError(
          "the Authorization header holds more than one token or a non-printable byte");
    }
  }
  return Verify(token, required_scopes);
}

JwksSourceState TokenVerifier::KeysState() const { return keys_->State(); }

}  // namespace writ

// writ verify: check a Writ token the way a relying party does (the SDK's
// TokenVerifier: Writ's discovery document and JWKS, iss, aud, exp, typ,
// required scopes).

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "sdk/cli/json_util.h"
#include "writ/base/status_macros.h"
#include "writ/verify/token_verifier.h"

namespace writ::cli {

absl::Status RunVerifyCommand(absl::string_view name, absl::Span<const std::string> args,
                              CommandEnv& env) {
  std::string issuer, audience, jwks_uri, token, token_file, format = "raw";
  std::vector<std::string> scopes;
  FlagSet flags(
      std::string(name),
      "[--issuer URL] --audience AUD [--scope S]... [--jwks-uri URL] "
      "(--token TOKEN | --token-file FILE|-) [--format raw|json]",
      "Verifies a Writ token as a relying party would: the signature against the\n"
      "issuer's published keys (discovery, or --jwks-uri), iss, aud, exp, nbf,\n"
      "typ at+jwt, and every --scope. Prints who the token is for.\n"
      "  writ token ... | writ verify --audience https://deploy.acme.example --scope deploy:write "
      "--token-file -\n"
      "Exit codes: 0 valid, 1 failed, 2 usage error, 3 invalid (the reason on\n"
      "stderr), 4 the issuer's keys cannot be fetched now.");
  flags.String("issuer", "URL", &issuer,
               "Writ's issuer URL (default: $WRIT_ISSUER, else http://127.0.0.1:8080)");
  flags.String("audience", "AUD", &audience, "this relying party's audience", FlagSet::kRequired);
  flags.StringList("scope", "S", &scopes, "a scope the token must carry (repeatable)");
  flags.String("jwks-uri", "URL", &jwks_uri, "fetch keys here instead of through discovery");
  flags.String("token", "TOKEN", &token, "the token (visible in the process list: prefer a file)");
  flags.String("token-file", "FILE", &token_file, "read the token from FILE ('-' = stdin)");
  flags.String("format", "raw|json", &format,
               "raw: one line per fact; json: subject, actor, scopes, expiry, jti");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  if (flags.IsSet("token") == flags.IsSet("token-file")) {
    return flags.Error("give one of --token and --token-file");
  }
  if (format != "raw" && format != "json") return flags.Error("--format must be raw or json");
  if (flags.IsSet("token-file")) {
    ASSIGN_OR_RETURN(std::string raw, ReadInput(token_file, "--token-file", *env.in));
    token = std::string(TrimToken(raw));
  }
  TokenVerifierOptions options;
  options.issuer_url =
      issuer.empty() ? env.getenv("WRIT_ISSUER").value_or("http://127.0.0.1:8080") : issuer;
  while (absl::EndsWith(options.issuer_url, "/")) options.issuer_url.pop_back();
  options.jwks_uri = jwks_uri;
  options.audience = audience;
  options.required_scopes = scopes;
  options.clock = env.clock;
  ASSIGN_OR_RETURN(std::unique_ptr<TokenVerifier> verifier, TokenVerifier::New(options));
  ASSIGN_OR_RETURN(VerifiedToken verified, verifier->Verify(token));

  const std::string expires =
      absl::FormatTime(absl::RFC3339_sec, verified.expires_at, absl::UTCTimeZone());
  if (format == "json") {
    JsonMember scope_list{"scopes"};
    scope_list.list = verified.scopes;
    scope_list.is_list = true;
    *env.out << FlatJson({{"subject", verified.subject},
                          {"actor", verified.actor.value_or("")},
                          scope_list,
                          {"client_id", verified.client_id},
                          {"expires_at", expires},
                          {"jti", verified.jti}})
             << "\n";
    return absl::OkStatus();
  }
  *env.out << "valid token for " << audience << "\n"
           << "  subject:  " << verified.subject << "\n";
  if (verified.actor) *env.out << "  actor:    " << *verified.actor << " (act)\n";
  *env.out << "  scopes:   " << absl::StrJoin(verified.scopes, " ") << "\n"
           << "  expires:  " << expires << "\n";
  return absl::OkStatus();
}

}  // namespace writ::cli

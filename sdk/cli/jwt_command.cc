// writ jwt sign | verify | decode

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "sdk/cli/json_util.h"
#include "sdk/cli/keys_util.h"
#include "writ/base/base64url.h"
#include "writ/base/status_macros.h"
#include "writ/jose/claims.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"

namespace writ::cli {
namespace {

// The largest token read from a file or stdin. ParseCompactJws has its own,
// smaller limit; this one only bounds memory.
constexpr size_t kMaxTokenInputBytes = 64 * 1024;

// TokenSource is where verify and decode read the token from.
struct TokenSource {
  std::string token;
  std::string token_file;

  void Declare(FlagSet& flags) {
    flags.String("token", "TOKEN", &token, "the compact JWS");
    flags.String("token-file", "FILE", &token_file,
                 "read the token from FILE ('-' for stdin; default: stdin)");
  }

  bool FromStdin(const FlagSet& flags) const {
    return !flags.IsSet("token") && (!flags.IsSet("token-file") || token_file == "-");
  }

  // Check is the usage check, done before any input is read.
  absl::Status Check(const FlagSet& flags) const {
    if (flags.IsSet("token") && flags.IsSet("token-file")) {
      return flags.Error("give the token with --token or --token-file, not both");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Read(const FlagSet& flags, CommandEnv& env) const {
    std::string raw;
    if (flags.IsSet("token")) {
      raw = token;
    } else if (flags.IsSet("token-file")) {
      ASSIGN_OR_RETURN(raw, ReadInput(token_file, "--token-file", *env.in, kMaxTokenInputBytes));
    } else {
      if (env.in_is_terminal) {
        *env.err << "writ: reading the token from standard input (end with Ctrl-D)\n";
      }
      ASSIGN_OR_RETURN(raw, ReadStream(*env.in, "token (standard input)", kMaxTokenInputBytes));
    }
    const absl::string_view trimmed = TrimToken(raw);
    if (trimmed.empty()) return absl::InvalidArgumentError("no token given (the input is empty)");
    return std::string(trimmed);
  }
};

absl::Status RunSign(absl::string_view name, absl::Span<const std::string> args, CommandEnv& env) {
  std::string key_path, alg_name, kid, type = "JWT", claims_json, claims_file;
  FlagSet flags(
      std::string(name),
      "--key FILE [--alg ALG] [--kid KID] [--typ TYP] (--claims JSON | --claims-file FILE)",
      "Signs a JWT and prints it (compact JWS) on standard output. The claims must be\n"
      "a JSON object; they are signed exactly as given, so add \"exp\" (verifiers,\n"
      "Writ's included, require it), \"iat\" and the rest yourself. --alg may be left\n"
      "out for EC and Ed25519 keys; without --kid the header carries the key's RFC 7638\n"
      "thumbprint, as `writ jwk` prints it.");
  flags.String("key", "FILE", &key_path, "PEM private key ('-' for stdin)", FlagSet::kRequired);
  flags.String("alg", "ALG", &alg_name, absl::StrCat("signing algorithm: ", kAlgorithmNames));
  flags.String("kid", "KID", &kid, "\"kid\" header (default: the key's thumbprint)");
  flags.String("typ", "TYP", &type, "\"typ\" header (default JWT; --typ= leaves it out)");
  flags.String("claims", "JSON", &claims_json, "the claims, a JSON object");
  flags.String("claims-file", "FILE", &claims_file, "read the claims from FILE ('-' for stdin)");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  if (flags.IsSet("claims") == flags.IsSet("claims-file")) {
    return flags.Error("give the claims with exactly one of --claims or --claims-file");
  }
  if (flags.IsSet("kid") && kid.empty()) return flags.Error("--kid must not be empty");
  // "typ" is a media type (RFC 7515 section 4.1.9): printable ASCII. Anything
  // else would make a header that strict parsers, Writ's included, refuse.
  for (char c : type) {
    if (c < 0x20 || c > 0x7e) return flags.Error("--typ must be printable ASCII");
  }
  if (key_path == "-" && claims_file == "-") {
    return flags.Error("--key and --claims-file cannot both read standard input");
  }
  if (flags.IsSet("claims-file")) {
    ASSIGN_OR_RETURN(claims_json, ReadInput(claims_file, "--claims-file", *env.in));
  }
  auto claims = JwtClaims::Parse(claims_json);
  if (!claims.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("claims: ", claims.status().message()));
  }

  ASSIGN_OR_RETURN(std::string pem, ReadInput(key_path, "--key file", *env.in));
  ASSIGN_OR_RETURN(LoadedKey key, LoadPemKey(pem, "--key file"));
  if (!key.is_private) {
    return absl::InvalidArgumentError(
        "--key file holds a public key; signing needs the private key");
  }
  ASSIGN_OR_RETURN(JwsAlgorithm alg, AlgorithmForKey(flags, alg_name, key.key.get()));
  ASSIGN_OR_RETURN(auto signer, PrivateKeySigner::New(std::move(key.key), alg, kid));
  ASSIGN_OR_RETURN(std::string token, SignCompactJws(*signer, type, claims->json()));
  if (!claims->expires_at().has_value()) {
    *env.err << "writ: note: the claims have no \"exp\"; validators (Writ's included) will "
                "reject this token\n";
  }
  *env.out << token << "\n";
  return absl::OkStatus();
}

absl::Status RunVerify(absl::string_view name, absl::Span<const std::string> args,
                       CommandEnv& env) {
  std::string jwks_path, issuer, leeway, type;
  std::vector<std::string> audiences;
  bool no_claims = false;
  TokenSource source;
  FlagSet flags(std::string(name),
                "--jwks FILE [--token TOKEN | --token-file FILE] (--iss ISS --aud AUD... [--leeway "
                "SECONDS] [--typ TYP] | --no-claims)",
                "Verifies a JWT against a JWK Set and prints its payload on success (exit 0).\n"
                "By default the whole token is checked (signature, \"iss\", \"aud\", \"exp\"\n"
                "(required), \"nbf\", \"iat\"), so --iss and at least one --aud are required.\n"
                "--no-claims checks only the signature. On failure it prints one line,\n"
                "'writ: <reason>', to standard error and exits 1. The token is read from\n"
                "standard input unless --token or --token-file is given.");
  flags.String("jwks", "FILE", &jwks_path, "JWK Set (or a single JWK) with the public keys",
               FlagSet::kRequired);
  source.Declare(flags);
  flags.String("iss", "ISS", &issuer, "the required \"iss\" (exact match)");
  flags.StringList("aud", "AUD", &audiences, "an accepted audience; \"aud\" must contain one");
  flags.String("leeway", "SECONDS", &leeway,
               "clock skew allowed for exp/nbf/iat, 0..60 (default 60)");
  flags.String("typ", "TYP", &type, "require this \"typ\" header (e.g. at+jwt)");
  flags.Bool("no-claims", &no_claims, "verify the signature only, not the claims");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }

  JwtValidatorOptions options;
  if (no_claims) {
    for (absl::string_view f : {"iss", "aud", "leeway", "typ"}) {
      if (flags.IsSet(f)) {
        return flags.Error(absl::StrCat("--", f, " has no effect with --no-claims"));
      }
    }
  } else {
    if (!flags.IsSet("iss") || issuer.empty()) {
      return flags.Error("--iss is required (or --no-claims to check the signature only)");
    }
    if (audiences.empty()) {
      return flags.Error("--aud is required (or --no-claims to check the signature only)");
    }
    for (const std::string& aud : audiences) {
      if (aud.empty()) return flags.Error("--aud must not be empty");
    }
    options.issuer = issuer;
    options.audiences = audiences;
    if (flags.IsSet("leeway")) {
      int seconds = -1;
      if (!absl::SimpleAtoi(leeway, &seconds) || seconds < 0 ||
          absl::Seconds(seconds) > kMaxJwtLeeway) {
        return flags.Error(absl::StrCat("--leeway must be a whole number of seconds from 0 to ",
                                        absl::ToInt64Seconds(kMaxJwtLeeway)));
      }
      options.leeway = absl::Seconds(seconds);
    }
    if (flags.IsSet("typ")) options.expected_type = type;
  }
  RETURN_IF_ERROR(source.Check(flags));
  if (jwks_path == "-" && source.FromStdin(flags)) {
    return flags.Error("the JWK Set and the token cannot both come from standard input");
  }

  ASSIGN_OR_RETURN(std::string jwks_json, ReadInput(jwks_path, "--jwks file", *env.in));
  auto keys = LoadJwks(jwks_json);
  if (!keys.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--jwks file: ", keys.status().message()));
  }
  ASSIGN_OR_RETURN(std::string token, source.Read(flags, env));

  absl::Status verdict;
  std::string payload;
  if (no_claims) {
    auto jws = ParseCompactJws(token);
    verdict = jws.ok() ? VerifyJws(*jws, *keys) : jws.status();
    if (verdict.ok()) payload = jws->payload();
  } else {
    ASSIGN_OR_RETURN(JwtValidator validator, JwtValidator::New(std::move(options), env.clock));
    auto jwt = validator.Verify(token, *keys);
    verdict = jwt.status();
    if (jwt.ok()) payload = jwt->claims.json();
  }
  if (!verdict.ok()) {
    std::string reason = absl::StrCat("token rejected: ", verdict.message());
    // A kid the set does not have is often a key the JWKS parser skipped.
    if (absl::IsNotFound(verdict) && !keys->skipped().empty()) {
      absl::StrAppend(&reason, " (", keys->skipped().size(),
                      " key(s) in the JWK Set were skipped; first: ", keys->skipped().front(), ")");
    }
    return absl::Status(verdict.code(), reason);
  }
  *env.out << payload << "\n";
  return absl::OkStatus();
}

// ShowSegment shows one decoded segment: pretty JSON when it is JSON,
// otherwise its printable bytes with a note.
std::string ShowSegment(absl::string_view what, absl::string_view b64) {
  auto decoded = Base64UrlDecode(b64);
  if (!decoded.ok()) {
    return absl::StrCat("(", what, " is not valid base64url: ", decoded.status().message(), ")");
  }
  auto pretty = PrettyJson(*decoded);
  if (pretty.ok()) return *std::move(pretty);
  return absl::StrCat("(", what, " cannot be shown as JSON: ", pretty.status().message(), ") ",
                      Printable(*decoded, 4096));
}

absl::Status RunDecode(absl::string_view name, absl::Span<const std::string> args,
                       CommandEnv& env) {
  TokenSource source;
  FlagSet flags(std::string(name), "[--token TOKEN | --token-file FILE]",
                "Prints the header and payload of a compact JWS WITHOUT VERIFYING anything:\n"
                "for looking at a token, never for trusting it. Works on tokens Writ would\n"
                "refuse (alg none, HMAC ...), and then says why on standard error.");
  source.Declare(flags);
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(source.Check(flags));
  ASSIGN_OR_RETURN(std::string token, source.Read(flags, env));
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "token has ", parts.size(), " segments; a compact JWS has exactly 3",
        parts.size() == 5 ? " (5 is an encrypted JWE, which cannot be decoded without the key)"
                          : ""));
  }
  *env.err << "writ: UNVERIFIED: the signature and claims below were NOT checked\n";
  *env.out << "header:\n"
           << ShowSegment("header", parts[0]) << "\npayload:\n"
           << ShowSegment("payload", parts[1]) << "\n";
  if (auto parsed = ParseJwt(token); !parsed.ok()) {
    *env.err << "writ: note: Writ would refuse this token: " << parsed.status().message() << "\n";
  }
  return absl::OkStatus();
}

constexpr Command kJwtCommands[] = {
    {"sign", "sign claims with a private key, print the compact JWS", RunSign},
    {"verify", "verify a token against a JWK Set, print its payload", RunVerify},
    {"decode", "print a token's header and payload WITHOUT verifying", RunDecode},
};

}  // namespace

absl::Status RunJwtCommand(absl::string_view name, absl::Span<const std::string> args,
                           CommandEnv& env) {
  return DispatchSubcommand(name, "Signs, verifies and inspects JSON Web Tokens (compact JWS).",
                            kJwtCommands, args, env);
}

}  // namespace writ::cli

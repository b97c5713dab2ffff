// writ jwk --key FILE [--alg ALG] [--kid KID] [--set]
// writ jwk thumbprint --jwk FILE

#include <ostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "sdk/cli/keys_util.h"
#include "writ/base/status_macros.h"
#include "writ/jose/jwk.h"

namespace writ::cli {
namespace {

absl::Status RunThumbprint(absl::string_view name, absl::Span<const std::string> args,
                           CommandEnv& env) {
  std::string jwk_path;
  FlagSet flags(std::string(name), "--jwk FILE",
                "Prints the RFC 7638 SHA-256 thumbprint (base64url) of a public JWK.\n"
                "FILE holds one JWK object; '-' reads standard input.");
  flags.String("jwk", "FILE", &jwk_path, "the JWK (JSON object)", FlagSet::kRequired);
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string json, ReadInput(jwk_path, "--jwk file", *env.in));
  auto jwk = PublicJwk::Parse(json);
  if (!jwk.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--jwk file: ", jwk.status().message()));
  }
  *env.out << jwk->Thumbprint() << "\n";
  return absl::OkStatus();
}

constexpr absl::string_view kJwkDescription =
    "Prints the public JWK (one line of JSON) of a PEM key, private (PKCS#8, RSA,\n"
    "EC) or public (SubjectPublicKeyInfo). Only public members are ever printed.\n"
    "--alg may be left out for EC and Ed25519 keys (the curve decides); RSA keys\n"
    "need it. Without --kid the kid is the key's RFC 7638 thumbprint.\n"
    "\n"
    "Subcommands:\n"
    "  writ jwk thumbprint --jwk FILE   print the RFC 7638 thumbprint of a JWK";

}  // namespace

absl::Status RunJwkCommand(absl::string_view name, absl::Span<const std::string> args,
                           CommandEnv& env) {
  if (!args.empty() && args[0] == "thumbprint") {
    return RunThumbprint(absl::StrCat(name, " thumbprint"), args.subspan(1), env);
  }
  std::string key_path, alg_name, kid;
  bool as_set = false;
  FlagSet flags(std::string(name), "--key FILE [--alg ALG] [--kid KID] [--set]",
                std::string(kJwkDescription));
  flags.String("key", "FILE", &key_path, "PEM private or public key ('-' for stdin)",
               FlagSet::kRequired);
  flags.String("alg", "ALG", &alg_name,
               absl::StrCat("the algorithm the key is bound to: ", kAlgorithmNames));
  flags.String("kid", "KID", &kid, "key ID (default: the RFC 7638 thumbprint)");
  flags.Bool("set", &as_set, "print a JWK Set ({\"keys\":[...]}) instead of one JWK");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  if (flags.IsSet("kid") && kid.empty()) return flags.Error("--kid must not be empty");
  ASSIGN_OR_RETURN(std::string pem, ReadInput(key_path, "--key file", *env.in));
  ASSIGN_OR_RETURN(LoadedKey key, LoadPemKey(pem, "--key file"));
  ASSIGN_OR_RETURN(JwsAlgorithm alg, AlgorithmForKey(flags, alg_name, key.key.get()));
  ASSIGN_OR_RETURN(PublicJwk jwk, PublicJwk::FromKey(key.key.get(), alg, kid));
  if (as_set) {
    ASSIGN_OR_RETURN(JwkSet set, JwkSet::FromKeys({jwk}));
    *env.out << set.ToJson() << "\n";
  } else {
    *env.out << jwk.ToJson() << "\n";
  }
  return absl::OkStatus();
}

}  // namespace writ::cli

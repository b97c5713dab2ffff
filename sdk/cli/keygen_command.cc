// writ keygen --alg ALG [--bits N] [--out FILE]

#include <ostream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "sdk/cli/keys_util.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwk.h"

namespace writ::cli {
namespace {

absl::StatusOr<KeySpec> SpecFor(const FlagSet& flags, JwsAlgorithm alg,
                                absl::string_view bits_flag) {
  if (!IsRsaAlgorithm(alg)) {
    if (!bits_flag.empty()) return flags.Error("--bits applies to RSA algorithms only");
    switch (alg) {
      case JwsAlgorithm::kEs256:
        return KeySpec::kEcP256;
      case JwsAlgorithm::kEs384:
        return KeySpec::kEcP384;
      case JwsAlgorithm::kEs512:
        return KeySpec::kEcP521;
      default:
        return KeySpec::kEd25519;
    }
  }
  int bits = 2048;
  if (!bits_flag.empty() && !absl::SimpleAtoi(bits_flag, &bits)) bits = 0;
  switch (bits) {
    case 2048:
      return KeySpec::kRsa2048;
    case 3072:
      return KeySpec::kRsa3072;
    case 4096:
      return KeySpec::kRsa4096;
    default:
      return flags.Error("--bits must be 2048, 3072 or 4096");
  }
}

}  // namespace

absl::Status RunKeygenCommand(absl::string_view name, absl::Span<const std::string> args,
                              CommandEnv& env) {
  std::string alg_name, bits, out_path;
  FlagSet flags(std::string(name), "--alg ALG [--bits N] [--out FILE]",
                "Generates a private key for a JWS algorithm and writes it as unencrypted PKCS#8\n"
                "PEM: to FILE (created with mode 0600; an existing file is never overwritten)\n"
                "or to standard output. ES256/ES384/ES512 make an EC P-256/P-384/P-521 key,\n"
                "EdDSA an Ed25519 key, RS*/PS* an RSA key.");
  flags.String("alg", "ALG", &alg_name, absl::StrCat("one of ", kAlgorithmNames),
               FlagSet::kRequired);
  flags.String("bits", "N", &bits, "RSA modulus size: 2048, 3072 or 4096 (default 2048)");
  flags.String("out", "FILE", &out_path, "write the key to a new file instead of stdout");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  if (flags.IsSet("out") && out_path.empty()) return flags.Error("--out needs a file name");
  ASSIGN_OR_RETURN(JwsAlgorithm alg, ParseAlgorithmFlag(flags, alg_name));
  ASSIGN_OR_RETURN(KeySpec spec, SpecFor(flags, alg, bits));

  ASSIGN_OR_RETURN(SslPtr<EVP_PKEY> key, GenerateKey(spec));
  ASSIGN_OR_RETURN(std::string pem, PrivateKeyToPem(key.get()));
  if (out_path.empty()) {
    *env.out << pem;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(WriteNewPrivateFile(out_path, pem));
  // The thumbprint is what `writ jwk` and `writ jwt sign` use as the default
  // kid, so it is worth showing; the key itself never is.
  ASSIGN_OR_RETURN(PublicJwk jwk, PublicJwk::FromKey(key.get(), alg));
  *env.err << "writ: wrote a new " << KeyDescription(key.get()) << " private key for "
           << JwsAlgorithmName(alg) << " to " << Printable(out_path, 256)
           << " (mode 0600, thumbprint " << jwk.Thumbprint() << ")\n";
  return absl::OkStatus();
}

}  // namespace writ::cli

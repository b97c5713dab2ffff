#include "sdk/cli/keys_util.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sdk/cli/command.h"
#include "sdk/cli/flags.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/openssl_error.h"

namespace writ::cli {

absl::StatusOr<JwsAlgorithm> ParseAlgorithmFlag(const FlagSet& flags, absl::string_view value) {
  auto alg = JwsAlgorithmFromName(value);
  if (!alg.ok()) {
    return flags.Error(
        absl::StrCat("--alg ", Printable(value, 32), " is not one of ", kAlgorithmNames));
  }
  return alg;
}

absl::StatusOr<LoadedKey> LoadPemKey(absl::string_view pem, absl::string_view what) {
  LoadedKey loaded;
  // The PEM label decides; OpenSSL's own messages for a mismatch are opaque.
  if (absl::StrContains(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
      absl::StrContains(pem, "Proc-Type: 4,ENCRYPTED")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds an encrypted private key; Writ needs it unencrypted"));
  }
  if (absl::StrContains(pem, "PRIVATE KEY-----")) {
    auto key = ParsePrivateKeyPem(pem);
    if (!key.ok()) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is not a valid PEM private key (PKCS#8, RSA or EC)"));
    }
    loaded.key = *std::move(key);
    loaded.is_private = true;
    return loaded;
  }
  if (absl::StrContains(pem, "-----BEGIN PUBLIC KEY-----")) {
    auto key = ParsePublicKeyPem(pem);
    if (!key.ok()) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is not a valid PEM public key (SubjectPublicKeyInfo)"));
    }
    loaded.key = *std::move(key);
    return loaded;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is not a PEM key (expected BEGIN PRIVATE KEY or BEGIN PUBLIC KEY)"));
}

absl::StatusOr<JwsAlgorithm> AlgorithmForKey(const FlagSet& flags, absl::string_view alg_flag,
                                             const EVP_PKEY* key) {
  if (!alg_flag.empty()) return ParseAlgorithmFlag(flags, alg_flag);
  const std::string description = KeyDescription(key);
  if (description == "EC P-256") return JwsAlgorithm::kEs256;
  if (description == "EC P-384") return JwsAlgorithm::kEs384;
  if (description == "EC P-521") return JwsAlgorithm::kEs512;
  if (description == "Ed25519") return JwsAlgorithm::kEdDsa;
  if (absl::StartsWith(description, "RSA")) {
    return flags.Error("an RSA key serves RS256/384/512 and PS256/384/512: choose one with --alg");
  }
  return absl::InvalidArgumentError(absl::StrCat("a ", description, " key is not usable for JWS"));
}

absl::StatusOr<JwkSet> LoadJwks(absl::string_view json) {
  auto set = JwkSet::Parse(json);
  if (!set.ok()) {
    // A lone JWK (what `writ jwk` prints) is accepted as a set of one.
    if (absl::StrContains(json, "\"keys\"")) return set.status();
    ASSIGN_OR_RETURN(PublicJwk single, PublicJwk::Parse(json));
    return JwkSet::FromKeys({std::move(single)});
  }
  if (set->keys().empty()) {
    std::vector<std::string> reasons = set->skipped();
    if (reasons.empty()) return absl::InvalidArgumentError("JWK Set has no keys");
    return absl::InvalidArgumentError(
        absl::StrCat("JWK Set has no usable key (", absl::StrJoin(reasons, "; "), ")"));
  }
  return set;
}

}  // namespace writ::cli

#include "writ/jose/algorithm.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace writ {

absl::string_view JwsAlgorithmName(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kRs256:
      return "RS256";
    case JwsAlgorithm::kRs384:
      return "RS384";
    case JwsAlgorithm::kRs512:
      return "RS512";
    case JwsAlgorithm::kPs256:
      return "PS256";
    case JwsAlgorithm::kPs384:
      return "PS384";
    case JwsAlgorithm::kPs512:
      return "PS512";
    case JwsAlgorithm::kEs256:
      return "ES256";
    case JwsAlgorithm::kEs384:
      return "ES384";
    case JwsAlgorithm::kEs512:
      return "ES512";
    case JwsAlgorithm::kEdDsa:
      return "EdDSA";
  }
  return "unknown";
}

absl::StatusOr<JwsAlgorithm> JwsAlgorithmFromName(absl::string_view name) {
  static constexpr JwsAlgorithm kAll[] = {
      JwsAlgorithm::kRs256, JwsAlgorithm::kRs384, JwsAlgorithm::kRs512, JwsAlgorithm::kPs256,
      JwsAlgorithm::kPs384, JwsAlgorithm::kPs512, JwsAlgorithm::kEs256, JwsAlgorithm::kEs384,
      JwsAlgorithm::kEs512, JwsAlgorithm::kEdDsa};
  for (JwsAlgorithm alg : kAll) {
    if (JwsAlgorithmName(alg) == name) return alg;
  }
  if (absl::EqualsIgnoreCase(name, "none")) {
    return absl::InvalidArgumentError("\"alg\" none (unsecured JWS) is never accepted");
  }
  // `name` is the attacker's: never echo control bytes into a message.
  std::string shown(name.substr(0, 32));
  for (char& c : shown) {
    if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
  }
  if (absl::StartsWithIgnoreCase(name, "HS")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"alg\" ", shown, " (HMAC) is never accepted: Writ verifies with public keys only"));
  }
  return absl::InvalidArgumentError(absl::StrCat("\"alg\" \"", shown, "\" is not supported"));
}

bool IsRsaAlgorithm(JwsAlgorithm alg) {
  switch (alg) {
    case JwsAlgorithm::kRs256:
    case JwsAlgorithm::kRs384:
    case JwsAlgorithm::kRs512:
    case JwsAlgorithm::kPs256:
    case JwsAlgorithm::kPs384:
    case JwsAlgorithm::kPs512:
      return true;
    default:
      return false;
  }
}

}  // namespace writ

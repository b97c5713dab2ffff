// JWS algorithms (RFC 7518 section 3, RFC 8037) that Writ signs and verifies.
#ifndef WRIT_JOSE_ALGORITHM_H_
#define WRIT_JOSE_ALGORITHM_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ {

// JwsAlgorithm lists the asymmetric algorithms Writ supports. There is
// deliberately no "none" and no HMAC: a verifier that only holds public keys
// cannot be tricked into treating one as a shared secret.
enum class JwsAlgorithm {
  kRs256,
  kRs384,
  kRs512,
  kPs256,
  kPs384,
  kPs512,
  kEs256,
  kEs384,
  kEs512,
  kEdDsa,
};

// JwsAlgorithmName returns the registered "alg" value, such as "ES256".
absl::string_view JwsAlgorithmName(JwsAlgorithm alg);

// JwsAlgorithmFromName maps an "alg" value to a JwsAlgorithm. Matching is
// exact and case-sensitive (RFC 7515 section 4.1.1). Returns kInvalidArgument
// for "none" in any letter case, for HMAC algorithms, and for anything unknown,
// with a message that says which.
absl::StatusOr<JwsAlgorithm> JwsAlgorithmFromName(absl::string_view name);

// IsRsaAlgorithm is true for RS* and PS*.
bool IsRsaAlgorithm(JwsAlgorithm alg);

}  // namespace writ

#endif  // WRIT_JOSE_ALGORITHM_H_

#include "writ/jose/jws_verifier.h"

#include "absl/strings/str_cat.h"

namespace writ {

absl::Status VerifyJws(const ParsedJws& jws, const JwkSet& keys) {
  if (!jws.kid().empty()) {
    const PublicJwk* key = keys.Find(jws.kid());
    if (key == nullptr) {
      return absl::NotFoundError(absl::StrCat("no key with kid \"", jws.kid(), "\""));
    }
    return key->Verify(jws.algorithm(), jws.signing_input(), jws.signature());
  }
  // No kid: try every key bound to the token's algorithm (never another's).
  bool any_candidate = false;
  for (const PublicJwk& key : keys.keys()) {
    if (key.algorithm() != jws.algorithm()) continue;
    any_candidate = true;
    if (key.Verify(jws.algorithm(), jws.signing_input(), jws.signature()).ok()) {
      return absl::OkStatus();
    }
  }
  if (!any_candidate) {
    return absl::NotFoundError(absl::StrCat("token has no kid and no key is bound to ",
                                            JwsAlgorithmName(jws.algorithm())));
  }
  return absl::UnauthenticatedError("token has no kid and no key verifies its signature");
}

}  // namespace writ

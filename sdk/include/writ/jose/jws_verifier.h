// Verifying a parsed compact JWS against a JWK Set.
#ifndef WRIT_JOSE_JWS_VERIFIER_H_
#define WRIT_JOSE_JWS_VERIFIER_H_

#include "absl/status/status.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jws.h"

namespace writ {

// VerifyJws checks the signature of `jws` with a key from `keys`.
//
// With a "kid", only the key with that kid is used, and its bound algorithm
// must equal the header's "alg". Without a "kid", every key bound to the
// header's "alg" is tried. Returns OK when the signature verifies; kNotFound
// when no key has the kid (the caller may refresh its JWKS and retry);
// kUnauthenticated when the algorithm does not match the key or the signature
// is wrong. Thread-safe.
//
// ECDSA signatures are malleable: (r, n-s) verifies wherever (r, s) does, so
// one signed token has several valid encodings. Key replay caches and
// deduplication on ("iss", "jti") or a hash of signing_input(), never on the
// whole compact token.
absl::Status VerifyJws(const ParsedJws& jws, const JwkSet& keys);

}  // namespace writ

#endif  // WRIT_JOSE_JWS_VERIFIER_H_

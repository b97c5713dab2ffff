// Internal to writ_keys: the public key of an X.509 authority as a JWK, for
// the SPIFFE bundle's "x509-svid" entries.
#ifndef WRIT_ISSUER_KEYS_TRUST_BUNDLE_INTERNAL_H_
#define WRIT_ISSUER_KEYS_TRUST_BUNDLE_INTERNAL_H_

#include "absl/status/statusor.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/jose/jwk.h"

namespace writ::issuer::keys_internal {

// AuthorityKeyJwk returns the public key `cert` certifies as a JWK: EC
// P-256/P-384/P-521, RSA of at least 2048 bits, or Ed25519.
// kInvalidArgument for any other key (it could not be published).
absl::StatusOr<PublicJwk> AuthorityKeyJwk(const X509* cert);

}  // namespace writ::issuer::keys_internal

#endif  // WRIT_ISSUER_KEYS_TRUST_BUNDLE_INTERNAL_H_

// KeyManager: where Writ's signing keys come from. The minting stages sign
// through it and never touch key material themselves.
#ifndef WRIT_ISSUER_KEYS_KEY_MANAGER_H_
#define WRIT_ISSUER_KEYS_KEY_MANAGER_H_

#include <memory>
#include <string>

#include "writ/jose/signer.h"

namespace writ::issuer {

// KeyManager hands out the current signer per purpose and the public keys
// verifiers need. Thread-safe.
class KeyManager {
 public:
  virtual ~KeyManager() = default;
  // JwtSigner returns the key that signs Writ's JWTs now. Never null.
  virtual std::shared_ptr<const Signer> JwtSigner() const = 0;
  // PublicJwks returns the JWKS document (RFC 7517) of every key a verifier
  // may meet: the current one, and (with rotation) the next and the recently
  // retired ones.
  virtual std::string PublicJwks() const = 0;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_KEYS_KEY_MANAGER_H_

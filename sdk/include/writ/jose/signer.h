// Signing JWS with a private key.
//
//   ASSIGN_OR_RETURN(auto key, GenerateKey(KeySpec::kEcP256));
//   ASSIGN_OR_RETURN(auto signer, PrivateKeySigner::New(std::move(key), JwsAlgorithm::kEs256));
//   ASSIGN_OR_RETURN(std::string jwt, SignCompactJws(*signer, "JWT", R"({"sub":"x"})"));
#ifndef WRIT_JOSE_SIGNER_H_
#define WRIT_JOSE_SIGNER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/jose/algorithm.h"
#include "writ/jose/jwk.h"

namespace writ {

// Signer makes JWS signatures with one key and one algorithm. Implementations
// are thread-safe. A hardware-backed signer implements the same interface.
class Signer {
 public:
  virtual ~Signer() = default;
  virtual JwsAlgorithm algorithm() const = 0;
  // kid is the key ID that goes into the JWS header.
  virtual const std::string& kid() const = 0;
  // public_jwk is the public key that verifies this signer's signatures.
  virtual const PublicJwk& public_jwk() const = 0;
  // Sign returns the JWS signature of `data` in JOSE form (raw R||S for
  // ECDSA). Returns kInternal if the underlying library fails.
  virtual absl::StatusOr<std::string> Sign(absl::string_view data) const = 0;
};

// PrivateKeySigner signs with an in-memory OpenSSL private key. The signing
// context is set up once and copied per signature. Thread-safe.
class PrivateKeySigner final : public Signer {
 public:
  // New takes ownership of `key` and binds it to `alg`. An empty `kid` becomes
  // the RFC 7638 thumbprint. Supported: ES256/384/512 on the matching curve,
  // EdDSA on Ed25519, RS256/384/512 and PS256/384/512 on RSA >= 2048 bits.
  // Returns kInvalidArgument when the key does not fit `alg`.
  static absl::StatusOr<std::unique_ptr<PrivateKeySigner>> New(SslPtr<EVP_PKEY> key,
                                                               JwsAlgorithm alg,
                                                               absl::string_view kid = "");
  ~PrivateKeySigner() override;

  JwsAlgorithm algorithm() const override;
  const std::string& kid() const override;
  const PublicJwk& public_jwk() const override;
  absl::StatusOr<std::string> Sign(absl::string_view data) const override;

  // private_key returns the key; owned by this signer. Never log it.
  const EVP_PKEY* private_key() const;

  struct Rep;

 private:
  explicit PrivateKeySigner(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

// SignCompactJws returns a compact JWS over `payload` with the protected header
// {"alg":...,"kid":...,"typ":`type`} ("typ" left out when `type` is empty).
// Returns kInvalidArgument when `type` is not printable ASCII of at most 256
// bytes, and the signer's error when signing fails.
absl::StatusOr<std::string> SignCompactJws(const Signer& signer, absl::string_view type,
                                           absl::string_view payload);

}  // namespace writ

#endif  // WRIT_JOSE_SIGNER_H_

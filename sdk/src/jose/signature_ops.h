// Internal: JWS signature primitives over OpenSSL EVP keys.
#ifndef WRIT_SDK_SRC_JOSE_SIGNATURE_OPS_H_
#define WRIT_SDK_SRC_JOSE_SIGNATURE_OPS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/jose/algorithm.h"

namespace writ::internal {

// Bounds on RSA modulus size for JWS keys: RFC 7518 requires at least 2048
// bits; the upper bound keeps a hostile JWKS from making verification slow.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

// CheckKeyFitsAlgorithm returns kInvalidArgument unless `key` can be used with
// `alg`: RSA within the size bounds for RS*/PS*, the matching NIST curve for
// ES*, Ed25519 for EdDSA.
absl::Status CheckKeyFitsAlgorithm(const EVP_PKEY* key, JwsAlgorithm alg);

// EcCoordinateBytes returns the size of one coordinate (and of R or S) for an
// ES* algorithm, 0 for the others.
size_t EcCoordinateBytes(JwsAlgorithm alg);

// PreparedDigestContext is a digest-sign or digest-verify context initialised
// once for a key and algorithm (digest fetched, RSA-PSS parameters set) and
// copied per operation, which skips OpenSSL 3's per-init provider lookups.
// Immutable after New; thread-safe.
class PreparedDigestContext {
 public:
  enum class Mode { kSign, kVerify };

  // New prepares a context. The key must already fit `alg`. The context holds
  // its own reference to `key`.
  static absl::StatusOr<PreparedDigestContext> New(const EVP_PKEY* key, JwsAlgorithm alg,
                                                   Mode mode);

  // Verify checks a JOSE-form signature. kUnauthenticated when it does not
  // verify, including an ECDSA signature of the wrong length.
  absl::Status Verify(absl::string_view data, absl::string_view signature) const;

  // Sign returns a JOSE-form signature (raw R||S for ECDSA).
  absl::StatusOr<std::string> Sign(absl::string_view data) const;

 private:
  PreparedDigestContext(SslPtr<EVP_MD_CTX> ctx, JwsAlgorithm alg, size_t max_signature_bytes)
      : ctx_(std::move(ctx)), alg_(alg), max_signature_bytes_(max_signature_bytes) {}
  absl::StatusOr<SslPtr<EVP_MD_CTX>> Copy() const;

  SslPtr<EVP_MD_CTX> ctx_;
  JwsAlgorithm alg_;
  size_t max_signature_bytes_;
};

}  // namespace writ::internal

#endif  // WRIT_SDK_SRC_JOSE_SIGNATURE_OPS_H_

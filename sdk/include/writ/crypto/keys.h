// Key generation and PEM encoding of private and public keys.
#ifndef WRIT_CRYPTO_KEYS_H_
#define WRIT_CRYPTO_KEYS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ {

// KeySpec names a kind of asymmetric key.
enum class KeySpec {
  kEcP256,
  kEcP384,
  kEcP521,
  kEd25519,
  kRsa2048,
  kRsa3072,
  kRsa4096,
};

// GenerateKey returns a fresh private key of kind `spec`, or kInternal when
// OpenSSL fails.
absl::StatusOr<SslPtr<EVP_PKEY>> GenerateKey(KeySpec spec);

// ParsePrivateKeyPem parses a PEM private key (PKCS#8, or traditional RSA/EC).
// Encrypted keys are refused. Returns kInvalidArgument on malformed input.
absl::StatusOr<SslPtr<EVP_PKEY>> ParsePrivateKeyPem(absl::string_view pem);

// ParsePublicKeyPem parses a PEM SubjectPublicKeyInfo ("BEGIN PUBLIC KEY").
absl::StatusOr<SslPtr<EVP_PKEY>> ParsePublicKeyPem(absl::string_view pem);

// PrivateKeyToPem returns `key` as unencrypted PKCS#8 PEM. The result is
// secret: never log it.
absl::StatusOr<std::string> PrivateKeyToPem(const EVP_PKEY* key);

// PublicKeyToPem returns the public half of `key` as SubjectPublicKeyInfo PEM.
absl::StatusOr<std::string> PublicKeyToPem(const EVP_PKEY* key);

// KeyDescription returns a short human-readable description such as
// "EC P-256", "RSA 2048" or "Ed25519", for error messages.
std::string KeyDescription(const EVP_PKEY* key);

}  // namespace writ

#endif  // WRIT_CRYPTO_KEYS_H_

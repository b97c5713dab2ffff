// Key and algorithm helpers shared by the `writ` commands.
#ifndef WRIT_SDK_CLI_KEYS_UTIL_H_
#define WRIT_SDK_CLI_KEYS_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/jose/algorithm.h"
#include "writ/jose/jwk.h"

namespace writ::cli {

class FlagSet;

// kAlgorithmNames lists every "alg" the commands accept, for help texts.
inline constexpr absl::string_view kAlgorithmNames =
    "ES256|ES384|ES512|EdDSA|RS256|RS384|RS512|PS256|PS384|PS512";

// ParseAlgorithmFlag maps the value of --alg to an algorithm; a UsageError of
// `flags` naming the accepted values otherwise.
absl::StatusOr<JwsAlgorithm> ParseAlgorithmFlag(const FlagSet& flags, absl::string_view value);

// LoadedKey is a PEM key read from a file: private or public.
struct LoadedKey {
  SslPtr<EVP_PKEY> key;
  bool is_private = false;
};

// LoadPemKey parses a PKCS#8 / traditional private key PEM, or a
// SubjectPublicKeyInfo public key PEM. Returns kInvalidArgument otherwise (an
// encrypted key included). Messages never contain key material.
absl::StatusOr<LoadedKey> LoadPemKey(absl::string_view pem, absl::string_view what);

// AlgorithmForKey returns the algorithm for `key`: the --alg value when
// given (`alg_flag` non-empty), otherwise the one the key implies (ES256 for
// P-256, ES384 for P-384, ES512 for P-521, EdDSA for Ed25519). An RSA key
// without --alg is a UsageError: RSA serves six algorithms.
absl::StatusOr<JwsAlgorithm> AlgorithmForKey(const FlagSet& flags, absl::string_view alg_flag,
                                             const EVP_PKEY* key);

// LoadJwks parses a JWK Set document, or a single JWK object (what `writ jwk`
// prints). A set without one usable key is kInvalidArgument, with the reasons
// keys were skipped.
absl::StatusOr<JwkSet> LoadJwks(absl::string_view json);

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_KEYS_UTIL_H_

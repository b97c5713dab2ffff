// JSON Web Keys (RFC 7517) for the public keys that verify JWS: RSA, EC
// P-256/P-384/P-521 and OKP Ed25519, plus RFC 7638 thumbprints.
//
//   ASSIGN_OR_RETURN(JwkSet keys, JwkSet::Parse(jwks_json));
//   const PublicJwk* key = keys.Find("my-kid");
//
// Every key is bound to exactly one JWS algorithm when it is parsed or built;
// a signature made with any other algorithm never verifies under it.
#ifndef WRIT_JOSE_JWK_H_
#define WRIT_JOSE_JWK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/jose/algorithm.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace writ {

// JwkParseOptions bounds what JWK parsing accepts.
struct JwkParseOptions {
  // The algorithm an RSA key is bound to when its JWK has no "alg" member
  // (Entra ID publishes such keys). EC and OKP keys take theirs from the curve.
  // Default: RS256.
  JwsAlgorithm rsa_default_algorithm = JwsAlgorithm::kRs256;
  // The largest JWK Set document accepted, in bytes. Default: 256 KiB.
  size_t max_document_bytes = 256 * 1024;
  // The most keys a set may hold. Default: 64.
  size_t max_keys = 64;
};

// KeyType is the JWK "kty" family of a key.
enum class JwkKeyType { kRsa, kEc, kOkp };

// PublicJwk is an immutable public key bound to one algorithm, with the OpenSSL
// key built once. Cheap to copy (shared); thread-safe.
class PublicJwk {
 public:
  // Parse reads one JWK object. Returns kInvalidArgument when the JSON is
  // malformed, a member has the wrong type, the key is not a supported public
  // signing key (kty "oct", private members, "use" other than "sig", an EC point
  // not on its curve, RSA under 2048 or over 8192 bits, an RSA exponent over
  // 32 bits ...), or "alg" does not fit the key.
  static absl::StatusOr<PublicJwk> Parse(absl::string_view json,
                                         const JwkParseOptions& options = {});

  // FromKey builds the JWK of the public half of `key` for `alg`. An empty
  // `kid` becomes the RFC 7638 thumbprint. `key` is not taken over (its public
  // half is copied). Returns kInvalidArgument when the key does not fit `alg`.
  static absl::StatusOr<PublicJwk> FromKey(const EVP_PKEY* key, JwsAlgorithm alg,
                                           absl::string_view kid = "");

  // kid returns the key ID; empty when the JWK had none.
  const std::string& kid() const;
  // algorithm returns the one algorithm this key verifies.
  JwsAlgorithm algorithm() const;
  JwkKeyType key_type() const;
  // key returns the OpenSSL key, owned by this object (and its copies).
  const EVP_PKEY* key() const;

  // Verify checks a JWS signature in JOSE form (raw R||S for ECDSA) over `data`
  // made with `alg`. Returns kUnauthenticated when `alg` is not this key's
  // algorithm or the signature does not verify.
  absl::Status Verify(JwsAlgorithm alg, absl::string_view data, absl::string_view signature) const;

  // Thumbprint returns the RFC 7638 SHA-256 thumbprint, base64url-encoded.
  std::string Thumbprint() const;

  // ToJson returns the public JWK with "kty", the key members, "kid" (if any),
  // "alg" and "use":"sig".
  std::string ToJson() const;

  struct Rep;

 private:
  friend class JwkSet;
  explicit PublicJwk(std::shared_ptr<const Rep> rep) : rep_(std::move(rep)) {}
  std::shared_ptr<const Rep> rep_;
};

// JwkSet is an immutable set of public keys, looked up by "kid". Thread-safe.
class JwkSet {
 public:
  JwkSet() = default;

  // Parse reads a JWK Set document ({"keys": [...]}). The document as a whole
  // must be valid, strict JSON with a "keys" array; otherwise
  // kInvalidArgument. Keys that are not usable for verification (unknown
  // "kty", "use":"enc", symmetric or private keys, weak RSA) are skipped, as
  // RFC 7517 section 5 asks, and the reasons listed in skipped(). Two usable
  // keys with the same "kid" are an error: a lookup must be unambiguous.
  static absl::StatusOr<JwkSet> Parse(absl::string_view json, const JwkParseOptions& options = {});

  // FromKeys builds a set; kInvalidArgument on a duplicate non-empty kid.
  static absl::StatusOr<JwkSet> FromKeys(std::vector<PublicJwk> keys);

  // Find returns the key whose kid is `kid`, or null. The pointer lives as
  // long as this set.
  const PublicJwk* Find(absl::string_view kid) const;

  const std::vector<PublicJwk>& keys() const { return keys_; }
  // skipped lists, one line per key, why keys in the document were left out.
  const std::vector<std::string>& skipped() const { return skipped_; }

  // ToJson returns {"keys":[...]} with every key.
  std::string ToJson() const;

 private:
  std::vector<PublicJwk> keys_;
  std::vector<std::string> skipped_;
};

}  // namespace writ

#endif  // WRIT_JOSE_JWK_H_

// KeyManager: where Writ's signing keys come from, per purpose, and how they
// rotate. The minting stages sign through it and never touch key files.
//
// Every purpose (JWT signing, X.509 CA, SSH CA) has a key ring whose keys go
// through three states:
//   prepared  generated and published (JWKS, trust bundle, SSH CA keys file)
//             but signing nothing yet, so verifiers learn it first;
//   active    the one key that signs; always also published;
//   retired   signs nothing; stays published until the last credential it
//             signed has expired (retired_at + max credential lifetime +
//             leeway), then is dropped from everything published.
// Rotate promotes prepared -> active, active -> retired, and generates the
// next prepared key, all in one atomic state change on disk.
#ifndef WRIT_ISSUER_KEYS_KEY_MANAGER_H_
#define WRIT_ISSUER_KEYS_KEY_MANAGER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "issuer/src/keys/trust_bundle.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/jose/signer.h"

namespace writ::issuer {

enum class KeyPurpose { kJwt, kX509Ca, kSshCa };
// KeyPurposeName: "jwt", "x509-ca", "ssh-ca". ParseKeyPurpose is its inverse
// (kInvalidArgument listing the names for anything else).
const char* KeyPurposeName(KeyPurpose purpose);
absl::StatusOr<KeyPurpose> ParseKeyPurpose(absl::string_view name);

enum class KeyState { kPrepared, kActive, kRetired };
// KeyStateName: "prepared", "active", "retired".
const char* KeyStateName(KeyState state);

// KeyInfo describes one key of a ring; no key material.
struct KeyInfo {
  KeyPurpose purpose = KeyPurpose::kJwt;
  // id: the JWT kid (RFC 7638 thumbprint); for CAs, the lowercase hex
  // SHA-256 of the public key (SubjectPublicKeyInfo DER), first 16 bytes.
  std::string id;
  KeyState state = KeyState::kPrepared;
  // algorithm: "ES256", "EC P-256", "Ed25519", ...
  std::string algorithm;
  absl::Time created_at = absl::InfinitePast();
  absl::Time activated_at = absl::InfinitePast();  // InfinitePast: never active
  absl::Time retired_at = absl::InfinitePast();    // InfinitePast: not retired
  // publish_until: when a retired key leaves what is published.
  absl::Time publish_until = absl::InfiniteFuture();
  // For an X.509 CA key: the certificate's notAfter, and whether its
  // certificate is there (in intermediate mode a prepared key waits for the
  // operator to sign its CSR; it cannot become active before).
  absl::Time not_after = absl::InfiniteFuture();
  bool has_certificate = true;
  // path: the key's PEM file.
  std::string path;
  // csr_path: intermediate mode, the CSR waiting to be signed (else empty).
  std::string csr_path;
};

// X509Authority is an X.509 CA that can sign: its certificate, private key,
// and (intermediate mode) the chain above it up to, not including, the root.
struct X509Authority {
  std::string id;
  SslPtr<X509> certificate;
  SslPtr<EVP_PKEY> private_key;  // secret: never log it
  std::vector<SslPtr<X509>> chain;
};

// SshAuthority is the SSH CA key that signs user certificates.
struct SshAuthority {
  std::string id;
  SslPtr<EVP_PKEY> private_key;  // secret: never log it
  // public_key_line: OpenSSH "ssh-ed25519 AAAA... writ-ssh-ca-<id>".
  std::string public_key_line;
};

// RotateOptions tunes an on-demand rotation.
struct RotateOptions {
  // force promotes a prepared key that has been published for less than the
  // configured publish lead (verifiers may not have fetched it yet). Without
  // force such a rotation is refused with kFailedPrecondition naming how long
  // to wait. Default: false
  bool force = false;
};

// KeyManager hands out the active key per purpose and everything verifiers
// need. Thread-safe: readers get immutable snapshots (shared_ptr) that stay
// valid across a rotation.
class KeyManager {
 public:
  virtual ~KeyManager() = default;
  // JwtSigner returns the key that signs Writ's JWTs now. Never null.
  virtual std::shared_ptr<const Signer> JwtSigner() const = 0;
  // PublicJwks returns the JWKS document (RFC 7517) of every JWT key a
  // verifier may meet: prepared, active, and retired but still published.
  virtual std::string PublicJwks() const = 0;
  // ActiveX509Ca returns the CA that signs X.509-SVIDs now; null when there
  // is none (X.509 disabled, or intermediate mode still waiting for the
  // operator's signed certificate).
  virtual std::shared_ptr<const X509Authority> ActiveX509Ca() const { return nullptr; }
  // PublishedX509Cas returns every X.509 CA key whose certificate is still
  // published: prepared with a certificate, active, and retired before its
  // publish_until. Callers use only `id`, `certificate` and `chain` (the
  // private key may be null and signs nothing). A renewal builds the path of a
  // presented SVID from these, never from certificates the client sent.
  // Default: the active CA alone (empty when there is none).
  virtual std::vector<std::shared_ptr<const X509Authority>> PublishedX509Cas() const {
    std::shared_ptr<const X509Authority> active = ActiveX509Ca();
    if (active == nullptr) return {};
    return {std::move(active)};
  }
  // ActiveSshCa returns the SSH CA key that signs now; null when SSH is
  // disabled.
  virtual std::shared_ptr<const SshAuthority> ActiveSshCa() const { return nullptr; }
  // Bundle returns what is published now (trust_bundle.h).
  virtual std::shared_ptr<const TrustBundle> Bundle() const { return nullptr; }
  // List describes every key of every ring, purpose then state order.
  virtual std::vector<KeyInfo> List() const { return {}; }
  // Rotate rotates `purpose` now (see the file comment) and returns the
  // ring's keys afterwards. kFailedPrecondition when the prepared key is too
  // young (see RotateOptions) or, in intermediate mode, has no certificate
  // yet; kInternal when the new state cannot be written (the old one stays).
  virtual absl::StatusOr<std::vector<KeyInfo>> Rotate(KeyPurpose purpose,
                                                      const RotateOptions& options) {
    (void)purpose;
    (void)options;
    return absl::UnimplementedError("this key manager does not rotate");
  }
  // RotateDue performs the scheduled work at the current time: rotates every
  // ring whose active key is older than the rotation period (and whose
  // prepared key has been published for the publish lead), and drops retired
  // keys past publish_until. Returns the purposes rotated. The server calls
  // it periodically.
  virtual absl::StatusOr<std::vector<KeyPurpose>> RotateDue() { return std::vector<KeyPurpose>{}; }
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_KEYS_KEY_MANAGER_H_

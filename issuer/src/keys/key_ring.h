// Internal to writ_keys: the keys of FileKeyManager's rings with their
// material (creating and loading them, their files), and the immutable
// snapshot readers see.
#ifndef WRIT_ISSUER_KEYS_KEY_RING_H_
#define WRIT_ISSUER_KEYS_KEY_RING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "issuer/src/keys/key_manager.h"
#include "issuer/src/keys/key_ring_state.h"
#include "issuer/src/keys/trust_bundle.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/jose/signer.h"

namespace writ::issuer::keys_internal {

// RingContext is what creating and loading keys needs; fixed at Open.
struct RingContext {
  std::string dir;
  std::string trust_domain;
  bool intermediate = false;
  absl::Duration ca_lifetime;
  // roots: intermediate mode, the certificates of root_bundle_file.
  std::vector<SslPtr<X509>> roots;
  std::vector<std::string> roots_der;
};

// LoadedKey is one key with its material. Copies share the material, which
// never changes once loaded.
struct LoadedKey {
  KeyRecord record;
  std::shared_ptr<EVP_PKEY> key;             // the private key (secret)
  std::shared_ptr<const Signer> jwt_signer;  // kJwt
  // kX509Ca: the authority, null while the certificate is missing
  // (intermediate mode), and the certificate's DER and notAfter.
  std::shared_ptr<const X509Authority> x509;
  std::string certificate_der;
  absl::Time not_after = absl::InfiniteFuture();
  // certificate_problem: intermediate mode, why the certificate placed for
  // this key is not used (refused, expired, unreadable); empty otherwise.
  std::string certificate_problem;
  std::shared_ptr<const SshAuthority> ssh;  // kSshCa
};

// KeyFilePath, CertificatePath, CsrPath: where a key's files are. The
// certificate and CSR of "x509-ca-<id>.pem" are "x509-ca-<id>.crt" and
// "x509-ca-<id>.csr".
std::string KeyFilePath(const RingContext& ctx, const KeyRecord& record);
std::string CertificatePath(const RingContext& ctx, const KeyRecord& record);
std::string CsrPath(const RingContext& ctx, const KeyRecord& record);

// CreateKey generates a key for `purpose` and writes its files: the private
// key (0600) named `file` or, when `file` is empty, "<purpose>-<id>.pem";
// for an X.509 CA key also its self-signed certificate, or in intermediate
// mode its CSR. The record has state `state` and created_at = `now`
// (activated_at too when active). On failure no file is left behind.
absl::StatusOr<LoadedKey> CreateKey(const RingContext& ctx, KeyPurpose purpose, KeyState state,
                                    absl::Time now, absl::string_view file = "");

// LoadKey reads the key `record` names and checks it: the file's mode
// (kFailedPrecondition), that it parses and is of the purpose's kind
// (kInvalidArgument), that its id is record.id (kFailedPrecondition; an
// empty record.id is filled in instead), and for an X.509 CA key its
// certificate (CheckCaCertificate at `now`). In intermediate mode a missing
// certificate is not an error: its CSR is (re)written and x509 stays null.
// Neither is a refused one (expired, for another key, not chaining to the
// roots, unreadable): x509 stays null too and certificate_problem says why,
// so that the X.509 CA alone is unavailable, not the whole issuer; a retired
// key's certificate is not checked against the roots at all. Errors name the
// path.
absl::StatusOr<LoadedKey> LoadKey(const RingContext& ctx, const KeyRecord& record, absl::Time now);

// AttachCertificate loads the certificate an operator placed for an
// intermediate-mode key that has none. Returns false when there is still
// none; an error when the placed one is refused (CheckCaCertificate), which
// is also kept in key->certificate_problem (cleared once one is attached).
absl::StatusOr<bool> AttachCertificate(const RingContext& ctx, absl::Time now, LoadedKey* key);

// KeyFiles lists every file of `record` (key, certificate, CSR).
std::vector<std::string> KeyFiles(const RingContext& ctx, const KeyRecord& record);

// Snapshot is what readers see, immutable once built.
struct Snapshot {
  uint64_t sequence = 0;
  std::vector<LoadedKey> keys;     // enabled rings, purpose then state order
  std::vector<KeyRecord> dormant;  // records of disabled rings, kept as found
  // Derived by BuildSnapshot:
  std::shared_ptr<const Signer> jwt_signer;
  std::string jwks;
  std::shared_ptr<const X509Authority> x509_ca;
  // x509_cas: every X.509 CA key with a certificate, the same set the
  // self-signed bundle publishes (prepared, active, retired until dropped).
  std::vector<std::shared_ptr<const X509Authority>> x509_cas;
  std::shared_ptr<const SshAuthority> ssh_ca;
  std::shared_ptr<const TrustBundle> bundle;
  std::vector<KeyInfo> list;
};

// BuildSnapshot sorts `keys` and derives the views.
std::shared_ptr<const Snapshot> BuildSnapshot(const RingContext& ctx, uint64_t sequence,
                                              std::vector<LoadedKey> keys,
                                              std::vector<KeyRecord> dormant);

// PublishedDigest is a SHA-256 (hex) over everything `bundle` publishes
// except the sequence: when it differs from the one recorded, what is
// published changed (a ring enabled or disabled, another trust domain, mode
// or root bundle) and the sequence must move.
std::string PublishedDigest(const TrustBundle& bundle);

// ToRingState is what the state file records of `snapshot`.
RingState ToRingState(const Snapshot& snapshot);

}  // namespace writ::issuer::keys_internal

#endif  // WRIT_ISSUER_KEYS_KEY_RING_H_

// FileKeyManager: key rings kept as PEM files in the data directory.
#ifndef WRIT_ISSUER_KEYS_FILE_KEY_MANAGER_H_
#define WRIT_ISSUER_KEYS_FILE_KEY_MANAGER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/keys/key_manager.h"
#include "writ/base/clock.h"

namespace writ::issuer {
namespace keys_internal {
struct KeyRecord;
struct LoadedKey;
struct RingContext;
struct Snapshot;
}  // namespace keys_internal

// X509CaMode: where the X.509 CA's certificates come from (X509Config.mode).
enum class X509CaMode {
  kSelfSigned,    // each CA key certifies itself; the bundle holds them all
  kIntermediate,  // the operator's root signs each CA key's CSR
};

// FileKeyManagerOptions tunes a FileKeyManager.
struct FileKeyManagerOptions {
  // clock gives "now" for key ages and certificate validity; must outlive
  // the manager. Default: null (the system clock)
  const Clock* clock = nullptr;
  // enable_x509 keeps an X.509 CA ring (x509.enabled). Default: false
  bool enable_x509 = false;
  // enable_ssh keeps an SSH CA ring (ssh.enabled). Default: false
  bool enable_ssh = false;
  // trust_domain named in the CA certificates' URI SAN and the bundle.
  // Default: "writ.local"
  std::string trust_domain = "writ.local";
  // x509_mode (x509.mode). Default: kSelfSigned
  X509CaMode x509_mode = X509CaMode::kSelfSigned;
  // root_bundle_file: kIntermediate, the operator's root certificates (PEM)
  // the CA certificates must chain to; published as the X.509 authorities.
  // Default: "" (required in kIntermediate)
  std::string root_bundle_file;
  // ca_lifetime of a self-signed CA certificate. Default: 30 days
  absl::Duration ca_lifetime = absl::Hours(24 * 30);
  // publish_lead: how long a prepared key is published before it may become
  // active without force (keys.publish_lead). Default: 1 h
  absl::Duration publish_lead = absl::Hours(1);
  // rotate_after: RotateDue rotates an active key this old
  // (keys.rotate_after). Default: 24 h
  absl::Duration rotate_after = absl::Hours(24);
  // retired_publish_for: how long a retired key stays published: the longest
  // lifetime of a credential it signed plus verifiers' leeway
  // (tokens.max_lifetime + 5 min). Default: 1 h 5 min
  absl::Duration retired_publish_for = absl::Hours(1) + absl::Minutes(5);
  // before_state_write runs before every write of the state file; a non-OK
  // status fails the write as an I/O error would. A seam for tests of the
  // "nothing changes" guarantee. Default: unset
  std::function<absl::Status()> before_state_write;
};

// FileKeyManagerOptionsFromConfig maps the issuer configuration (keys, x509,
// ssh, tokens.max_lifetime) onto the options, with `clock`.
FileKeyManagerOptions FileKeyManagerOptionsFromConfig(const IssuerConfig& config,
                                                      const Clock* clock);

// FileKeyManager keeps one key ring per purpose in a directory (mode 0700):
// JWT signing keys (ES256, P-256) always, an X.509 CA (EC P-256) and an SSH
// CA (Ed25519) when enabled. Each key is a PEM file of mode 0600,
// "<purpose>-<id>.pem" ("jwt-signing.pem" for the first JWT key, the name
// used before rings existed); an X.509 CA key has its certificate
// "x509-ca-<id>.crt" next to it, and in intermediate mode its CSR
// "x509-ca-<id>.csr". "keyring.json" records every key's state and times and
// the bundle sequence (moved by every rotation, every drop of retired keys,
// and at Open by any other change of what is published: a ring enabled or
// disabled, another trust domain or root bundle); it is replaced atomically (temporary file, fsync,
// rename, fsync of the directory), and always after the key files it names
// exist. A file that group or others may read or write is refused: a leaked
// signing key is every credential Writ ever vouches for.
//
// The first Open creates an active and a prepared key per ring, so the next
// key is published before it ever signs. A directory from before rings (a
// lone jwt-signing.pem) is migrated: that key becomes the active JWT key.
// Readers get immutable snapshots; rotations swap the snapshot, so a signer
// or authority obtained before a rotation stays valid. Thread-safe.
class FileKeyManager final : public KeyManager {
 public:
  // kStateFile: the ring state file in the key directory.
  static constexpr char kStateFile[] = "keyring.json";
  // kLegacyJwtKeyFile: the JWT key file of data directories before rings.
  static constexpr char kLegacyJwtKeyFile[] = "jwt-signing.pem";
  // kMaxRetiredKeys: how many retired keys a ring may publish at once; an
  // on-demand Rotate that would retire one more is refused.
  static constexpr size_t kMaxRetiredKeys = 16;

  // Open loads or creates the rings in `dir` with default options (JWT
  // only).
  static absl::StatusOr<std::unique_ptr<FileKeyManager>> Open(absl::string_view dir);

  // Open loads or creates the rings in `dir`. Returns kInvalidArgument for
  // bad options, a key file that does not parse or is of the wrong kind, or
  // a malformed state file; kFailedPrecondition for a key directory or file
  // with loose permissions or another owner, a state file naming a missing or
  // replaced key file, key files without a state file, or (self-signed mode)
  // a refused CA certificate; kInternal for I/O errors. Every error names the
  // path. In intermediate mode a CA certificate that is refused or has
  // expired does not fail Open: that key is left without a certificate
  // (ActiveX509Ca() null for the active key, has_certificate false in List)
  // and Reload / RotateDue name the problem until a good one is placed.
  static absl::StatusOr<std::unique_ptr<FileKeyManager>> Open(absl::string_view dir,
                                                              const FileKeyManagerOptions& options);
  ~FileKeyManager() override;

  std::shared_ptr<const Signer> JwtSigner() const override;
  std::string PublicJwks() const override;
  std::shared_ptr<const X509Authority> ActiveX509Ca() const override;
  std::vector<std::shared_ptr<const X509Authority>> PublishedX509Cas() const override;
  std::shared_ptr<const SshAuthority> ActiveSshCa() const override;
  std::shared_ptr<const TrustBundle> Bundle() const override;
  std::vector<KeyInfo> List() const override;
  // Rotate: see KeyManager. First picks up placed certificates as Reload
  // does (a refused one is named when the prepared key lacks a usable
  // certificate). Also kFailedPrecondition for a disabled ring, and when the
  // ring already publishes kMaxRetiredKeys retired keys (naming when one
  // leaves); the schedule (RotateDue) is not limited so.
  absl::StatusOr<std::vector<KeyInfo>> Rotate(KeyPurpose purpose,
                                              const RotateOptions& options) override;
  // RotateDue: see KeyManager. Also rotates an X.509 ring whose active CA
  // certificate expires within publish_lead + retired_publish_for, whatever
  // its age, and (intermediate mode) first picks up placed certificates as
  // Reload does, and rotates an X.509 ring whose active key has no usable
  // certificate but whose prepared key has one. Returns
  // kFailedPrecondition, after doing all it could, when a placed certificate
  // is refused or a due X.509 rotation waits for a certificate (naming the
  // CSR); kInternal when the state cannot be written.
  absl::StatusOr<std::vector<KeyPurpose>> RotateDue() override;

  // Reload picks up the certificates an operator has placed for X.509 CA
  // keys that had none (intermediate mode). Returns kFailedPrecondition
  // naming the file when a placed certificate is refused (it stays unused;
  // the others are still picked up).
  absl::Status Reload();

  // created is true when Open generated the JWT ring (first start).
  bool created() const { return created_; }
  // jwt_key_path is the PEM file of the active JWT key.
  std::string jwt_key_path() const;
  // dir is the key directory.
  const std::string& dir() const;

 private:
  FileKeyManager(const FileKeyManagerOptions& options,
                 std::unique_ptr<keys_internal::RingContext> ctx);
  absl::Status Load();
  std::shared_ptr<const keys_internal::Snapshot> snapshot() const;
  std::string state_path() const;
  absl::Status RotateRing(KeyPurpose purpose, bool force, absl::Time now,
                          std::vector<keys_internal::LoadedKey>* keys,
                          std::vector<std::string>* new_files)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Commit(std::shared_ptr<const keys_internal::Snapshot> next,
                      const std::vector<std::string>& new_files,
                      const std::vector<keys_internal::KeyRecord>& dropped)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status RescanLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const FileKeyManagerOptions options_;
  const Clock* clock_;
  std::unique_ptr<keys_internal::RingContext> ctx_;
  bool created_ = false;
  // write_mu_ serializes state changes; mu_ guards the snapshot pointer only.
  absl::Mutex write_mu_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const keys_internal::Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_KEYS_FILE_KEY_MANAGER_H_

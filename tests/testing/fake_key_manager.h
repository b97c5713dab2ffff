// FakeKeyManager: an in-memory KeyManager for tests. Generates an ES256 JWT
// key, a self-signed EC P-256 X.509 CA and an Ed25519 SSH CA key, publishes
// them in a TrustBundle, and lets a test rotate or remove them to simulate
// what FileKeyManager does over time.
//
//   FakeKeyManager keys(clock.Now());
//   exchange = CertificateExchange(..., &keys, ...);
//   keys.RotateX509Ca();            // a new active CA; the old one stays published
//   keys.SetX509CaActive(false);    // no active CA (intermediate mode waiting)
//   keys.UseIntermediateMode();     // CAs signed by an offline root; only it is published
#ifndef WRIT_TESTS_TESTING_FAKE_KEY_MANAGER_H_
#define WRIT_TESTS_TESTING_FAKE_KEY_MANAGER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "issuer/src/keys/key_manager.h"

namespace writ::test {

// NewSelfSignedCa returns a self-signed EC P-256 CA valid from `not_before`
// to `not_after`, with id = KeyManager's CA key id of its public key. For
// "foreign CA" tests as well.
absl::StatusOr<std::shared_ptr<const issuer::X509Authority>> NewSelfSignedCa(
    absl::string_view common_name, absl::Time not_before, absl::Time not_after);

// NewCa is NewSelfSignedCa with an issuer: a CA signed by `issuer` (null:
// self-signed), whose chain is the issuer's chain below `issuer` itself when
// `issuer` is not self-signed. `path_length` is its basicConstraints
// pathLenConstraint.
absl::StatusOr<std::shared_ptr<const issuer::X509Authority>> NewCa(
    absl::string_view common_name, absl::Time not_before, absl::Time not_after,
    const issuer::X509Authority* issuer, int path_length = 0);

// CaKeyId is the KeyManager id of a CA public key: the first 16 bytes of the
// SHA-256 of its SubjectPublicKeyInfo DER, lowercase hex.
std::string CaKeyId(const EVP_PKEY* key);

// FakeKeyManager is thread-safe. Every change to what is published bumps
// the bundle's sequence and replaces the Bundle() snapshot.
class FakeKeyManager final : public issuer::KeyManager {
 public:
  // `now` sets the CAs' validity: now - 1 h to now + ca_lifetime.
  explicit FakeKeyManager(absl::Time now, std::string trust_domain = "acme.example",
                          absl::Duration ca_lifetime = absl::Hours(24 * 30));

  std::shared_ptr<const Signer> JwtSigner() const override;
  std::string PublicJwks() const override;
  std::shared_ptr<const issuer::X509Authority> ActiveX509Ca() const override;
  // PublishedX509Cas: the current CA (active, or prepared when
  // SetX509CaActive(false)) then the retired ones not dropped.
  std::vector<std::shared_ptr<const issuer::X509Authority>> PublishedX509Cas() const override;
  std::shared_ptr<const issuer::SshAuthority> ActiveSshCa() const override;
  std::shared_ptr<const issuer::TrustBundle> Bundle() const override;
  std::vector<issuer::KeyInfo> List() const override;
  // Rotate replaces the active key of `purpose` with a new one; the old one
  // stays published (retired). Fails with `rotate_error` when that is set.
  absl::StatusOr<std::vector<issuer::KeyInfo>> Rotate(
      issuer::KeyPurpose purpose, const issuer::RotateOptions& options) override;
  // RotateDue counts its calls and returns `rotate_due_result`.
  absl::StatusOr<std::vector<issuer::KeyPurpose>> RotateDue() override;

  // RotateX509Ca makes a new CA active; the previous one stays published.
  void RotateX509Ca();
  // SetX509CaActive(false) makes ActiveX509Ca() return null (the CA stays
  // published); true restores it.
  void SetX509CaActive(bool active);
  // DropRetired removes every retired key from what is published.
  void DropRetired();
  // UseIntermediateMode switches to FileKeyManager's intermediate mode: a new
  // self-signed root (root()) signs the current and every later CA, and the
  // bundle publishes that root only. Call it before handing the manager out.
  void UseIntermediateMode();
  // root is the intermediate mode's root; null in self-signed mode.
  std::shared_ptr<const issuer::X509Authority> root() const;

  int rotate_due_calls() const;
  void set_rotate_error(absl::Status error);
  void set_rotate_due_result(absl::StatusOr<std::vector<issuer::KeyPurpose>> result);

 private:
  void Republish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NewX509Ca() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NewSshCa() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void NewJwtKey() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Time now_;
  const std::string trust_domain_;
  const absl::Duration ca_lifetime_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Signer> jwt_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const Signer>> retired_jwt_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const issuer::X509Authority> ca_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const issuer::X509Authority>> retired_ca_ ABSL_GUARDED_BY(mu_);
  bool ca_active_ ABSL_GUARDED_BY(mu_) = true;
  std::shared_ptr<const issuer::SshAuthority> ssh_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const issuer::SshAuthority>> retired_ssh_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const issuer::TrustBundle> bundle_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const issuer::X509Authority> root_ ABSL_GUARDED_BY(mu_);
  int ca_count_ ABSL_GUARDED_BY(mu_) = 0;
  int rotate_due_calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status rotate_error_ ABSL_GUARDED_BY(mu_);
  absl::StatusOr<std::vector<issuer::KeyPurpose>> rotate_due_result_ ABSL_GUARDED_BY(mu_) =
      std::vector<issuer::KeyPurpose>{};
};

}  // namespace writ::test

#endif  // WRIT_TESTS_TESTING_FAKE_KEY_MANAGER_H_

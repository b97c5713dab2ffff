// Test-only: a local certificate authority that answers CSRs the way Writ's
// X.509-SVID endpoint does, with knobs to rotate its CA and to fail.
#ifndef WRIT_SDK_SRC_SVID_SVID_TEST_UTIL_H_
#define WRIT_SDK_SRC_SVID_SVID_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/crypto/ssl_ptr.h"
#include "writ/svid/x509_source.h"

namespace writ::test {

// TestCa holds one or more self-signed P-256 root CAs (valid from an hour
// before its creation for a year). One of them signs, and the bundle lists
// the published ones, in the order they were added. Thread-safe.
class TestCa {
 public:
  // New creates a CA with authority 0, published and signing. `clock` is
  // not owned and stamps every certificate.
  static absl::StatusOr<std::unique_ptr<TestCa>> New(const Clock* clock);

  // AddAuthority creates a new root, published but not signing yet, and
  // returns its index.
  absl::StatusOr<int> AddAuthority();
  // SignWith makes authority `index` sign the leaves issued from now on.
  void SignWith(int index);
  // Unpublish drops authority `index` from the bundle.
  void Unpublish(int index);

  // BundlePem returns the published authorities' certificates.
  std::string BundlePem() const;
  // AuthorityPem returns authority `index`'s certificate.
  std::string AuthorityPem(int index) const;

  // Leaf lifetime (Default: 1 h) and backdating of notBefore (Default: 0).
  void set_lifetime(absl::Duration lifetime);
  void set_backdate(absl::Duration backdate);

  // IssueLeafPem issues a leaf for `subject_key` with `uri_sans`, signed by
  // the signing authority.
  absl::StatusOr<std::string> IssueLeafPem(const EVP_PKEY* subject_key,
                                           const std::vector<std::string>& uri_sans,
                                           bool is_ca = false) const;

  // Issue answers a CSR as Writ does: a leaf for the CSR's key naming
  // `spiffe_id`, and the current bundle. kInvalidArgument for a bad CSR.
  absl::StatusOr<SvidResponse> Issue(absl::string_view csr_pem, absl::string_view spiffe_id) const;

  // Issuer returns an SvidIssuer that calls Issue for `spiffe_id`, counts
  // calls, and fails with the status set by FailWith while it is not OK.
  // The TestCa must outlive it.
  SvidIssuer Issuer(std::string spiffe_id);
  void FailWith(absl::Status status);
  int calls() const;

 private:
  struct Authority {
    SslPtr<EVP_PKEY> key;
    SslPtr<X509> cert;
    bool published = true;
  };

  explicit TestCa(const Clock* clock) : clock_(clock) {}
  absl::StatusOr<int> AddAuthorityLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  mutable absl::Mutex mu_;
  std::vector<Authority> authorities_ ABSL_GUARDED_BY(mu_);
  int signing_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration lifetime_ ABSL_GUARDED_BY(mu_) = absl::Hours(1);
  absl::Duration backdate_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// LeafOf returns the first certificate of a PEM chain (null if none parses).
SslPtr<X509> LeafOf(absl::string_view chain_pem);

// LeafKeyPem returns the public key of a PEM chain's leaf, as PEM ("" on
// failure), to compare keys across renewals.
std::string LeafKeyPem(absl::string_view chain_pem);

}  // namespace writ::test

#endif  // WRIT_SDK_SRC_SVID_SVID_TEST_UTIL_H_

// Internals of CertificateExchange shared by its .cc files: the minter caches
// and the record-then-answer step every certificate request ends with. Not
// part of the exchange's API.
#ifndef WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_INTERNAL_H_
#define WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_INTERNAL_H_

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "issuer/src/exchange/certificate_exchange.h"

namespace writ::issuer {

// SvidSigner is the minter of one X.509 CA key and the chain (PEM) that goes
// after every SVID it signs.
struct SvidSigner {
  std::string ca_id;
  std::unique_ptr<SvidMinter> minter;
  std::string chain_pem;
};

// SshSigner is the minter of one SSH CA key.
struct SshSigner {
  std::string ca_id;
  std::unique_ptr<SshCertMinter> minter;
};

// PublishedBundle is one bundle snapshot, ready for answers and renewals.
struct PublishedBundle {
  // bundle is held so a later snapshot cannot reuse its address.
  std::shared_ptr<const TrustBundle> bundle;
  std::string pem;
  // roots: the X.509 authorities that parse (a renewal's trust anchors).
  std::vector<SslPtr<X509>> roots;
};

struct CertificateExchange::Rep {
  Attestor* attestor;
  const PolicySource* policy;
  const KeyManager* keys;
  Ledger* ledger;
  const Clock* clock;
  CertificateExchangeOptions options;

  // ActiveSvidSigner returns the signer of the active X.509 CA, built on
  // first use of each CA key id. kUnavailable when there is no active CA,
  // kInternal when its minter cannot be built.
  absl::StatusOr<std::shared_ptr<const SvidSigner>> ActiveSvidSigner() const;
  // ActiveSshSigner: the same for the SSH CA.
  absl::StatusOr<std::shared_ptr<const SshSigner>> ActiveSshSigner() const;
  // Published returns the published bundle with its PEM rendering and
  // parsed X.509 authorities, prepared once per bundle snapshot. Null when
  // the key manager publishes no bundle.
  std::shared_ptr<const PublishedBundle> Published() const;

  mutable absl::Mutex mu;
  mutable std::shared_ptr<const SvidSigner> svid_signer ABSL_GUARDED_BY(mu);
  mutable std::shared_ptr<const SshSigner> ssh_signer ABSL_GUARDED_BY(mu);
  mutable std::shared_ptr<const PublishedBundle> published ABSL_GUARDED_BY(mu);
};

namespace certificate_internal {

// Messages the request checks share.
inline constexpr char kX509Off[] =
    "X.509-SVID issuance is turned off on this issuer (x509.enabled: false)";
inline constexpr char kNoSubjectToken[] = "a subject token (the attestation) is required";
inline constexpr char kNoCsr[] = "a CSR (PKCS #10, PEM or DER) is required";

// Issuance carries one request from the ledger health check to its answer:
// the record being built, the result, what was attested (released on our
// outage, see Attestor::Forget), and `done`. Every request is answered
// exactly once, by Reject (at once) or Finish (once the ledger has the
// record), or by a method that ends in one of them; after that the Issuance
// holds nothing of the request and only its destructor may run. A second
// answer is a bug: asserted in debug builds, dropped otherwise. An exception
// escaping the pipeline (a stage that throws) is not supported: the stages
// report errors as statuses, and neither answer-once nor record-before-answer
// holds for a request unwound through here.
class Issuance {
 public:
  using CertificateDone = CertificateExchange::CertificateDone;

  Issuance(const CertificateExchange::Rep& rep, const RequestContext& context,
           const char* credential_kind, CertificateDone done);
  // A request left unanswered is a bug; it is answered kInternal
  // ("server_error") here rather than left hanging.
  ~Issuance();

  // Reject answers without a record (malformed requests, checks before the
  // ledger is involved).
  void Reject(absl::Status status, const char* oauth_error);
  // Precheck runs the checks every certificate request shares, in order:
  // the kind is turned on (`off_message` otherwise, invalid_request), every
  // entry of `required` is present (its message otherwise; the first of the
  // pair is the field, non-empty when given), the lifetime is positive, and
  // the ledger can record (temporarily_unavailable). Returns true when the
  // request may go on, false once it has rejected it.
  bool Precheck(bool enabled, const char* off_message,
                std::initializer_list<std::pair<bool, const char*>> required,
                const std::optional<absl::Duration>& lifetime);
  // Finish records the decision (allow when `status` is OK) and answers once
  // the ledger has it (Ledger::AppendAsync). No record, no certificate: a
  // failed append becomes kUnavailable. After an outage (kUnavailable,
  // kInternal) the attested identity is forgotten.
  void Finish(absl::Status status, const char* oauth_error);
  // Deny finishes with kPermissionDenied and `oauth_error`, `reason` recorded.
  void Deny(const char* oauth_error, std::string reason);

  Issuance(const Issuance&) = delete;
  Issuance& operator=(const Issuance&) = delete;

  // AttestAndDecide attests `subject_token` (kept for the record and for
  // Attestor::Forget on our outage) and asks the policy for `request`, with
  // the caller's address and the record's time filled in. Returns the
  // allowing decision, whose grant is set; or nothing once it has finished
  // the refusal (attestation failed, or the policy denied).
  std::optional<Decision> AttestAndDecide(const std::string& subject_token, PolicyRequest request);
  // FillAttestation copies the attestation fields of an earlier record (a
  // renewal: nothing is attested now, so nothing is forgotten on outage).
  void FillAttestation(const LedgerRecord& original);
  // FillDecision copies the decision's rule, file and used claims.
  void FillDecision(const Decision& decision);
  // DenyDecision finishes with the decision's denial.
  void DenyDecision(const Decision& decision);

  // MintSvid finishes an allowed X.509-SVID request: checks the granted SPIFFE
  // ID's trust domain, mints from `csr` with the active CA and records.
  void MintSvid(const Decision& decision, const std::string& csr);

  LedgerRecord& record() { return rec_; }
  CertificateResult& result() { return out_; }

 private:
  const CertificateExchange::Rep& rep_;
  LedgerRecord rec_;
  CertificateResult out_;
  std::optional<AttestedIdentity> attested_;  // set once attestation passed
  CertificateDone done_;
  bool answered_ = false;
};

// Await runs `start` with a `done` and waits for it: the synchronous
// methods of CertificateExchange.
CertificateResult Await(absl::FunctionRef<void(CertificateExchange::CertificateDone)> start);

// CheckLifetime is the validation both transports' lifetimes share:
// kInvalidArgument when `lifetime` is set and not positive.
absl::Status CheckLifetime(const std::optional<absl::Duration>& lifetime);

// AttestationFailure maps an Attestor error onto the answer, as
// TokenExchange does: kUnavailable is our outage, the rest invalid_grant.
std::pair<absl::Status, const char*> AttestationFailure(const absl::Status& status);

}  // namespace certificate_internal
}  // namespace writ::issuer

#endif  // WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_INTERNAL_H_

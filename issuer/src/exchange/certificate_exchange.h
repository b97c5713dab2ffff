// CertificateExchange: the issuance pipeline for certificates. Attest (or,
// for a renewal, check the presented SVID), decide, mint with the active CA
// key, record, answer; the certificate twin of TokenExchange.
#ifndef WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_H_
#define WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "issuer/src/attest/attestor.h"
#include "issuer/src/exchange/policy_source.h"
#include "issuer/src/exchange/token_exchange.h"
#include "issuer/src/keys/key_manager.h"
#include "issuer/src/ledger/ledger.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "issuer/src/mint/svid_minter.h"
#include "writ/base/clock.h"

namespace writ::issuer {

// SvidExchangeRequest asks for an X.509-SVID with an attestation.
struct SvidExchangeRequest {
  std::string subject_token;  // the OIDC token; secret: never log it
  std::string csr;            // PKCS #10, PEM or DER; untrusted
  std::optional<absl::Duration> lifetime;
};

// SvidRenewalRequest asks for a fresh SVID on the strength of a still-valid
// Writ SVID the caller presented in an mTLS handshake (the handshake proved
// possession of its key).
struct SvidRenewalRequest {
  // peer_chain_der: the client certificate chain from the handshake, leaf
  // first, DER. Verified here against the published X.509 authorities.
  std::vector<std::string> peer_chain_der;
  // peer_certificate_error: not OK when the transport got a client
  // certificate it could not decode (gRPC's PEM does not parse); RenewSvid
  // then refuses with kUnauthenticated ("invalid_grant") naming it, recorded.
  // Default: OK
  absl::Status peer_certificate_error;
  std::string csr;
  std::optional<absl::Duration> lifetime;
};

// SshExchangeRequest asks for an SSH user certificate.
struct SshExchangeRequest {
  std::string subject_token;  // secret
  std::string public_key;     // OpenSSH public key line; untrusted
  // principals asked for; empty: every principal the rule grants.
  std::vector<std::string> principals;
  std::optional<absl::Duration> lifetime;
};

// CertificateResult is a certificate, or the error to answer with.
struct CertificateResult {
  // status/oauth_error as ExchangeResult: kInvalidArgument (malformed request
  // or CSR/key; "invalid_request"), kUnauthenticated (bad attestation or
  // presented SVID; "invalid_grant"), kPermissionDenied (policy, or a CSR
  // asking for other names; "access_denied"/"invalid_scope"), kUnavailable
  // (ledger, issuer keys, no active CA; "temporarily_unavailable"),
  // kInternal ("server_error").
  absl::Status status;
  std::string oauth_error;
  std::string request_id;
  std::string rule;
  // X.509: the SVID, the CA chain to send after it (PEM, empty for a
  // self-signed CA), and the trust bundle (PEM) to verify peers with.
  std::optional<MintedSvid> svid;
  std::string chain_pem;
  std::string bundle_pem;
  // SSH: the certificate, the principals it carries, and its key id
  // ("writ:<request_id>", which sshd logs on every login).
  std::optional<MintedSshCert> ssh;
  std::vector<std::string> principals;
  std::string ssh_key_id;
};

struct CertificateExchangeOptions {
  // Global cap on any lifetime. Default: 1 h.
  absl::Duration max_lifetime = absl::Hours(1);
  // SPIFFE trust domain: a granted SPIFFE ID outside it is refused.
  std::string trust_domain = "writ.local";
  // OID of the attested-facts extension (SvidMinterOptions). Default: none.
  std::string facts_extension_oid;
  // x509_enabled / ssh_enabled: false refuses that kind of request before
  // anything is attested or recorded, with kFailedPrecondition and
  // "invalid_request" (HTTP 400) naming the switch. Default: true.
  bool x509_enabled = true;
  bool ssh_enabled = true;
  // Options of the minters built for each CA key. Defaults: theirs.
  SvidMinterOptions svid_minter;
  SshCertMinterOptions ssh_minter;
};

// CertificateExchange is thread-safe; the stages must outlive it and every
// answer still owed (the ledger's callback may release an attestation).
// Every request that gets past decoding is recorded in the ledger, allowed or
// denied, before the answer; when the ledger cannot record, the answer is
// kUnavailable and no certificate leaves (an unhealthy ledger is refused
// before attesting, so a one-time token is not spent). Minters are built per
// active CA key (cached by key id) and replaced when KeyManager rotates.
//
// Ledger records: credential_kind "x509-svid" (jti = serial hex,
// granted_subject = SPIFFE ID, credential_sha256 = DER fingerprint) or "ssh"
// (jti = decimal serial, granted_subject = the rule's subject, principals,
// source_addresses); signing_key = the CA key id; claims = the claims the
// decision used plus the facts the rule copied into the certificate; and
// attested_issuer_name, so a renewal can rebuild the attested identity.
class CertificateExchange {
 public:
  CertificateExchange(Attestor* attestor, const PolicySource* policy, const KeyManager* keys,
                      Ledger* ledger, const Clock* clock, CertificateExchangeOptions options = {});
  ~CertificateExchange();

  // CertificateDone receives a request's result.
  using CertificateDone = absl::AnyInvocable<void(CertificateResult) &&>;

  // IssueSvidAsync, RenewSvidAsync and IssueSshAsync run a request without
  // waiting for the ledger: the checks, attestation (which may block on a
  // fetch of the attesting issuer's keys), the renewal's ledger lookup,
  // policy and minting run on the calling thread, then the record is handed
  // to the ledger (Ledger::AppendAsync) and the call returns. `done` runs
  // exactly once: with the result once the ledger has recorded the decision,
  // on the ledger's thread (kUnavailable "temporarily_unavailable" and no
  // certificate when it could not); or on the calling thread, before the call
  // returns, for a request answered without a record or a ledger that answers
  // inline. `done` must not block. What each request checks and records: see
  // IssueSvid, RenewSvid and IssueSsh.
  void IssueSvidAsync(const SvidExchangeRequest& request, const RequestContext& context,
                      CertificateDone done) const;
  void RenewSvidAsync(const SvidRenewalRequest& request, const RequestContext& context,
                      CertificateDone done) const;
  void IssueSshAsync(const SshExchangeRequest& request, const RequestContext& context,
                     CertificateDone done) const;

  // IssueSvid, RenewSvid and IssueSsh are the Async methods waiting for
  // `done`, so they block until the ledger has the record: for tests and
  // tools, not for a thread that serves requests.
  //
  // IssueSvid: the attested identity must be granted an X.509-SVID whose
  // SPIFFE ID is in the trust domain; the CSR must prove possession and ask
  // for no other name.
  CertificateResult IssueSvid(const SvidExchangeRequest& request,
                              const RequestContext& context) const;
  // RenewSvid: the presented SVID (the first certificate of
  // peer_chain_der) must verify at the clock's time against the published
  // roots, through Writ's own CA certificates still published
  // (KeyManager::PublishedX509Cas) and nothing else: the certificates the
  // client sent after its leaf are ignored, so an SVID of a CA key that has
  // been dropped does not renew even if the client still has its
  // certificate, and one of a retired, still-published CA renews from the
  // leaf alone. It must carry one spiffe:// URI SAN and have an allowed
  // "x509-svid" ledger record (by serial) for that SPIFFE ID and with its
  // exact DER fingerprint. The identity that record attested
  // (attested_issuer_name, issuer, subject and the recorded claims) is put to
  // the policy in force again, which must grant the same SPIFFE ID with
  // renewable: true. The new record copies the attestation fields, so the
  // renewed SVID can be renewed in turn. A presented SVID that fails these
  // checks is kUnauthenticated ("invalid_grant"), recorded.
  //
  // What the record says of the presented certificate: once it parses, every
  // record (allowed or refused) names its serial (hex) in renewed_from; an
  // invalid_grant refusal of it also ends its reason (and the status message)
  // with "(presented certificate sha256 <hex>)", its DER fingerprint, so a
  // refused certificate is identified even when its serial is not Writ's.
  CertificateResult RenewSvid(const SvidRenewalRequest& request,
                              const RequestContext& context) const;
  // IssueSsh: the rule must grant SSH certificates, with at least one
  // principal; the certificate carries the granted principals and source
  // addresses.
  CertificateResult IssueSsh(const SshExchangeRequest& request,
                             const RequestContext& context) const;

  struct Rep;

 private:
  std::unique_ptr<Rep> rep_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_EXCHANGE_CERTIFICATE_EXCHANGE_H_

#include "issuer/src/exchange/certificate_exchange.h"

#include <openssl/x509v3.h>

#include <algorithm>
#include <cassert>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "issuer/src/exchange/certificate_exchange_internal.h"
#include "writ/spiffe/spiffe_id.h"
#include "writ/x509/certificate.h"

namespace writ::issuer {
namespace {

SslPtr<X509> Ref(X509* x) {
  X509_up_ref(x);
  return SslPtr<X509>(x);
}

SslPtr<EVP_PKEY> Ref(EVP_PKEY* k) {
  EVP_PKEY_up_ref(k);
  return SslPtr<EVP_PKEY>(k);
}

// ChainPem is what a workload sends after its SVID so that verifiers holding
// only the bundle's roots can build the path: the CA certificate and the
// chain above it, leaving out self-signed certificates (the roots verifiers
// already have). Empty for a self-signed CA.
absl::StatusOr<std::string> ChainPem(const X509Authority& ca) {
  std::string out;
  auto add = [&out](X509* cert) -> absl::Status {
    if (X509_self_signed(cert, /*verify_signature=*/0) == 1) return absl::OkStatus();
    absl::StatusOr<std::string> pem = CertificateToPem(cert);
    if (!pem.ok()) return pem.status();
    out += *pem;
    return absl::OkStatus();
  };
  absl::Status s = add(ca.certificate.get());
  for (const SslPtr<X509>& c : ca.chain) {
    if (s.ok()) s = add(c.get());
  }
  if (!s.ok()) return s;
  return out;
}

// MintFailure maps a minter's error: the caller's input (CSR or public key)
// is invalid_request, names it may not have access_denied, an expired CA our
// outage.
std::pair<absl::Status, const char*> MintFailure(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return {s, "invalid_request"};
    case absl::StatusCode::kPermissionDenied:
      return {s, "access_denied"};
    case absl::StatusCode::kFailedPrecondition:
      return {absl::UnavailableError(
                  absl::StrCat("the issuing CA cannot sign right now: ", s.message())),
              "temporarily_unavailable"};
    default:
      return {absl::InternalError(absl::StrCat("minting failed: ", s.message())), "server_error"};
  }
}

const char* OAuthErrorOf(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ? "temporarily_unavailable" : "server_error";
}

// Answer is what a request answers once the ledger has said whether its
// record is durable: the result so far, the status it ends with, and the
// identity to release (see Attestor::Forget) when it then fails through our
// fault. It runs on the ledger's thread: nothing here may block.
struct Answer {
  CertificateResult out;
  absl::Status status;
  const char* oauth_error;
  Attestor* attestor;
  std::optional<AttestedIdentity> attested;
  CertificateExchange::CertificateDone done;

  void operator()(absl::Status recorded) && {
    if (!recorded.ok()) {
      // No record, no certificate: nothing of the result but its id leaves.
      CertificateResult empty;
      empty.request_id = out.request_id;
      out = std::move(empty);
      status = absl::UnavailableError(absl::StrCat(
          "the decision could not be recorded, so no certificate is issued: ", recorded.message()));
      oauth_error = "temporarily_unavailable";
    }
    const absl::StatusCode code = status.code();
    out.status = std::move(status);
    out.oauth_error = out.status.ok() ? "" : oauth_error;
    if (attested.has_value() &&
        (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kInternal)) {
      attestor->Forget(*attested);
    }
    std::move(done)(std::move(out));
  }
};

}  // namespace

namespace certificate_internal {

absl::Status CheckLifetime(const std::optional<absl::Duration>& lifetime) {
  if (lifetime.has_value() && *lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("requested lifetime must be positive");
  }
  return absl::OkStatus();
}

std::pair<absl::Status, const char*> AttestationFailure(const absl::Status& s) {
  std::string message = absl::StrCat("subject_token: ", s.message());
  if (s.code() == absl::StatusCode::kUnavailable) {
    return {absl::UnavailableError(message), "temporarily_unavailable"};
  }
  return {absl::UnauthenticatedError(message), "invalid_grant"};
}

CertificateResult Await(absl::FunctionRef<void(CertificateExchange::CertificateDone)> start) {
  std::optional<CertificateResult> result;
  absl::Notification answered;
  start([&](CertificateResult r) {
    result = std::move(r);
    answered.Notify();
  });
  answered.WaitForNotification();
  return *std::move(result);
}

Issuance::Issuance(const CertificateExchange::Rep& rep, const RequestContext& context,
                   const char* credential_kind, CertificateDone done)
    : rep_(rep), done_(std::move(done)) {
  out_.request_id = NewRequestId();
  rec_.time = rep.clock->Now();
  rec_.request_id = out_.request_id;
  rec_.transport = context.transport;
  rec_.client_address = context.client_address;
  rec_.credential_kind = credential_kind;
  rec_.decision = "deny";
}

Issuance::~Issuance() {
  assert(answered_ && "a certificate request ended without an answer");
  if (!answered_) {
    Reject(absl::InternalError("the request ended without an answer"), "server_error");
  }
}

void Issuance::Reject(absl::Status status, const char* oauth_error) {
  assert(!answered_ && "a certificate request was answered twice");
  if (answered_) return;  // without asserts: `done_` is spent, drop the second answer
  answered_ = true;
  out_.status = std::move(status);
  out_.oauth_error = oauth_error;
  std::move(done_)(std::move(out_));
}

bool Issuance::Precheck(bool enabled, const char* off_message,
                        std::initializer_list<std::pair<bool, const char*>> required,
                        const std::optional<absl::Duration>& lifetime) {
  auto reject = [this](absl::Status status, const char* oauth_error) {
    Reject(std::move(status), oauth_error);
    return false;
  };
  if (!enabled) return reject(absl::FailedPreconditionError(off_message), "invalid_request");
  for (const auto& [present, message] : required) {
    if (!present) return reject(absl::InvalidArgumentError(message), "invalid_request");
  }
  if (absl::Status s = CheckLifetime(lifetime); !s.ok()) return reject(s, "invalid_request");
  if (!rep_.ledger->Healthy()) {
    return reject(absl::UnavailableError(
                      "the ledger cannot record decisions; no credential is issued until it can"),
                  "temporarily_unavailable");
  }
  return true;
}

void Issuance::Finish(absl::Status status, const char* oauth_error) {
  assert(!answered_ && "a certificate request was answered twice");
  if (answered_) return;
  if (!status.ok()) {
    rec_.decision = "deny";
    rec_.error = oauth_error;
    if (rec_.reasons.empty()) rec_.reasons.push_back(std::string(status.message()));
  }
  answered_ = true;
  // The ledger may run the answer before AppendAsync returns, or later on its
  // own thread: it takes everything it needs with it.
  rep_.ledger->AppendAsync(rec_, Answer{std::move(out_), std::move(status), oauth_error,
                                        rep_.attestor, std::move(attested_), std::move(done_)});
}

void Issuance::Deny(const char* oauth_error, std::string reason) {
  rec_.reasons = {reason};
  Finish(absl::PermissionDeniedError(reason), oauth_error);
}

std::optional<Decision> Issuance::AttestAndDecide(const std::string& subject_token,
                                                  PolicyRequest request) {
  absl::StatusOr<AttestedIdentity> identity = rep_.attestor->Attest(subject_token);
  if (!identity.ok()) {
    auto [status, code] = AttestationFailure(identity.status());
    Finish(status, code);
    return std::nullopt;
  }
  attested_ = *std::move(identity);
  rec_.attested_issuer = attested_->issuer;
  rec_.attested_subject = attested_->subject;
  rec_.attested_issuer_name = attested_->issuer_name;
  request.client_address = rec_.client_address;
  request.now = rec_.time;
  Decision decision = rep_.policy->Decide(*attested_, request);
  FillDecision(decision);
  if (!decision.allowed || !decision.grant.has_value()) {
    DenyDecision(decision);
    return std::nullopt;
  }
  return decision;
}

void Issuance::FillAttestation(const LedgerRecord& original) {
  rec_.attested_issuer = original.attested_issuer;
  rec_.attested_subject = original.attested_subject;
  rec_.attested_issuer_name = original.attested_issuer_name;
  rec_.actors = original.actors;
}

void Issuance::FillDecision(const Decision& decision) {
  rec_.rule = decision.rule;
  rec_.policy_file = decision.policy_file;
  rec_.claims = decision.used_claims;
}

void Issuance::DenyDecision(const Decision& decision) {
  rec_.reasons = decision.reasons;
  std::string summary = decision.reasons.empty() ? "no policy rule allows this request"
                                                 : absl::StrJoin(decision.reasons, "; ");
  Finish(absl::PermissionDeniedError(summary), DenyCodeName(decision.deny_code));
}

void Issuance::MintSvid(const Decision& decision, const std::string& csr) {
  const Grant& grant = *decision.grant;
  if (grant.kind != CredentialKind::kX509Svid) {
    return Deny("access_denied", absl::StrCat("rule \"", decision.rule,
                                              "\" does not grant X.509-SVIDs (credentials: ",
                                              CredentialKindName(grant.kind), ")"));
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(grant.subject);
  if (!id.ok()) {
    return Deny("access_denied",
                absl::StrCat("rule \"", decision.rule, "\" grants subject \"", grant.subject,
                             "\", which is not a SPIFFE ID: ", id.status().message()));
  }
  if (id->trust_domain() != rep_.options.trust_domain) {
    return Deny("access_denied", absl::StrCat("SPIFFE ID ", grant.subject,
                                              " is outside this issuer's trust domain \"",
                                              rep_.options.trust_domain, "\""));
  }
  absl::StatusOr<std::shared_ptr<const SvidSigner>> signer = rep_.ActiveSvidSigner();
  if (!signer.ok()) return Finish(signer.status(), OAuthErrorOf(signer.status()));

  SvidRequest sreq;
  sreq.csr = csr;
  sreq.spiffe_id = grant.subject;
  sreq.lifetime = std::min(grant.lifetime, rep_.options.max_lifetime);
  sreq.facts = grant.facts;
  absl::StatusOr<MintedSvid> minted = (*signer)->minter->Mint(sreq);
  if (!minted.ok()) {
    auto [status, code] = MintFailure(minted.status());
    return Finish(status, code);
  }
  // The facts the SVID carries are claims too: a renewal rebuilds the
  // identity from the recorded claims and must find them again.
  for (const auto& fact : grant.facts) {
    if (std::find(rec_.claims.begin(), rec_.claims.end(), fact) == rec_.claims.end()) {
      rec_.claims.push_back(fact);
    }
  }
  rec_.decision = "allow";
  rec_.granted_subject = minted->spiffe_id;
  rec_.granted_lifetime = minted->lifetime_clamped ? minted->not_after - rec_.time : sreq.lifetime;
  rec_.jti = minted->serial_hex;
  rec_.credential_sha256 = minted->sha256_fingerprint_hex;
  rec_.expires_at = minted->not_after;
  rec_.signing_key = (*signer)->ca_id;
  out_.rule = decision.rule;
  out_.chain_pem = (*signer)->chain_pem;
  std::shared_ptr<const PublishedBundle> published = rep_.Published();
  if (published != nullptr) out_.bundle_pem = published->pem;
  out_.svid = *std::move(minted);
  return Finish(absl::OkStatus(), "");
}

}  // namespace certificate_internal

using certificate_internal::AttestationFailure;
using certificate_internal::Await;
using certificate_internal::Issuance;
using certificate_internal::kNoCsr;
using certificate_internal::kNoSubjectToken;
using certificate_internal::kX509Off;

absl::StatusOr<std::shared_ptr<const SvidSigner>> CertificateExchange::Rep::ActiveSvidSigner()
    const {
  std::shared_ptr<const X509Authority> ca = keys->ActiveX509Ca();
  if (ca == nullptr || ca->certificate == nullptr || ca->private_key == nullptr) {
    return absl::UnavailableError(
        "no active X.509 CA (intermediate mode: the CA certificate may still wait for the "
        "operator's signature)");
  }
  {
    absl::MutexLock lock(&mu);
    if (svid_signer != nullptr && svid_signer->ca_id == ca->id) return svid_signer;
  }
  auto signer = std::make_shared<SvidSigner>();
  signer->ca_id = ca->id;
  absl::StatusOr<std::string> chain = ChainPem(*ca);
  if (!chain.ok()) {
    return absl::InternalError(absl::StrCat("X.509 CA ", ca->id, ": ", chain.status().message()));
  }
  signer->chain_pem = *std::move(chain);
  absl::StatusOr<std::unique_ptr<SvidMinter>> minter = SvidMinter::New(
      Ref(ca->certificate.get()), Ref(ca->private_key.get()), clock, options.svid_minter);
  if (!minter.ok()) {
    return absl::InternalError(
        absl::StrCat("X.509 CA ", ca->id, " cannot sign SVIDs: ", minter.status().message()));
  }
  signer->minter = *std::move(minter);
  absl::MutexLock lock(&mu);
  svid_signer = std::move(signer);
  return svid_signer;
}

absl::StatusOr<std::shared_ptr<const SshSigner>> CertificateExchange::Rep::ActiveSshSigner() const {
  std::shared_ptr<const SshAuthority> ca = keys->ActiveSshCa();
  if (ca == nullptr || ca->private_key == nullptr) {
    return absl::UnavailableError("no active SSH CA key");
  }
  {
    absl::MutexLock lock(&mu);
    if (ssh_signer != nullptr && ssh_signer->ca_id == ca->id) return ssh_signer;
  }
  auto signer = std::make_shared<SshSigner>();
  signer->ca_id = ca->id;
  absl::StatusOr<std::unique_ptr<SshCertMinter>> minter =
      SshCertMinter::New(Ref(ca->private_key.get()), clock, options.ssh_minter);
  if (!minter.ok()) {
    return absl::InternalError(
        absl::StrCat("SSH CA ", ca->id, " cannot sign: ", minter.status().message()));
  }
  signer->minter = *std::move(minter);
  absl::MutexLock lock(&mu);
  ssh_signer = std::move(signer);
  return ssh_signer;
}

std::shared_ptr<const PublishedBundle> CertificateExchange::Rep::Published() const {
  std::shared_ptr<const TrustBundle> bundle = keys->Bundle();
  if (bundle == nullptr) return nullptr;
  {
    absl::MutexLock lock(&mu);
    if (published != nullptr && published->bundle == bundle) return published;
  }
  auto fresh = std::make_shared<PublishedBundle>();
  fresh->bundle = bundle;
  fresh->pem = X509BundlePem(*bundle);
  for (const std::string& der : bundle->x509_authorities_der) {
    absl::StatusOr<SslPtr<X509>> cert = ParseCertificateDer(der);
    if (cert.ok()) fresh->roots.push_back(*std::move(cert));
  }
  absl::MutexLock lock(&mu);
  published = std::move(fresh);
  return published;
}

CertificateExchange::CertificateExchange(Attestor* attestor, const PolicySource* policy,
                                         const KeyManager* keys, Ledger* ledger, const Clock* clock,
                                         CertificateExchangeOptions options)
    : rep_(std::make_unique<Rep>()) {
  rep_->attestor = attestor;
  rep_->policy = policy;
  rep_->keys = keys;
  rep_->ledger = ledger;
  rep_->clock = clock;
  rep_->options = std::move(options);
  rep_->options.svid_minter.facts_extension_oid = rep_->options.facts_extension_oid;
}

CertificateExchange::~CertificateExchange() = default;

CertificateResult CertificateExchange::IssueSvid(const SvidExchangeRequest& req,
                                                 const RequestContext& ctx) const {
  return Await([&](CertificateDone done) { IssueSvidAsync(req, ctx, std::move(done)); });
}

CertificateResult CertificateExchange::RenewSvid(const SvidRenewalRequest& req,
                                                 const RequestContext& ctx) const {
  return Await([&](CertificateDone done) { RenewSvidAsync(req, ctx, std::move(done)); });
}

CertificateResult CertificateExchange::IssueSsh(const SshExchangeRequest& req,
                                                const RequestContext& ctx) const {
  return Await([&](CertificateDone done) { IssueSshAsync(req, ctx, std::move(done)); });
}

void CertificateExchange::IssueSvidAsync(const SvidExchangeRequest& req, const RequestContext& ctx,
                                         CertificateDone done) const {
  Issuance is(*rep_, ctx, CredentialKindName(CredentialKind::kX509Svid), std::move(done));
  if (!is.Precheck(rep_->options.x509_enabled, kX509Off,
                   {{!req.subject_token.empty(), kNoSubjectToken}, {!req.csr.empty(), kNoCsr}},
                   req.lifetime)) {
    return;
  }
  is.record().requested_lifetime = req.lifetime.value_or(absl::ZeroDuration());
  std::optional<Decision> decision = is.AttestAndDecide(
      req.subject_token, {.kind = CredentialKind::kX509Svid, .lifetime = req.lifetime});
  if (!decision.has_value()) return;
  is.MintSvid(*decision, req.csr);
}

void CertificateExchange::IssueSshAsync(const SshExchangeRequest& req, const RequestContext& ctx,
                                        CertificateDone done) const {
  Issuance is(*rep_, ctx, CredentialKindName(CredentialKind::kSsh), std::move(done));
  if (!is.Precheck(rep_->options.ssh_enabled,
                   "SSH certificate issuance is turned off on this issuer (ssh.enabled: false)",
                   {{!req.subject_token.empty(), kNoSubjectToken},
                    {!req.public_key.empty(), "an OpenSSH public key line is required"}},
                   req.lifetime)) {
    return;
  }
  LedgerRecord& rec = is.record();
  rec.requested_lifetime = req.lifetime.value_or(absl::ZeroDuration());
  std::optional<Decision> decision = is.AttestAndDecide(
      req.subject_token,
      {.kind = CredentialKind::kSsh, .ssh_principals = req.principals, .lifetime = req.lifetime});
  if (!decision.has_value()) return;
  const Grant& grant = *decision->grant;
  if (grant.kind != CredentialKind::kSsh) {
    return is.Deny(
        "access_denied",
        absl::StrCat("rule \"", decision->rule, "\" does not grant SSH certificates (credentials: ",
                     CredentialKindName(grant.kind), ")"));
  }
  if (grant.ssh_principals.empty()) {
    return is.Deny("access_denied",
                   absl::StrCat("rule \"", decision->rule, "\" grants no SSH principals"));
  }
  absl::StatusOr<std::shared_ptr<const SshSigner>> signer = rep_->ActiveSshSigner();
  if (!signer.ok()) return is.Finish(signer.status(), OAuthErrorOf(signer.status()));

  SshCertRequest sreq;
  sreq.public_key = req.public_key;
  sreq.principals = grant.ssh_principals;
  sreq.source_addresses = grant.ssh_source_addresses;
  sreq.lifetime = std::min(grant.lifetime, rep_->options.max_lifetime);
  sreq.key_id = absl::StrCat("writ:", rec.request_id);
  absl::StatusOr<MintedSshCert> minted = (*signer)->minter->Mint(sreq);
  if (!minted.ok()) {
    auto [status, code] = MintFailure(minted.status());
    return is.Finish(status, code);
  }
  rec.decision = "allow";
  rec.granted_subject = grant.subject.empty() ? sreq.key_id : grant.subject;
  rec.granted_lifetime = sreq.lifetime;
  rec.jti = absl::StrCat(minted->serial);
  rec.credential_sha256 = minted->sha256_fingerprint_hex;
  rec.expires_at = minted->valid_before;
  rec.principals = grant.ssh_principals;
  rec.source_addresses = grant.ssh_source_addresses;
  rec.signing_key = (*signer)->ca_id;
  CertificateResult& out = is.result();
  out.rule = decision->rule;
  out.principals = grant.ssh_principals;
  out.ssh_key_id = sreq.key_id;
  out.ssh = *std::move(minted);
  return is.Finish(absl::OkStatus(), "");
}

}  // namespace writ::issuer

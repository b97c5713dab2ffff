// CertificateExchange::RenewSvidAsync: a fresh X.509-SVID on the strength of
// a Writ SVID presented in an mTLS handshake instead of a new attestation.

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "issuer/src/exchange/certificate_exchange.h"
#include "issuer/src/exchange/certificate_exchange_internal.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "writ/crypto/digest.h"
#include "writ/x509/certificate.h"
#include "writ/x509/verify.h"

namespace writ::issuer {
namespace {

using certificate_internal::Issuance;
using certificate_internal::kNoCsr;
using certificate_internal::kX509Off;

// SerialHex is the serial as SvidMinter reports it (MintedSvid::serial_hex):
// the magnitude's bytes, lowercase hex.
std::string SerialHex(const X509* cert) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)), ASN1_STRING_length(serial)));
}

// RecordedClaims rebuilds the claims set of the original attestation from
// what its record kept: "iss" and "sub", and every recorded (name, value)
// pair as a top-level string member (a dotted name such as "env.name" is
// found by the policy's claim lookup that way too). The first value of a
// name wins; the registered time claims are left out (they must be numbers
// and no rule matches on them).
absl::StatusOr<JwtClaims> RecordedClaims(const LedgerRecord& rec) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  std::set<std::string> seen = {"iss", "sub", "exp", "nbf", "iat"};
  auto member = [&w](absl::string_view name, absl::string_view value) {
    w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  member("iss", rec.attested_issuer);
  member("sub", rec.attested_subject);
  for (const auto& [name, value] : rec.claims) {
    if (!seen.insert(name).second) continue;
    member(name, value);
  }
  w.EndObject();
  return JwtClaims::Parse(absl::string_view(buf.GetString(), buf.GetSize()));
}

}  // namespace

void CertificateExchange::RenewSvidAsync(const SvidRenewalRequest& req, const RequestContext& ctx,
                                         CertificateDone done) const {
  Issuance is(*rep_, ctx, CredentialKindName(CredentialKind::kX509Svid), std::move(done));
  if (!is.Precheck(rep_->options.x509_enabled, kX509Off, {{!req.csr.empty(), kNoCsr}},
                   req.lifetime)) {
    return;
  }
  if (req.peer_certificate_error.ok() &&
      (req.peer_chain_der.empty() || req.peer_chain_der.front().empty())) {
    return is.Reject(absl::UnauthenticatedError(
                         "renewal needs the current SVID presented as the TLS client certificate"),
                     "invalid_grant");
  }
  LedgerRecord& rec = is.record();
  rec.requested_lifetime = req.lifetime.value_or(absl::ZeroDuration());
  // presented_sha256: the presented leaf's DER fingerprint, once it parses.
  std::string presented_sha256;
  auto refuse = [&is, &presented_sha256](absl::string_view why) {
    std::string message = absl::StrCat("presented SVID: ", why);
    if (!presented_sha256.empty()) {
      absl::StrAppend(&message, " (presented certificate sha256 ", presented_sha256, ")");
    }
    return is.Finish(absl::UnauthenticatedError(message), "invalid_grant");
  };

  if (!req.peer_certificate_error.ok()) {
    return refuse(absl::StrCat("the TLS client certificate cannot be decoded: ",
                               req.peer_certificate_error.message()));
  }

  // The presented certificate: it must chain to what is published now, at
  // the clock's time (the handshake proved the caller holds its key).
  absl::StatusOr<SslPtr<X509>> leaf = ParseCertificateDer(req.peer_chain_der.front());
  if (!leaf.ok()) return refuse(leaf.status().message());
  absl::StatusOr<std::string> leaf_der = CertificateToDer(leaf->get());
  if (!leaf_der.ok()) return refuse(leaf_der.status().message());
  presented_sha256 = Sha256Hex(*leaf_der);
  const std::string serial = SerialHex(leaf->get());
  rec.renewed_from = serial;
  // The path goes through Writ's own CA certificates that are still
  // published, never through what the client sent after its leaf: a CA
  // certificate the client kept cannot revive a CA key Writ has dropped, and
  // a client sending its leaf alone still renews under a retired CA.
  std::vector<std::shared_ptr<const X509Authority>> cas = rep_->keys->PublishedX509Cas();
  std::vector<const X509*> intermediates;
  for (const std::shared_ptr<const X509Authority>& ca : cas) {
    if (ca == nullptr || ca->certificate == nullptr) continue;
    intermediates.push_back(ca->certificate.get());
    for (const SslPtr<X509>& c : ca->chain) intermediates.push_back(c.get());
  }
  std::shared_ptr<const PublishedBundle> published = rep_->Published();
  if (published == nullptr || published->roots.empty()) {
    return is.Finish(absl::UnavailableError("no X.509 authorities are published to verify the "
                                            "presented SVID against"),
                     "temporarily_unavailable");
  }
  std::vector<const X509*> roots;
  for (const SslPtr<X509>& r : published->roots) roots.push_back(r.get());
  if (absl::Status v = VerifyCertificate(leaf->get(), intermediates, roots, rec.time); !v.ok()) {
    return refuse(v.message());
  }
  absl::StatusOr<std::vector<std::string>> uris = CertificateUriSans(leaf->get());
  if (!uris.ok()) return refuse(uris.status().message());
  if (uris->size() != 1 || !absl::StartsWith(uris->front(), "spiffe://")) {
    return refuse("it is not an X.509-SVID (it needs exactly one spiffe:// URI SAN)");
  }
  const std::string& spiffe_id = uris->front();

  // Its ledger record: which identity was attested for it. An empty serial
  // (OpenSSL may hold a zero serial as no bytes) is one Writ never issues,
  // and the ledger refuses to look it up.
  absl::StatusOr<LedgerRecord> original =
      serial.empty() ? absl::NotFoundError("empty serial") : rep_->ledger->FindByJti(serial);
  if (absl::IsNotFound(original.status())) {
    return refuse(absl::StrCat("serial ", serial.empty() ? "(empty)" : serial,
                               " has no ledger record on this issuer"));
  }
  if (!original.ok()) {
    return is.Finish(absl::UnavailableError(
                         absl::StrCat("the ledger cannot be read: ", original.status().message())),
                     "temporarily_unavailable");
  }
  if (original->credential_kind != CredentialKindName(CredentialKind::kX509Svid) ||
      original->decision != "allow" || original->granted_subject != spiffe_id ||
      original->credential_sha256 != presented_sha256) {
    return refuse(
        absl::StrCat("serial ", serial, " is not an X.509-SVID Writ issued for ", spiffe_id));
  }
  is.FillAttestation(*original);
  if (original->attested_issuer_name.empty()) {
    return refuse(absl::StrCat(
        "the record of serial ", serial,
        " predates renewals (it does not name the trusted issuer); present an attestation"));
  }

  // The policy in force, asked again for that identity.
  AttestedIdentity identity;
  identity.issuer_name = original->attested_issuer_name;
  identity.issuer = original->attested_issuer;
  identity.subject = original->attested_subject;
  absl::StatusOr<JwtClaims> claims = RecordedClaims(*original);
  if (!claims.ok()) {
    return refuse(absl::StrCat("the recorded claims of serial ", serial,
                               " cannot be rebuilt: ", claims.status().message()));
  }
  identity.claims = *std::move(claims);
  PolicyRequest preq;
  preq.kind = CredentialKind::kX509Svid;
  preq.lifetime = req.lifetime;
  preq.client_address = ctx.client_address;
  preq.now = rec.time;
  Decision decision = rep_->policy->Decide(identity, preq);
  is.FillDecision(decision);
  // Keep the original claims (not only those this decision used), so the
  // renewed SVID can be renewed in turn under a policy that looks at more.
  rec.claims = original->claims;
  if (!decision.allowed || !decision.grant.has_value()) return is.DenyDecision(decision);
  if (!decision.grant->renewable) {
    return is.Deny("access_denied",
                   absl::StrCat("rule \"", decision.rule,
                                "\" does not allow renewal over mTLS (x509_svid.renewable is "
                                "false); present an attestation instead"));
  }
  if (decision.grant->subject != spiffe_id) {
    return is.Deny("access_denied",
                   absl::StrCat("the policy now grants ", decision.grant->subject, ", not ",
                                spiffe_id, "; present an attestation instead"));
  }
  return is.MintSvid(decision, req.csr);
}

}  // namespace writ::issuer

#include "issuer/src/mint/svid_minter.h"

#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/openssl_error.h"
#include "writ/spiffe/spiffe_id.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"

namespace writ::issuer {
namespace {

constexpr int kMaxRsaBits = 8192;

// AppendDerLength appends the DER definite length of `n` bytes.
void AppendDerLength(size_t n, std::string* out) {
  if (n < 0x80) {
    out->push_back(static_cast<char>(n));
    return;
  }
  std::string bytes;
  for (; n > 0; n >>= 8) bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
  out->push_back(static_cast<char>(0x80 | bytes.size()));
  out->append(bytes);
}

void AppendTlv(uint8_t tag, absl::string_view content, std::string* out) {
  out->push_back(static_cast<char>(tag));
  AppendDerLength(content.size(), out);
  out->append(content.data(), content.size());
}

// IsUtf8 accepts well-formed UTF-8 (no overlongs, surrogates or code points
// past U+10FFFF), as a UTF8String must hold.
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t c = static_cast<uint8_t>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const uint8_t cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// CheckCsrKey accepts the key kinds the SVID profile allows.
absl::Status CheckCsrKey(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return absl::OkStatus();
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), &len) == 1) {
        absl::string_view name(group, len);
        if (name == "prime256v1" || name == "secp384r1") return absl::OkStatus();
      }
      ClearOpenSslErrors();
      break;
    }
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits >= 2048 && bits <= kMaxRsaBits) return absl::OkStatus();
      break;
    }
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("CSR key ", KeyDescription(key),
                   " is not accepted for an SVID: use EC P-256 or P-384, Ed25519, or RSA of 2048 "
                   "to ",
                   kMaxRsaBits, " bits"));
}

absl::StatusOr<CertificateRequest> ParseCsr(absl::string_view csr) {
  absl::StatusOr<CertificateRequest> parsed = absl::StrContains(csr, "-----BEGIN")
                                                  ? CertificateRequest::ParsePem(csr)
                                                  : CertificateRequest::ParseDer(csr);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("bad CSR: ", parsed.status().message()));
  }
  return parsed;
}

// CheckRequestedNames refuses a CSR that asks for anything but `granted`: an
// issuer that silently drops names hides a workload's misconfiguration.
absl::Status CheckRequestedNames(const CertificateRequest& csr, absl::string_view granted) {
  for (const std::string& uri : csr.uri_sans()) {
    if (uri != granted) {
      return absl::PermissionDeniedError(absl::StrCat(
          "CSR asks for URI SAN \"", uri, "\" but the granted SPIFFE ID is \"", granted, "\""));
    }
  }
  if (!csr.dns_sans().empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("CSR asks for DNS SAN \"", csr.dns_sans().front(),
                     "\"; an X.509-SVID carries only the granted SPIFFE ID \"", granted, "\""));
  }
  if (csr.requests_other_sans()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "CSR asks for a non-URI SAN (email, IP, otherName...); an X.509-SVID carries only the "
        "granted SPIFFE ID \"",
        granted, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<SslPtr<ASN1_OBJECT>> ParseFactsOid(absl::string_view oid) {
  if (oid.empty()) return SslPtr<ASN1_OBJECT>();
  // OBJ_txt2obj is lenient ("1..2" parses), so check the syntax first: two or
  // more arcs of digits, the first 0, 1 or 2.
  const std::vector<absl::string_view> arcs = absl::StrSplit(oid, '.');
  const bool dotted_digits =
      arcs.size() >= 2 && (arcs[0] == "0" || arcs[0] == "1" || arcs[0] == "2") &&
      std::all_of(arcs.begin(), arcs.end(), [](absl::string_view arc) {
        return !arc.empty() && std::all_of(arc.begin(), arc.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        });
      });
  SslPtr<ASN1_OBJECT> obj;
  if (dotted_digits && oid.size() < 256) {
    obj.reset(OBJ_txt2obj(std::string(oid).c_str(), /*no_name=*/1));
  }
  if (obj == nullptr) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat("facts_extension_oid \"", oid, "\" is not a dotted OID like 1.3.6.1.4.1.1"));
  }
  // An arc of 2^31 or more (such as a 2.25 UUID arc) makes the whole
  // certificate unparseable for common verifiers (Go's crypto/x509, Python's
  // cryptography), so refuse it here rather than mint SVIDs nobody can read.
  for (absl::string_view arc : arcs) {
    if (arc.size() > 10 || std::stoull(std::string(arc)) > 0x7fffffffULL) {
      return absl::InvalidArgumentError(absl::StrCat(
          "facts_extension_oid \"", oid, "\" has the arc ", arc,
          ", which is 2^31 or more: Go's crypto/x509 and Python's cryptography cannot parse "
          "certificates carrying it; use an arc under your organisation's enterprise number"));
    }
  }
  const int nid = OBJ_obj2nid(obj.get());
  if (nid != NID_undef && X509V3_EXT_get_nid(nid) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "facts_extension_oid \"", oid, "\" is a standard extension (", OBJ_nid2sn(nid), ")"));
  }
  return obj;
}

}  // namespace

absl::StatusOr<std::string> EncodeAttestedFacts(
    const std::vector<std::pair<std::string, std::string>>& facts) {
  std::string body;
  for (const auto& [name, value] : facts) {
    if (name.empty()) return absl::InvalidArgumentError("attested fact with an empty name");
    if (!IsUtf8(name)) {
      return absl::InvalidArgumentError("attested fact name is not valid UTF-8");
    }
    if (!IsUtf8(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("attested fact \"", name, "\" has a value that is not valid UTF-8"));
    }
    std::string pair;
    AppendTlv(V_ASN1_UTF8STRING, name, &pair);
    AppendTlv(V_ASN1_UTF8STRING, value, &pair);
    AppendTlv(V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, pair, &body);
  }
  std::string out;
  AppendTlv(V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED, body, &out);
  return out;
}

absl::StatusOr<std::unique_ptr<SvidMinter>> SvidMinter::New(SslPtr<X509> ca_cert,
                                                            SslPtr<EVP_PKEY> ca_key,
                                                            const Clock* clock,
                                                            SvidMinterOptions options) {
  if (ca_cert == nullptr || ca_key == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError("SvidMinter needs a CA certificate, its key and a clock");
  }
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("the CA key does not match the CA certificate");
  }
  // 1 means basicConstraints cA=true and, if keyUsage is present, keyCertSign;
  // other non-zero values are legacy forms (v1 roots, Netscape cert types).
  if (X509_check_ca(ca_cert.get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        "the CA certificate is not a CA allowed to sign certificates (basicConstraints cA and "
        "keyUsage keyCertSign)");
  }
  if (options.backdate < absl::ZeroDuration() || options.backdate > absl::Hours(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("backdate ", absl::FormatDuration(options.backdate), " is not in [0, 1h]"));
  }
  ASSIGN_OR_RETURN(absl::Time ca_not_after, CertificateNotAfter(ca_cert.get()));
  ASSIGN_OR_RETURN(SslPtr<ASN1_OBJECT> facts_oid, ParseFactsOid(options.facts_extension_oid));
  return std::unique_ptr<SvidMinter>(new SvidMinter(std::move(ca_cert), std::move(ca_key), clock,
                                                    std::move(options), ca_not_after,
                                                    std::move(facts_oid)));
}

absl::StatusOr<MintedSvid> SvidMinter::Mint(const SvidRequest& request) const {
  ASSIGN_OR_RETURN(SpiffeId id, SpiffeId::Parse(request.spiffe_id));
  const std::string granted = id.ToString();
  if (request.lifetime < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("SVID lifetime ", absl::FormatDuration(request.lifetime), " is under 1 s"));
  }
  std::string facts_der;
  if (facts_oid_ != nullptr && !request.facts.empty()) {
    ASSIGN_OR_RETURN(facts_der, EncodeAttestedFacts(request.facts));
  }

  ASSIGN_OR_RETURN(CertificateRequest csr, ParseCsr(request.csr));
  // The key kind first: it is cheap, and it bounds the cost of the signature
  // check on untrusted input.
  RETURN_IF_ERROR(CheckCsrKey(csr.public_key()));
  if (absl::Status proof = csr.VerifySignature(); !proof.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CSR signature does not verify (no proof of possession of the key): ", proof.message()));
  }
  RETURN_IF_ERROR(CheckRequestedNames(csr, granted));

  // Certificates hold whole seconds; round so the reported times are exact.
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_->Now()));
  const absl::Time ca_not_after = absl::FromUnixSeconds(absl::ToUnixSeconds(ca_not_after_));
  if (ca_not_after <= now) {
    return absl::FailedPreconditionError(
        absl::StrCat("the CA certificate expired at ", absl::FormatTime(ca_not_after_),
                     "; no SVID can be issued until it is rotated"));
  }
  const absl::Time wanted_not_after =
      absl::FromUnixSeconds(absl::ToUnixSeconds(now + request.lifetime));

  CertificateTemplate tmpl;
  tmpl.uri_sans = {granted};
  tmpl.not_before = now - absl::Trunc(options_.backdate, absl::Seconds(1));
  tmpl.not_after = std::min(wanted_not_after, ca_not_after);
  ASSIGN_OR_RETURN(tmpl.serial, RandomSerial());
  tmpl.is_ca = false;
  tmpl.key_usage.digital_signature = true;
  tmpl.key_usage_critical = true;
  tmpl.extended_key_usage.server_auth = true;
  tmpl.extended_key_usage.client_auth = true;

  tmpl.subject_public_key_info = X509_REQ_get_X509_PUBKEY(const_cast<X509_REQ*>(csr.get()));
  if (!facts_der.empty()) {
    tmpl.extra_extensions.push_back(
        {.oid = facts_oid_.get(), .critical = false, .der_value = std::move(facts_der)});
  }

  ASSIGN_OR_RETURN(SslPtr<X509> cert,
                   IssueCertificate(tmpl, csr.public_key(), ca_cert_.get(), ca_key_.get()));

  MintedSvid out;
  ASSIGN_OR_RETURN(out.certificate_der, CertificateToDer(cert.get()));
  ASSIGN_OR_RETURN(out.certificate_pem, CertificateToPem(cert.get()));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  out.serial_hex = absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)), ASN1_STRING_length(serial)));
  out.sha256_fingerprint_hex = Sha256Hex(out.certificate_der);
  out.not_before = tmpl.not_before;
  out.not_after = tmpl.not_after;
  out.lifetime_clamped = wanted_not_after > ca_not_after;
  out.spiffe_id = granted;
  return out;
}

}  // namespace writ::issuer

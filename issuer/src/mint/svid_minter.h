// SvidMinter: SPIFFE X.509-SVIDs (X509-SVID.md) signed by Writ's CA from a
// workload's CSR.
#ifndef WRIT_ISSUER_MINT_SVID_MINTER_H_
#define WRIT_ISSUER_MINT_SVID_MINTER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/base/clock.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ::issuer {

// SvidMinterOptions tunes an SvidMinter.
struct SvidMinterOptions {
  // How far before "now" notBefore is set, to absorb relying parties' clock
  // skew. Must be >= 0 and at most 1 hour. Default: 30 s
  absl::Duration backdate = absl::Seconds(30);
  // Dotted OID, e.g. "1.3.6.1.4.1.99999.1", of the non-critical extension
  // that carries the attested facts; empty means no such extension. It must
  // not be an extension OpenSSL already knows (subjectAltName, ...).
  // The extension value is DER:
  //   AttestedFacts ::= SEQUENCE OF SEQUENCE { name UTF8String, value UTF8String }
  // in request order (DER rather than JSON so relying parties decode it with
  // the ASN.1 code they already have for the certificate). The extension is
  // omitted when a request has no facts. Default: "" (no extension)
  std::string facts_extension_oid;
};

// SvidRequest is what the policy granted, plus the workload's CSR.
struct SvidRequest {
  // PKCS #10 CSR, PEM ("-----BEGIN CERTIFICATE REQUEST-----") or DER.
  // Untrusted. Its subject and the names it asks for are not copied; asking
  // for any name other than `spiffe_id` is refused.
  std::string csr;
  // The granted SPIFFE ID; validated with SpiffeId::Parse.
  std::string spiffe_id;
  // How long the SVID lives from now (clamped to the CA's notAfter). >= 1 s.
  absl::Duration lifetime;
  // Attested facts for the facts extension: non-empty UTF-8 names, UTF-8
  // values.
  std::vector<std::pair<std::string, std::string>> facts;
};

// MintedSvid is a signed X.509-SVID and what the ledger keeps of it.
struct MintedSvid {
  std::string certificate_pem;
  std::string certificate_der;
  // serial_hex is the serial number's magnitude, lowercase hex.
  std::string serial_hex;
  // sha256_fingerprint_hex is the SHA-256 of certificate_der, lowercase hex.
  std::string sha256_fingerprint_hex;
  absl::Time not_before;
  // not_after is the real expiry, whole seconds: now + lifetime, or the CA's
  // notAfter when that comes first (then lifetime_clamped is true).
  absl::Time not_after;
  bool lifetime_clamped = false;
  std::string spiffe_id;
};

// SvidMinter signs X.509-SVIDs with a CA certificate and its private key.
// Every SVID has: an empty subject; exactly one URI SAN, the SPIFFE ID
// (critical, as the subject is empty); basicConstraints cA=false (critical);
// keyUsage digitalSignature only (critical); extKeyUsage serverAuth and
// clientAuth; subject and authority key identifiers; a random 127-bit serial;
// notBefore = now - backdate; notAfter = now + lifetime, never after the
// CA's notAfter. Accepted CSR keys: EC P-256 and P-384, Ed25519, RSA 2048 to
// 8192 bits (the upper bound keeps untrusted CSRs cheap to verify).
// Thread-safe; `clock` must outlive it.
class SvidMinter {
 public:
  // New returns a minter for `ca_cert` and its private key `ca_key`, taking
  // ownership of both. kInvalidArgument if either is null, the key does not
  // match the certificate, the certificate is not a CA allowed to sign
  // certificates, `clock` is null, or an option is out of range.
  static absl::StatusOr<std::unique_ptr<SvidMinter>> New(SslPtr<X509> ca_cert,
                                                         SslPtr<EVP_PKEY> ca_key,
                                                         const Clock* clock,
                                                         SvidMinterOptions options = {});

  // Mint validates `request` and signs an SVID. Returns
  //   kInvalidArgument: a bad SPIFFE ID, lifetime or fact; a CSR that does
  //     not parse, whose signature does not verify (no proof of possession),
  //     or whose key is not an accepted kind (the message names the key);
  //   kPermissionDenied: the CSR asks for a name other than the SPIFFE ID
  //     (the message names it);
  //   kFailedPrecondition: the CA has expired (or expires within a second);
  //   kInternal: OpenSSL failed.
  absl::StatusOr<MintedSvid> Mint(const SvidRequest& request) const;

  // ca_certificate returns the CA certificate, owned by this minter.
  const X509* ca_certificate() const { return ca_cert_.get(); }

 private:
  SvidMinter(SslPtr<X509> ca_cert, SslPtr<EVP_PKEY> ca_key, const Clock* clock,
             SvidMinterOptions options, absl::Time ca_not_after, SslPtr<ASN1_OBJECT> facts_oid)
      : ca_cert_(std::move(ca_cert)),
        ca_key_(std::move(ca_key)),
        clock_(clock),
        options_(std::move(options)),
        ca_not_after_(ca_not_after),
        facts_oid_(std::move(facts_oid)) {}

  SslPtr<X509> ca_cert_;
  SslPtr<EVP_PKEY> ca_key_;
  const Clock* clock_;
  SvidMinterOptions options_;
  absl::Time ca_not_after_;
  SslPtr<ASN1_OBJECT> facts_oid_;  // null when there is no facts extension
};

// EncodeAttestedFacts returns the DER AttestedFacts (see SvidMinterOptions)
// for `facts`. kInvalidArgument for an empty name or a name or value that is
// not UTF-8.
absl::StatusOr<std::string> EncodeAttestedFacts(
    const std::vector<std::pair<std::string, std::string>>& facts);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_MINT_SVID_MINTER_H_

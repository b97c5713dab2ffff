// X.509 certificates: DER/PEM encoding, a few accessors, and issuing a
// certificate from a template with explicit validity times.
#ifndef WRIT_X509_CERTIFICATE_H_
#define WRIT_X509_CERTIFICATE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ {

// kMaxCertificateBytes bounds one DER certificate, and the PEM text
// ParseCertificatePem accepts.
inline constexpr size_t kMaxCertificateBytes = 64 * 1024;

// kMaxCertificateChainPemBytes bounds the PEM text ParseCertificateChainPem
// accepts: room for a bundle of a few hundred trust anchors.
inline constexpr size_t kMaxCertificateChainPemBytes = 1024 * 1024;

// ParseCertificateDer parses one DER certificate. Returns kInvalidArgument if
// `der` is empty, over kMaxCertificateBytes, not a certificate, or followed
// by trailing bytes. Nothing about the certificate is verified.
absl::StatusOr<SslPtr<X509>> ParseCertificateDer(absl::string_view der);

// ParseCertificatePem parses exactly one "CERTIFICATE" PEM block (text around
// it is ignored), then as ParseCertificateDer. More than one block, or a
// block with another label, is kInvalidArgument.
absl::StatusOr<SslPtr<X509>> ParseCertificatePem(absl::string_view pem);

// ParseCertificateChainPem parses one or more "CERTIFICATE" PEM blocks, in
// order (leaf first for a chain). Returns kInvalidArgument if there is none,
// the input is over kMaxCertificateChainPemBytes, or any block is bad.
absl::StatusOr<std::vector<SslPtr<X509>>> ParseCertificateChainPem(absl::string_view pem);

// CertificateToDer and CertificateToPem encode `cert`; kInternal on failure.
absl::StatusOr<std::string> CertificateToDer(const X509* cert);
absl::StatusOr<std::string> CertificateToPem(const X509* cert);

// CertificateNotBefore and CertificateNotAfter return the validity bounds.
// kInvalidArgument if the field is malformed.
absl::StatusOr<absl::Time> CertificateNotBefore(const X509* cert);
absl::StatusOr<absl::Time> CertificateNotAfter(const X509* cert);

// CertificateSubject returns the subject in RFC 2253 form ("CN=a,O=b"), or
// "" for an empty subject.
std::string CertificateSubject(const X509* cert);

// CertificateUriSans and CertificateDnsSans return the URI (DNS) names of the
// subjectAltName extension in order, empty if there is none. kInvalidArgument
// if the extension is malformed or duplicated, or a name is not printable
// ASCII.
absl::StatusOr<std::vector<std::string>> CertificateUriSans(const X509* cert);
absl::StatusOr<std::vector<std::string>> CertificateDnsSans(const X509* cert);

// KeyUsage is the keyUsage extension's bits (RFC 5280 section 4.2.1.3).
struct KeyUsage {
  bool digital_signature = false;
  bool content_commitment = false;  // Formerly nonRepudiation.
  bool key_encipherment = false;
  bool data_encipherment = false;
  bool key_agreement = false;
  bool key_cert_sign = false;
  bool crl_sign = false;
};

// ExtendedKeyUsage is the extKeyUsage purposes (RFC 5280 section 4.2.1.12).
struct ExtendedKeyUsage {
  bool server_auth = false;
  bool client_auth = false;
};

// CertificateTemplate describes a certificate to issue. Times are inputs:
// nothing in this library reads the clock.
struct CertificateTemplate {
  // Subject common name; empty means an empty subject (then the SAN is marked
  // critical, RFC 5280 section 4.2.1.6). A self-signed certificate needs one.
  // Default: ""
  std::string subject_common_name;
  // URI SANs in order, e.g. exactly one "spiffe://..." ID for an X.509-SVID.
  // Default: none
  std::vector<std::string> uri_sans;
  // DNS SANs in order. Default: none
  std::vector<std::string> dns_sans;
  // Validity, inclusive, truncated to whole seconds. Both must be set and
  // not_before <= not_after. Default: unset (InfinitePast), an error
  absl::Time not_before = absl::InfinitePast();
  absl::Time not_after = absl::InfinitePast();
  // Serial number as big-endian unsigned bytes: non-zero, at most 20 bytes
  // once DER-encoded (RFC 5280 section 4.1.2.2). Use RandomSerial().
  // Default: empty, an error
  std::string serial;
  // basicConstraints cA; the extension is always present and critical.
  // Default: false
  bool is_ca = false;
  // basicConstraints pathLenConstraint; only allowed with is_ca.
  // Default: none (no limit)
  std::optional<int> path_length;
  // keyUsage bits; the extension is omitted when none is set. key_cert_sign
  // requires is_ca. Default: none
  KeyUsage key_usage;
  // Whether keyUsage is marked critical. Default: true
  bool key_usage_critical = true;
  // extKeyUsage purposes (non-critical); omitted when none is set.
  // Default: none
  ExtendedKeyUsage extended_key_usage;
  // Add a subjectKeyIdentifier: SHA-1 of the subject public key bits (RFC 5280
  // section 4.2.1.2, method 1). Default: true
  bool subject_key_identifier = true;
  // Add an authorityKeyIdentifier naming the issuer's key identifier (the
  // certificate's own when self-signed). Default: true
  bool authority_key_identifier = true;
  // The subject's SubjectPublicKeyInfo as already parsed (from a CSR:
  // X509_REQ_get_X509_PUBKEY), copied into the certificate as is instead of
  // re-encoding `subject_public_key` through OpenSSL 3's encoders (the
  // slowest step of issuing). Must be the SPKI of `subject_public_key`; not
  // owned. Default: null (encode subject_public_key)
  const X509_PUBKEY* subject_public_key_info = nullptr;
  // Further extensions, added last in order, each with its DER value (the
  // contents of the extnValue OCTET STRING). The OID must not be one of the
  // extensions above. Default: none
  struct RawExtension {
    const ASN1_OBJECT* oid = nullptr;  // not owned; must outlive the call
    bool critical = false;
    std::string der_value;
  };
  std::vector<RawExtension> extra_extensions;
};

// RandomSerial returns 16 random bytes with the top bit cleared: a positive
// serial with 127 bits of entropy (CA/Browser Forum asks for at least 64).
// kInternal if the random generator fails.
absl::StatusOr<std::string> RandomSerial();

// IssueCertificate builds and signs a version 3 certificate for
// `subject_public_key` as `tmpl` describes.
//
// With `issuer_cert` null the certificate is self-signed: `issuer_key` must be
// the private half of `subject_public_key`, and the issuer name is the
// subject. Otherwise `issuer_cert` must be a CA certificate whose public key
// matches `issuer_key`; the issuer name and authority key identifier come
// from it.
//
// `issuer_key` signs: ECDSA P-256/P-384/P-521 with SHA-256/384/512, Ed25519,
// or RSA (>= 2048 bits) with SHA-256 PKCS #1 v1.5.
//
// Returns kInvalidArgument for a bad template, an unsupported or mismatched
// key; kFailedPrecondition if `issuer_cert` is not a CA or `tmpl.not_after`
// is after the issuer's notAfter (a certificate never outlives its CA);
// kInternal if OpenSSL fails. Does not take ownership of any argument.
// Thread-safe.
absl::StatusOr<SslPtr<X509>> IssueCertificate(const CertificateTemplate& tmpl,
                                              const EVP_PKEY* subject_public_key,
                                              const X509* issuer_cert, const EVP_PKEY* issuer_key);

}  // namespace writ

#endif  // WRIT_X509_CERTIFICATE_H_

#include "issuer/src/keys/ca_certificates.h"

#include <openssl/x509v3.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/openssl_error.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ::issuer::keys_internal {

absl::StatusOr<std::string> CaKeyId(const EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0 || der == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot encode the CA public key");
  }
  const std::string digest = Sha256(absl::string_view(reinterpret_cast<char*>(der), len));
  OPENSSL_free(der);
  return absl::BytesToHexString(absl::string_view(digest).substr(0, 16));
}

std::string CaCommonName(absl::string_view id) { return absl::StrCat("Writ CA ", id); }

absl::StatusOr<SslPtr<X509>> SelfSignedCaCertificate(const EVP_PKEY* key, absl::string_view id,
                                                     absl::string_view trust_domain, absl::Time now,
                                                     absl::Duration lifetime) {
  CertificateTemplate tmpl;
  tmpl.subject_common_name = CaCommonName(id);
  tmpl.uri_sans = {absl::StrCat("spiffe://", trust_domain)};
  tmpl.not_before = now - kCaBackdate;
  tmpl.not_after = now + lifetime;
  ASSIGN_OR_RETURN(tmpl.serial, RandomSerial());
  tmpl.is_ca = true;
  tmpl.path_length = 0;
  tmpl.key_usage.key_cert_sign = true;
  tmpl.key_usage.crl_sign = true;
  tmpl.key_usage.digital_signature = true;
  return IssueCertificate(tmpl, key, nullptr, key);
}

absl::StatusOr<std::string> CaCertificateRequestPem(const EVP_PKEY* key, absl::string_view id,
                                                    absl::string_view trust_domain) {
  CertificateRequestTemplate tmpl;
  tmpl.common_name = CaCommonName(id);
  tmpl.uri_sans = {absl::StrCat("spiffe://", trust_domain)};
  return CertificateRequest::CreatePem(key, tmpl);
}

absl::Status CheckCaCertificate(const std::vector<SslPtr<X509>>& chain, const EVP_PKEY* key,
                                absl::Span<const X509* const> roots, absl::Time at,
                                absl::string_view path) {
  if (chain.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": holds no certificate"));
  }
  X509* cert = chain.front().get();
  if (EVP_PKEY_eq(X509_get0_pubkey(cert), key) != 1) {
    ClearOpenSslErrors();
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": certifies another key (subject \"", CertificateSubject(cert),
                     "\"), not the CA key it is named after; sign the CSR next to it instead"));
  }
  const bool has_key_usage = (X509_get_extension_flags(cert) & EXFLAG_KUSAGE) != 0;
  if (X509_check_ca(cert) != 1 || !has_key_usage ||
      (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     ": is not a CA certificate allowed to sign certificates (it needs "
                     "basicConstraints CA:TRUE and keyUsage keyCertSign)"));
  }
  if (roots.empty()) return absl::OkStatus();
  std::vector<const X509*> above;
  for (size_t i = 1; i < chain.size(); ++i) above.push_back(chain[i].get());
  absl::Status verified = VerifyCertificate(cert, above, roots, at);
  if (!verified.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": does not chain to a root of x509.root_bundle_file at ",
        absl::FormatTime(absl::RFC3339_sec, at, absl::UTCTimeZone()), ": ", verified.message()));
  }
  return absl::OkStatus();
}

}  // namespace writ::issuer::keys_internal

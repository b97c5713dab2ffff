// Internal to writ_keys: the certificates of Writ's X.509 CA keys. In
// self-signed mode each CA key certifies itself; in intermediate mode each
// key gets a CSR for the operator's root to sign, and the certificate the
// operator places is checked before the key may sign anything.
#ifndef WRIT_ISSUER_KEYS_CA_CERTIFICATES_H_
#define WRIT_ISSUER_KEYS_CA_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ::issuer::keys_internal {

// kCaBackdate: how far before "now" a self-signed CA certificate starts, for
// verifiers whose clocks run behind.
inline constexpr absl::Duration kCaBackdate = absl::Minutes(5);

// CaKeyId returns the id of a CA key: the first 16 bytes of the SHA-256 of
// its SubjectPublicKeyInfo DER, lowercase hex (32 characters). kInternal if
// OpenSSL cannot encode the key.
absl::StatusOr<std::string> CaKeyId(const EVP_PKEY* key);

// CaCommonName returns the subject common name of CA key `id`: "Writ CA <id>".
std::string CaCommonName(absl::string_view id);

// SelfSignedCaCertificate certifies `key` (EC P-256) as a root: subject
// CN=Writ CA <id>, URI SAN spiffe://<trust_domain>, basicConstraints critical
// CA:TRUE pathlen:0, keyUsage critical keyCertSign, cRLSign and
// digitalSignature, subject and authority key identifiers, a random serial,
// valid from now - kCaBackdate to now + lifetime. Errors as IssueCertificate.
absl::StatusOr<SslPtr<X509>> SelfSignedCaCertificate(const EVP_PKEY* key, absl::string_view id,
                                                     absl::string_view trust_domain, absl::Time now,
                                                     absl::Duration lifetime);

// CaCertificateRequestPem returns a PKCS #10 CSR for `key`, signed by it,
// with the subject and SAN a self-signed certificate would have.
absl::StatusOr<std::string> CaCertificateRequestPem(const EVP_PKEY* key, absl::string_view id,
                                                    absl::string_view trust_domain);

// CheckCaCertificate checks the certificate `chain` (the CA's own
// certificate first, then any certificates above it, as read from `path`)
// for `key`: the first certificate's public key is `key`'s, and it is a CA
// whose keyUsage allows keyCertSign. With `roots` non-empty (intermediate
// mode), it must also chain through the rest of `chain` to one of `roots`
// with every certificate valid at `at`. Returns kFailedPrecondition naming
// `path` and the defect.
absl::Status CheckCaCertificate(const std::vector<SslPtr<X509>>& chain, const EVP_PKEY* key,
                                absl::Span<const X509* const> roots, absl::Time at,
                                absl::string_view path);

}  // namespace writ::issuer::keys_internal

#endif  // WRIT_ISSUER_KEYS_CA_CERTIFICATES_H_

// Internal: helpers shared by the X.509 certificate, CSR and verification
// code. Not part of the SDK's public API.
#ifndef WRIT_SDK_SRC_X509_X509_UTIL_H_
#define WRIT_SDK_SRC_X509_X509_UTIL_H_

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ::x509_internal {

// kMaxDerBytes bounds one encoded certificate or CSR (and its PEM form).
inline constexpr size_t kMaxDerBytes = 64 * 1024;

// Owners for OpenSSL objects that writ/crypto/ssl_ptr.h has no deleter for.
struct ExtensionStackDeleter {
  void operator()(STACK_OF(X509_EXTENSION) * s) const;
};
using ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackDeleter>;

// MemBio returns a read-only memory BIO over `data`, which must outlive it.
SslPtr<BIO> MemBio(absl::string_view data);

// ReadPemBlocks decodes every PEM block in `pem` and returns their DER
// contents. Each block's label must be one of `labels` and carry no headers;
// text between blocks is ignored (RFC 7468 section 5.2). `what` names the
// expected object in error messages. Returns kInvalidArgument when the input
// has no PEM block, a block is malformed or has another label.
absl::StatusOr<std::vector<std::string>> ReadPemBlocks(absl::string_view pem,
                                                       const std::vector<absl::string_view>& labels,
                                                       absl::string_view what);

// DerToPem wraps `der` in a PEM block labelled `label`.
absl::StatusOr<std::string> DerToPem(absl::string_view label, absl::string_view der);

// EncodeDer returns `obj` encoded with `i2d` (i2d_X509, i2d_X509_REQ...).
template <typename T>
absl::StatusOr<std::string> EncodeDer(int (*i2d)(const T*, unsigned char**), const T* obj) {
  const int len = i2d(obj, nullptr);
  if (len <= 0) return absl::InternalError("DER encoding failed");
  std::string der(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  if (i2d(obj, &p) != len) return absl::InternalError("DER encoding changed length");
  return der;
}

// NameToString formats `name` as an RFC 2253 string ("CN=foo,O=bar").
std::string NameToString(const X509_NAME* name);

// CommonName returns the last common name in `name` as UTF-8, "" if it has
// none, or kInvalidArgument if it cannot be converted.
absl::StatusOr<std::string> CommonName(const X509_NAME* name);

// SubjectAltNames holds the URI and DNS names of a subjectAltName extension.
struct SubjectAltNames {
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  // True if the extension holds any other kind of name (email, IP, ...).
  bool has_other_names = false;
};

// CollectSans converts `names` (which may be null: no extension). Returns
// kInvalidArgument for a URI or DNS name that is empty, not ASCII, or holds a
// NUL byte.
absl::StatusOr<SubjectAltNames> CollectSans(const GENERAL_NAMES* names);

// BuildSans returns a GENERAL_NAMES holding `uris` then `dns_names`, or
// kInvalidArgument if one is empty, not printable ASCII, or absurdly long.
absl::StatusOr<SslPtr<GENERAL_NAMES>> BuildSans(const std::vector<std::string>& uris,
                                                const std::vector<std::string>& dns_names);

// NewSigningContext returns a digest-sign context for `key` with the digest
// Writ uses for it: SHA-256/384/512 for ECDSA on P-256/P-384/P-521, none for
// Ed25519, SHA-256 (PKCS #1 v1.5) for RSA. kInvalidArgument for other keys.
// The context holds its own reference to `key`.
absl::StatusOr<SslPtr<EVP_MD_CTX>> NewSigningContext(const EVP_PKEY* key);

// ToAsn1Time returns `t` (truncated to whole seconds) as UTCTime for years
// 1950-2049 and GeneralizedTime otherwise (RFC 5280 section 4.1.2.5).
// kInvalidArgument for infinite times or years X.509 cannot encode.
absl::StatusOr<SslPtr<ASN1_TIME>> ToAsn1Time(absl::Time t, absl::string_view what);

// FromAsn1Time converts an ASN1_TIME to absl::Time, or kInvalidArgument.
absl::StatusOr<absl::Time> FromAsn1Time(const ASN1_TIME* t);

}  // namespace writ::x509_internal

#endif  // WRIT_SDK_SRC_X509_X509_UTIL_H_

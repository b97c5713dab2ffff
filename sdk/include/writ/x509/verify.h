// Certificate path validation at an explicit time.
#ifndef WRIT_X509_VERIFY_H_
#define WRIT_X509_VERIFY_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ {

// VerifyCertificate checks that `leaf` chains, through any of
// `intermediates`, to one of the self-signed `roots`, with every certificate
// valid at time `at` (never the wall clock). It uses OpenSSL's path
// validation in X.509 strict mode; it checks signatures, validity periods,
// basicConstraints, path lengths and key usage of the CAs, but no purpose
// (EKU), name or policy of the leaf: callers check those themselves. Strict
// mode also rejects, for example, a non-root certificate without an
// authorityKeyIdentifier or a CA without a subjectKeyIdentifier.
//
// OpenSSL treats notAfter as exclusive: a certificate verifies for
// notBefore <= at < notAfter, one second less than RFC 5280's inclusive
// validity. `at` is truncated to whole seconds.
//
// Returns OK on success; kUnauthenticated naming the failing certificate and
// OpenSSL's reason ("certificate has expired", "unable to get local issuer
// certificate", ...) when the path does not validate; kInvalidArgument for a
// null certificate, no roots, or an infinite `at`. Does not take ownership of
// any argument. Thread-safe.
absl::Status VerifyCertificate(const X509* leaf, absl::Span<const X509* const> intermediates,
                               absl::Span<const X509* const> roots, absl::Time at);

// VerifyCertificate without intermediates: `leaf` is issued by a root.
inline absl::Status VerifyCertificate(const X509* leaf, absl::Span<const X509* const> roots,
                                      absl::Time at) {
  return VerifyCertificate(leaf, {}, roots, at);
}

}  // namespace writ

#endif  // WRIT_X509_VERIFY_H_

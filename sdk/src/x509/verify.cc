#include "writ/x509/verify.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "writ/crypto/openssl_error.h"
#include "writ/x509/certificate.h"

namespace writ {
namespace {

// Frees the stack only: the certificates in it belong to the caller.
struct CertStackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
};

std::string DescribeDepth(int depth) {
  if (depth == 0) return "leaf certificate";
  return absl::StrCat("certificate at depth ", depth);
}

}  // namespace

absl::Status VerifyCertificate(const X509* leaf, absl::Span<const X509* const> intermediates,
                               absl::Span<const X509* const> roots, absl::Time at) {
  if (leaf == nullptr) return absl::InvalidArgumentError("no certificate to verify");
  if (roots.empty()) return absl::InvalidArgumentError("no trusted root certificates given");
  if (at == absl::InfinitePast() || at == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("verification time is not finite");
  }
  // OpenSSL's store and context take non-const certificates only to count
  // references; nothing here modifies them.
  SslPtr<X509_STORE> store(X509_STORE_new());
  std::unique_ptr<STACK_OF(X509), CertStackDeleter> untrusted(sk_X509_new_null());
  SslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (store == nullptr || untrusted == nullptr || ctx == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "allocating the certificate store");
  }
  for (const X509* root : roots) {
    if (root == nullptr) return absl::InvalidArgumentError("null root certificate");
    if (X509_STORE_add_cert(store.get(), const_cast<X509*>(root)) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "adding a root certificate");
    }
  }
  for (const X509* cert : intermediates) {
    if (cert == nullptr) return absl::InvalidArgumentError("null intermediate certificate");
    if (sk_X509_push(untrusted.get(), const_cast<X509*>(cert)) <= 0) {
      return OpenSslError(absl::StatusCode::kInternal, "adding an intermediate certificate");
    }
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), const_cast<X509*>(leaf), untrusted.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "initialising certificate verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(at));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);

  const int ok = X509_verify_cert(ctx.get());
  if (ok == 1) return absl::OkStatus();
  if (ok < 0) return OpenSslError(absl::StatusCode::kInternal, "certificate verification failed");
  const int err = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  const X509* failing = X509_STORE_CTX_get_current_cert(ctx.get());
  ClearOpenSslErrors();
  std::string subject = CertificateSubject(failing);
  if (subject.empty()) subject = "empty subject";
  return absl::UnauthenticatedError(
      absl::StrCat(DescribeDepth(depth), " (", subject, ") does not verify at ",
                   absl::FormatTime(absl::RFC3339_sec, at, absl::UTCTimeZone()), ": ",
                   X509_verify_cert_error_string(err)));
}

}  // namespace writ

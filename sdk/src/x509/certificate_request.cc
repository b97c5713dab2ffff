#include "writ/x509/certificate_request.h"

#include "absl/strings/str_cat.h"
#include "sdk/src/x509/x509_util.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/openssl_error.h"

namespace writ {
namespace {

using x509_internal::ExtensionStackPtr;

// CountExtensionRequests returns how many extensionRequest attributes (PKCS #9
// or Microsoft's older OID) `req` carries.
int CountExtensionRequests(const X509_REQ* req) {
  int count = 0;
  for (int nid : {NID_ext_req, NID_ms_ext_req}) {
    for (int i = -1; (i = X509_REQ_get_attr_by_NID(req, nid, i)) >= 0;) ++count;
  }
  return count;
}

// RequestedSans decodes the subjectAltName inside the CSR's extension
// request, if any.
absl::StatusOr<x509_internal::SubjectAltNames> RequestedSans(X509_REQ* req) {
  const int requests = CountExtensionRequests(req);
  if (requests == 0) return x509_internal::SubjectAltNames();
  if (requests > 1) {
    return absl::InvalidArgumentError("CSR has more than one extensionRequest attribute");
  }
  ExtensionStackPtr exts(X509_REQ_get_extensions(req));
  if (exts == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "CSR extensionRequest attribute is malformed");
  }
  int crit = -1;
  SslPtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509V3_get_d2i(exts.get(), NID_subject_alt_name, &crit, nullptr)));
  if (crit == -2) {
    return absl::InvalidArgumentError("CSR requests more than one subjectAltName extension");
  }
  if (names == nullptr && crit >= 0) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "CSR's requested subjectAltName extension is malformed");
  }
  ClearOpenSslErrors();
  absl::StatusOr<x509_internal::SubjectAltNames> sans = x509_internal::CollectSans(names.get());
  if (!sans.ok()) return absl::InvalidArgumentError(absl::StrCat("CSR ", sans.status().message()));
  return sans;
}

}  // namespace

absl::StatusOr<CertificateRequest> CertificateRequest::ParseDer(absl::string_view der) {
  if (der.empty()) return absl::InvalidArgumentError("CSR is empty");
  if (der.size() > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR is ", der.size(), " bytes; the limit is ", kMaxBytes));
  }
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = begin;
  SslPtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (req == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "not a DER-encoded PKCS #10 certificate request");
  }
  const size_t consumed = static_cast<size_t>(p - begin);
  if (consumed != der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR is followed by ", der.size() - consumed, " trailing bytes"));
  }
  if (X509_REQ_get_version(req.get()) != X509_REQ_VERSION_1) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR has version ", X509_REQ_get_version(req.get()) + 1,
                     "; PKCS #10 defines only version 1 (encoded as 0)"));
  }

  CertificateRequest csr;
  csr.public_key_ = X509_REQ_get0_pubkey(req.get());
  if (csr.public_key_ == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "CSR public key is malformed or of a type OpenSSL does not support");
  }
  const X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  csr.subject_ = x509_internal::NameToString(subject);
  ASSIGN_OR_RETURN(csr.common_name_, x509_internal::CommonName(subject));
  ASSIGN_OR_RETURN(x509_internal::SubjectAltNames sans, RequestedSans(req.get()));
  csr.uri_sans_ = std::move(sans.uris);
  csr.dns_sans_ = std::move(sans.dns_names);
  csr.requests_other_sans_ = sans.has_other_names;
  csr.der_ = std::string(der);
  csr.req_ = std::move(req);
  return csr;
}

absl::StatusOr<CertificateRequest> CertificateRequest::ParsePem(absl::string_view pem) {
  if (pem.size() > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("CSR PEM is ", pem.size(), " bytes; the limit is ", kMaxBytes));
  }
  ASSIGN_OR_RETURN(
      std::vector<std::string> blocks,
      x509_internal::ReadPemBlocks(pem, {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}, "CSR"));
  if (blocks.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected one PEM CSR, found ", blocks.size(), " PEM blocks"));
  }
  return ParseDer(blocks.front());
}

absl::StatusOr<std::string> CertificateRequest::CreateDer(const EVP_PKEY* key,
                                                          const CertificateRequestTemplate& tmpl) {
  if (key == nullptr) return absl::InvalidArgumentError("no key given for the CSR");
  // Set up signing first: it rejects unsupported and public-only keys.
  ASSIGN_OR_RETURN(SslPtr<EVP_MD_CTX> sign_ctx, x509_internal::NewSigningContext(key));

  SslPtr<X509_REQ> req(X509_REQ_new());
  if (req == nullptr || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "allocating a CSR");
  }
  if (!tmpl.common_name.empty() &&
      X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req.get()), NID_commonName,
                                 MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(tmpl.common_name.data()),
                                 static_cast<int>(tmpl.common_name.size()), -1, 0) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "CSR common name must be UTF-8 of at most 64 characters");
  }
  // OpenSSL takes a non-const key only to count a reference to it.
  if (X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(key)) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "setting the CSR public key");
  }
  if (!tmpl.uri_sans.empty() || !tmpl.dns_sans.empty()) {
    ASSIGN_OR_RETURN(SslPtr<GENERAL_NAMES> names,
                     x509_internal::BuildSans(tmpl.uri_sans, tmpl.dns_sans));
    // RFC 5280 section 4.2.1.6: with an empty subject the SAN is critical.
    SslPtr<X509_EXTENSION> ext(
        X509V3_EXT_i2d(NID_subject_alt_name, tmpl.common_name.empty() ? 1 : 0, names.get()));
    ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
    if (ext == nullptr || exts == nullptr || sk_X509_EXTENSION_push(exts.get(), ext.get()) <= 0) {
      return OpenSslError(absl::StatusCode::kInternal, "encoding the CSR subjectAltName");
    }
    ext.release();  // Now owned by `exts`.
    if (X509_REQ_add_extensions(req.get(), exts.get()) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "adding the CSR extension request");
    }
  }
  if (X509_REQ_sign_ctx(req.get(), sign_ctx.get()) <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "signing the CSR");
  }
  return x509_internal::EncodeDer<X509_REQ>(i2d_X509_REQ, req.get());
}

absl::StatusOr<std::string> CertificateRequest::CreatePem(const EVP_PKEY* key,
                                                          const CertificateRequestTemplate& tmpl) {
  ASSIGN_OR_RETURN(std::string der, CreateDer(key, tmpl));
  return x509_internal::DerToPem("CERTIFICATE REQUEST", der);
}

absl::Status CertificateRequest::VerifySignature() const {
  // X509_REQ_verify only reads both objects; its parameters predate const.
  const int ok =
      X509_REQ_verify(const_cast<X509_REQ*>(req_.get()), const_cast<EVP_PKEY*>(public_key_));
  if (ok != 1) {
    return OpenSslError(absl::StatusCode::kUnauthenticated,
                        "CSR signature does not verify with the CSR's own public key, so it "
                        "proves no possession of the private key");
  }
  return absl::OkStatus();
}

}  // namespace writ

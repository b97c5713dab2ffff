// PKCS #10 certificate signing requests (RFC 2986): parsing untrusted CSRs,
// checking their proof of possession, and creating CSRs for workloads.
#ifndef WRIT_X509_CERTIFICATE_REQUEST_H_
#define WRIT_X509_CERTIFICATE_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ {

// CertificateRequestTemplate describes a CSR to create.
struct CertificateRequestTemplate {
  // Subject common name; empty means an empty subject, as SPIFFE SVIDs use.
  // Default: ""
  std::string common_name;
  // URI SANs requested through a PKCS #9 extensionRequest, in order, e.g. one
  // "spiffe://..." ID. Default: none
  std::vector<std::string> uri_sans;
  // DNS SANs requested the same way. Default: none
  std::vector<std::string> dns_sans;
};

// CertificateRequest is a parsed PKCS #10 CSR. Parsing checks structure only:
// call VerifySignature before trusting that the requester holds the private
// key. Move-only. Const methods may be called from several threads at once.
class CertificateRequest {
 public:
  // kMaxBytes bounds the DER (and PEM) input the parsers accept.
  static constexpr size_t kMaxBytes = 64 * 1024;

  // ParseDer parses one DER-encoded CSR. It returns kInvalidArgument if `der`
  // is empty, over kMaxBytes, not a CSR, followed by trailing bytes, has a
  // public key OpenSSL cannot decode, or has a malformed or duplicated
  // subjectAltName in its extension request. The signature is not checked.
  static absl::StatusOr<CertificateRequest> ParseDer(absl::string_view der);

  // ParsePem parses exactly one PEM CSR ("CERTIFICATE REQUEST", or the older
  // "NEW CERTIFICATE REQUEST"), then as ParseDer. Text around the block is
  // ignored; a second block is kInvalidArgument.
  static absl::StatusOr<CertificateRequest> ParsePem(absl::string_view pem);

  // CreateDer returns a DER CSR for the public half of `key`, signed with
  // `key` (a private key: EC P-256/P-384/P-521 with SHA-256/384/512, Ed25519,
  // or RSA >= 2048 bits with SHA-256). kInvalidArgument for another kind of
  // key, a public-only key, or a SAN or common name that cannot be encoded.
  // Does not take ownership of `key`.
  static absl::StatusOr<std::string> CreateDer(const EVP_PKEY* key,
                                               const CertificateRequestTemplate& tmpl);

  // CreatePem is CreateDer wrapped in a "CERTIFICATE REQUEST" PEM block.
  static absl::StatusOr<std::string> CreatePem(const EVP_PKEY* key,
                                               const CertificateRequestTemplate& tmpl);

  CertificateRequest(CertificateRequest&&) = default;
  CertificateRequest& operator=(CertificateRequest&&) = default;

  // VerifySignature checks the CSR's self-signature with its own public key,
  // which proves the requester holds the private key. Returns
  // kUnauthenticated, with OpenSSL's reason, when the signature does not
  // verify or uses an algorithm OpenSSL cannot check.
  absl::Status VerifySignature() const;

  // public_key returns the requested public key. Never null; owned by this
  // object and valid while it lives.
  const EVP_PKEY* public_key() const { return public_key_; }

  // subject returns the subject name in RFC 2253 form ("CN=a,O=b"), or ""
  // for an empty subject.
  const std::string& subject() const { return subject_; }

  // common_name returns the subject's (last) common name, or "" if none.
  const std::string& common_name() const { return common_name_; }

  // uri_sans and dns_sans return the names requested in the extension
  // request's subjectAltName, in order; empty if none. Each is printable
  // ASCII without spaces.
  const std::vector<std::string>& uri_sans() const { return uri_sans_; }
  const std::vector<std::string>& dns_sans() const { return dns_sans_; }

  // requests_other_sans is true if the subjectAltName also asks for names of
  // another kind (email, IP address, otherName, ...). An issuer that grants
  // only URI/DNS names should refuse such a request rather than ignore it.
  bool requests_other_sans() const { return requests_other_sans_; }

  // der returns the CSR exactly as parsed or created.
  const std::string& der() const { return der_; }

  // get returns the underlying OpenSSL object, owned by this object.
  const X509_REQ* get() const { return req_.get(); }

 private:
  CertificateRequest() = default;

  SslPtr<X509_REQ> req_;
  const EVP_PKEY* public_key_ = nullptr;  // Owned by req_.
  std::string der_;
  std::string subject_;
  std::string common_name_;
  std::vector<std::string> uri_sans_;
  std::vector<std::string> dns_sans_;
  bool requests_other_sans_ = false;
};

}  // namespace writ

#endif  // WRIT_X509_CERTIFICATE_REQUEST_H_

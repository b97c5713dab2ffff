#include "writ/x509/certificate.h"

#include <openssl/rand.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "sdk/src/x509/x509_util.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/openssl_error.h"

namespace writ {
namespace {

struct AuthorityKeyIdDeleter {
  void operator()(AUTHORITY_KEYID* p) const { AUTHORITY_KEYID_free(p); }
};

// RFC 5280 section 4.1.2.2: serials are positive and at most 20 octets, so a
// serial has at most 159 significant bits (the DER sign bit must be zero).
constexpr int kMaxSerialBits = 159;

// Sha1 returns SHA-1, fetched once per process (DESIGN.md: fetch algorithms
// once). SHA-1 only names keys here (RFC 5280 key identifiers); it signs
// nothing.
const EVP_MD* Sha1() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  return md;
}

absl::StatusOr<std::string> KeyIdentifier(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (Sha1() == nullptr || X509_pubkey_digest(cert, Sha1(), md, &len) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "computing a key identifier");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

absl::StatusOr<SslPtr<ASN1_STRING>> SerialToAsn1(absl::string_view serial) {
  if (serial.empty()) {
    return absl::InvalidArgumentError("certificate serial is not set; use RandomSerial()");
  }
  SslPtr<BIGNUM> bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                              static_cast<int>(serial.size()), nullptr));
  if (bn == nullptr) return OpenSslError(absl::StatusCode::kInternal, "decoding serial");
  if (BN_is_zero(bn.get())) return absl::InvalidArgumentError("certificate serial is zero");
  if (BN_num_bits(bn.get()) > kMaxSerialBits) {
    return absl::InvalidArgumentError(absl::StrCat("certificate serial has ", BN_num_bits(bn.get()),
                                                   " bits; RFC 5280 allows at most ",
                                                   kMaxSerialBits, " (20 DER bytes)"));
  }
  SslPtr<ASN1_STRING> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (out == nullptr) return OpenSslError(absl::StatusCode::kInternal, "encoding serial");
  return out;
}

absl::StatusOr<x509_internal::SubjectAltNames> SansOf(const X509* cert) {
  if (cert == nullptr) return absl::InvalidArgumentError("no certificate given");
  int crit = -1;
  SslPtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, nullptr)));
  if (crit == -2) {
    return absl::InvalidArgumentError("certificate has more than one subjectAltName extension");
  }
  if (names == nullptr && crit >= 0) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "certificate subjectAltName extension is malformed");
  }
  ClearOpenSslErrors();
  return x509_internal::CollectSans(names.get());
}

// CheckTemplate validates what can be checked without keys.
absl::Status CheckTemplate(const CertificateTemplate& tmpl) {
  if (tmpl.path_length.has_value() && !tmpl.is_ca) {
    return absl::InvalidArgumentError("path_length is set but is_ca is false");
  }
  if (tmpl.path_length.has_value() && *tmpl.path_length < 0) {
    return absl::InvalidArgumentError("path_length is negative");
  }
  if (tmpl.key_usage.key_cert_sign && !tmpl.is_ca) {
    // RFC 5280 section 4.2.1.3.
    return absl::InvalidArgumentError("key usage keyCertSign requires is_ca");
  }
  return absl::OkStatus();
}

// CheckIssuer enforces what a certificate signed by `issuer` must respect.
absl::Status CheckIssuer(const CertificateTemplate& tmpl, const X509* issuer_cert,
                         const EVP_PKEY* issuer_key) {
  // These OpenSSL getters fill a lock-protected extension cache; they are
  // non-const for that reason only.
  X509* issuer = const_cast<X509*>(issuer_cert);
  if (X509_check_ca(issuer) != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("issuer certificate ", CertificateSubject(issuer_cert),
                     " is not a CA: it needs a basicConstraints extension with cA=TRUE"));
  }
  if ((X509_get_key_usage(issuer) & KU_KEY_CERT_SIGN) == 0) {
    return absl::FailedPreconditionError("issuer certificate's key usage lacks keyCertSign");
  }
  if (tmpl.is_ca && X509_get_pathlen(issuer) == 0) {
    return absl::FailedPreconditionError(
        "issuer certificate has pathLenConstraint 0 and cannot issue CA certificates");
  }
  if (X509_check_private_key(issuer_cert, issuer_key) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("issuer_key does not match the issuer certificate's key");
  }
  ASSIGN_OR_RETURN(absl::Time issuer_not_after, CertificateNotAfter(issuer_cert));
  if (absl::FromTimeT(absl::ToTimeT(tmpl.not_after)) > issuer_not_after) {
    return absl::FailedPreconditionError(absl::StrCat(
        "not_after ", absl::FormatTime(tmpl.not_after, absl::UTCTimeZone()),
        " is after the issuer's notAfter ", absl::FormatTime(issuer_not_after, absl::UTCTimeZone()),
        "; a certificate never outlives its CA"));
  }
  return absl::OkStatus();
}

absl::Status AddExtension(X509* cert, int nid, void* value, bool critical, absl::string_view what) {
  if (X509_add1_ext_i2d(cert, nid, value, critical ? 1 : 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        absl::StrCat("adding the ", what, " extension"));
  }
  return absl::OkStatus();
}

// AddExtensions builds each extension from its OpenSSL structure directly:
// no configuration-string parsing.
absl::Status AddExtensions(const CertificateTemplate& tmpl, X509* cert, const X509* issuer_cert) {
  SslPtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  if (bc == nullptr) return OpenSslError(absl::StatusCode::kInternal, "allocating extensions");
  bc->ca = tmpl.is_ca ? 0xff : 0;  // DER TRUE is 0xff; FALSE is left out.
  if (tmpl.path_length.has_value()) {
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, *tmpl.path_length) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "encoding pathLenConstraint");
    }
  }
  RETURN_IF_ERROR(AddExtension(cert, NID_basic_constraints, bc.get(), true, "basicConstraints"));

  const KeyUsage& ku = tmpl.key_usage;
  const bool bits[] = {ku.digital_signature, ku.content_commitment, ku.key_encipherment,
                       ku.data_encipherment, ku.key_agreement,      ku.key_cert_sign,
                       ku.crl_sign};
  if (std::find(std::begin(bits), std::end(bits), true) != std::end(bits)) {
    SslPtr<ASN1_STRING> usage(ASN1_BIT_STRING_new());
    if (usage == nullptr) return OpenSslError(absl::StatusCode::kInternal, "allocating keyUsage");
    for (int i = 0; i < static_cast<int>(std::size(bits)); ++i) {
      if (bits[i] && ASN1_BIT_STRING_set_bit(usage.get(), i, 1) != 1) {
        return OpenSslError(absl::StatusCode::kInternal, "encoding keyUsage");
      }
    }
    RETURN_IF_ERROR(
        AddExtension(cert, NID_key_usage, usage.get(), tmpl.key_usage_critical, "keyUsage"));
  }

  const ExtendedKeyUsage& eku = tmpl.extended_key_usage;
  if (eku.server_auth || eku.client_auth) {
    SslPtr<EXTENDED_KEY_USAGE> purposes(sk_ASN1_OBJECT_new_null());
    if (purposes == nullptr) return OpenSslError(absl::StatusCode::kInternal, "allocating EKU");
    // OBJ_nid2obj returns static objects; freeing the stack leaves them be.
    if ((eku.server_auth &&
         sk_ASN1_OBJECT_push(purposes.get(), OBJ_nid2obj(NID_server_auth)) <= 0) ||
        (eku.client_auth &&
         sk_ASN1_OBJECT_push(purposes.get(), OBJ_nid2obj(NID_client_auth)) <= 0)) {
      return OpenSslError(absl::StatusCode::kInternal, "encoding extKeyUsage");
    }
    RETURN_IF_ERROR(
        AddExtension(cert, NID_ext_key_usage, purposes.get(), false, "extendedKeyUsage"));
  }

  if (tmpl.subject_key_identifier) {
    ASSIGN_OR_RETURN(std::string id, KeyIdentifier(cert));
    SslPtr<ASN1_STRING> octets(ASN1_OCTET_STRING_new());
    if (octets == nullptr ||
        ASN1_OCTET_STRING_set(octets.get(), reinterpret_cast<const unsigned char*>(id.data()),
                              static_cast<int>(id.size())) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "encoding subjectKeyIdentifier");
    }
    RETURN_IF_ERROR(AddExtension(cert, NID_subject_key_identifier, octets.get(), false,
                                 "subjectKeyIdentifier"));
  }

  if (tmpl.authority_key_identifier) {
    std::string id;
    const ASN1_OCTET_STRING* issuer_id =
        issuer_cert == nullptr ? nullptr : X509_get0_subject_key_id(const_cast<X509*>(issuer_cert));
    if (issuer_id != nullptr) {
      id.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(issuer_id)),
                static_cast<size_t>(ASN1_STRING_length(issuer_id)));
    } else {
      // Self-signed, or an issuer without a subjectKeyIdentifier: derive the
      // identifier from its key the same way we derive our own.
      ASSIGN_OR_RETURN(id, KeyIdentifier(issuer_cert == nullptr ? cert : issuer_cert));
    }
    std::unique_ptr<AUTHORITY_KEYID, AuthorityKeyIdDeleter> akid(AUTHORITY_KEYID_new());
    if (akid == nullptr || (akid->keyid = ASN1_OCTET_STRING_new()) == nullptr ||
        ASN1_OCTET_STRING_set(akid->keyid, reinterpret_cast<const unsigned char*>(id.data()),
                              static_cast<int>(id.size())) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "encoding authorityKeyIdentifier");
    }
    RETURN_IF_ERROR(AddExtension(cert, NID_authority_key_identifier, akid.get(), false,
                                 "authorityKeyIdentifier"));
  }

  if (!tmpl.uri_sans.empty() || !tmpl.dns_sans.empty()) {
    ASSIGN_OR_RETURN(SslPtr<GENERAL_NAMES> names,
                     x509_internal::BuildSans(tmpl.uri_sans, tmpl.dns_sans));
    // RFC 5280 section 4.2.1.6: with an empty subject the SAN is critical.
    RETURN_IF_ERROR(AddExtension(cert, NID_subject_alt_name, names.get(),
                                 tmpl.subject_common_name.empty(), "subjectAltName"));
  }

  for (const CertificateTemplate::RawExtension& raw : tmpl.extra_extensions) {
    if (raw.oid == nullptr || X509_get_ext_by_OBJ(cert, raw.oid, -1) >= 0) {
      return absl::InvalidArgumentError("an extra extension has no OID or repeats an extension");
    }
    SslPtr<ASN1_STRING> value(ASN1_OCTET_STRING_new());
    if (value == nullptr ||
        ASN1_OCTET_STRING_set(value.get(),
                              reinterpret_cast<const unsigned char*>(raw.der_value.data()),
                              static_cast<int>(raw.der_value.size())) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "encoding an extra extension");
    }
    SslPtr<X509_EXTENSION> ext(
        X509_EXTENSION_create_by_OBJ(nullptr, raw.oid, raw.critical ? 1 : 0, value.get()));
    if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "adding an extra extension");
    }
  }
  return absl::OkStatus();
}

// CopySpki copies the algorithm, its parameters and the key bits of `from`
// into `to` (X509_PUBKEY_set0_param takes ownership of the copies).
absl::Status CopySpki(const X509_PUBKEY* from, X509_PUBKEY* to) {
  ASN1_OBJECT* alg = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* algor = nullptr;
  if (to == nullptr || X509_PUBKEY_get0_param(&alg, &bits, &bits_len, &algor, from) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "reading the subject public key info");
  }
  const ASN1_OBJECT* alg_oid = nullptr;
  int param_type = V_ASN1_UNDEF;
  const void* param = nullptr;
  X509_ALGOR_get0(&alg_oid, &param_type, &param, algor);
  void* param_copy = nullptr;
  if (param_type == V_ASN1_OBJECT) {
    param_copy = OBJ_dup(static_cast<const ASN1_OBJECT*>(param));
  } else if (param_type == V_ASN1_SEQUENCE) {
    param_copy = ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param));
  } else if (param_type != V_ASN1_UNDEF && param_type != V_ASN1_NULL) {
    return absl::InvalidArgumentError("unsupported public key algorithm parameters");
  }
  SslPtr<ASN1_OBJECT> alg_copy(OBJ_dup(alg_oid));
  auto* bits_copy = static_cast<unsigned char*>(OPENSSL_memdup(bits, bits_len));
  const bool copied =
      alg_copy != nullptr && bits_copy != nullptr &&
      (param_copy != nullptr || param_type == V_ASN1_UNDEF || param_type == V_ASN1_NULL);
  if (!copied || X509_PUBKEY_set0_param(to, alg_copy.get(), param_type, param_copy, bits_copy,
                                        bits_len) != 1) {
    OPENSSL_free(bits_copy);
    if (param_type == V_ASN1_OBJECT) ASN1_OBJECT_free(static_cast<ASN1_OBJECT*>(param_copy));
    if (param_type == V_ASN1_SEQUENCE) ASN1_STRING_free(static_cast<ASN1_STRING*>(param_copy));
    return OpenSslError(absl::StatusCode::kInternal, "copying the subject public key info");
  }
  alg_copy.release();  // owned by `to` now
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SslPtr<X509>> ParseCertificateDer(absl::string_view der) {
  if (der.empty()) return absl::InvalidArgumentError("certificate is empty");
  if (der.size() > kMaxCertificateBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate is ", der.size(), " bytes; the limit is ", kMaxCertificateBytes));
  }
  const unsigned char* const begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = begin;
  SslPtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "not a DER-encoded X.509 certificate");
  }
  const size_t consumed = static_cast<size_t>(p - begin);
  if (consumed != der.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("certificate is followed by ", der.size() - consumed, " trailing bytes"));
  }
  return cert;
}

absl::StatusOr<SslPtr<X509>> ParseCertificatePem(absl::string_view pem) {
  if (pem.size() > kMaxCertificateBytes) {
    return absl::InvalidArgumentError(absl::StrCat("certificate PEM is ", pem.size(),
                                                   " bytes; the limit is ", kMaxCertificateBytes));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> blocks,
                   x509_internal::ReadPemBlocks(pem, {"CERTIFICATE"}, "certificate"));
  if (blocks.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected one PEM certificate, found ", blocks.size(), "; use ParseCertificateChainPem"));
  }
  return ParseCertificateDer(blocks.front());
}

absl::StatusOr<std::vector<SslPtr<X509>>> ParseCertificateChainPem(absl::string_view pem) {
  if (pem.size() > kMaxCertificateChainPemBytes) {
    return absl::InvalidArgumentError(absl::StrCat("certificate chain PEM is ", pem.size(),
                                                   " bytes; the limit is ",
                                                   kMaxCertificateChainPemBytes));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> blocks,
                   x509_internal::ReadPemBlocks(pem, {"CERTIFICATE"}, "certificate"));
  std::vector<SslPtr<X509>> chain;
  chain.reserve(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    absl::StatusOr<SslPtr<X509>> cert = ParseCertificateDer(blocks[i]);
    if (!cert.ok()) {
      return absl::Status(cert.status().code(),
                          absl::StrCat("certificate ", i + 1, " of ", blocks.size(), ": ",
                                       cert.status().message()));
    }
    chain.push_back(*std::move(cert));
  }
  return chain;
}

absl::StatusOr<std::string> CertificateToDer(const X509* cert) {
  if (cert == nullptr) return absl::InvalidArgumentError("no certificate given");
  return x509_internal::EncodeDer<X509>(i2d_X509, cert);
}

absl::StatusOr<std::string> CertificateToPem(const X509* cert) {
  ASSIGN_OR_RETURN(std::string der, CertificateToDer(cert));
  return x509_internal::DerToPem("CERTIFICATE", der);
}

absl::StatusOr<absl::Time> CertificateNotBefore(const X509* cert) {
  if (cert == nullptr) return absl::InvalidArgumentError("no certificate given");
  return x509_internal::FromAsn1Time(X509_get0_notBefore(cert));
}

absl::StatusOr<absl::Time> CertificateNotAfter(const X509* cert) {
  if (cert == nullptr) return absl::InvalidArgumentError("no certificate given");
  return x509_internal::FromAsn1Time(X509_get0_notAfter(cert));
}

std::string CertificateSubject(const X509* cert) {
  if (cert == nullptr) return "";
  return x509_internal::NameToString(X509_get_subject_name(cert));
}

absl::StatusOr<std::vector<std::string>> CertificateUriSans(const X509* cert) {
  ASSIGN_OR_RETURN(x509_internal::SubjectAltNames sans, SansOf(cert));
  return std::move(sans.uris);
}

absl::StatusOr<std::vector<std::string>> CertificateDnsSans(const X509* cert) {
  ASSIGN_OR_RETURN(x509_internal::SubjectAltNames sans, SansOf(cert));
  return std::move(sans.dns_names);
}

absl::StatusOr<std::string> RandomSerial() {
  std::string serial(16, '\0');
  unsigned char* bytes = reinterpret_cast<unsigned char*>(serial.data());
  if (RAND_bytes(bytes, static_cast<int>(serial.size())) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "random serial generation failed");
  }
  bytes[0] &= 0x7f;  // Positive, and 16 DER bytes with no sign padding.
  if (std::all_of(serial.begin(), serial.end(), [](char c) { return c == 0; })) bytes[15] = 1;
  return serial;
}

absl::StatusOr<SslPtr<X509>> IssueCertificate(const CertificateTemplate& tmpl,
                                              const EVP_PKEY* subject_public_key,
                                              const X509* issuer_cert, const EVP_PKEY* issuer_key) {
  if (subject_public_key == nullptr) return absl::InvalidArgumentError("no subject key given");
  if (issuer_key == nullptr) return absl::InvalidArgumentError("no issuer key given");
  RETURN_IF_ERROR(CheckTemplate(tmpl));
  ASSIGN_OR_RETURN(SslPtr<ASN1_STRING> serial, SerialToAsn1(tmpl.serial));
  ASSIGN_OR_RETURN(SslPtr<ASN1_TIME> not_before,
                   x509_internal::ToAsn1Time(tmpl.not_before, "not_before"));
  ASSIGN_OR_RETURN(SslPtr<ASN1_TIME> not_after,
                   x509_internal::ToAsn1Time(tmpl.not_after, "not_after"));
  if (absl::ToTimeT(tmpl.not_before) > absl::ToTimeT(tmpl.not_after)) {
    return absl::InvalidArgumentError("not_before is after not_after");
  }
  if (issuer_cert != nullptr) {
    RETURN_IF_ERROR(CheckIssuer(tmpl, issuer_cert, issuer_key));
  } else {
    if (tmpl.subject_common_name.empty()) {
      return absl::InvalidArgumentError(
          "a self-signed certificate needs a subject common name: it is also the issuer name, "
          "which must not be empty");
    }
    if (EVP_PKEY_eq(subject_public_key, issuer_key) != 1) {
      ClearOpenSslErrors();
      return absl::InvalidArgumentError(
          "self-signed: issuer_key must be the private half of subject_public_key");
    }
  }
  ASSIGN_OR_RETURN(SslPtr<EVP_MD_CTX> sign_ctx, x509_internal::NewSigningContext(issuer_key));

  SslPtr<X509> cert(X509_new());
  SslPtr<X509_NAME> subject(X509_NAME_new());
  if (cert == nullptr || subject == nullptr || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      X509_set_serialNumber(cert.get(), serial.get()) != 1 ||
      X509_set1_notBefore(cert.get(), not_before.get()) != 1 ||
      X509_set1_notAfter(cert.get(), not_after.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "building the certificate");
  }
  if (!tmpl.subject_common_name.empty() &&
      X509_NAME_add_entry_by_NID(
          subject.get(), NID_commonName, MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(tmpl.subject_common_name.data()),
          static_cast<int>(tmpl.subject_common_name.size()), -1, 0) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "subject common name must be UTF-8 of at most 64 characters");
  }
  const X509_NAME* issuer_name =
      issuer_cert != nullptr ? X509_get_subject_name(issuer_cert) : subject.get();
  if (X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer_name) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "setting the certificate names");
  }
  // X509_set_pubkey re-encodes the key through OpenSSL 3's encoders, the slow
  // step DESIGN.md measures; a given SPKI is copied field by field instead.
  if (tmpl.subject_public_key_info != nullptr) {
    RETURN_IF_ERROR(CopySpki(tmpl.subject_public_key_info, X509_get_X509_PUBKEY(cert.get())));
  } else if (X509_set_pubkey(cert.get(), const_cast<EVP_PKEY*>(subject_public_key)) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "setting the certificate key");
  }
  RETURN_IF_ERROR(AddExtensions(tmpl, cert.get(), issuer_cert));
  if (X509_sign_ctx(cert.get(), sign_ctx.get()) <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "signing the certificate");
  }
  return cert;
}

}  // namespace writ

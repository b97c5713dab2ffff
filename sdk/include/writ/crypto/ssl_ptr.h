// SslPtr<T>: unique ownership of OpenSSL objects. The only place in Writ that
// names the OpenSSL *_free functions.
#ifndef WRIT_CRYPTO_SSL_PTR_H_
#define WRIT_CRYPTO_SSL_PTR_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace writ {

template <typename T>
struct SslDeleter;

#define WRIT_SSL_DELETER(type, free_fn)            \
  template <>                                      \
  struct SslDeleter<type> {                        \
    void operator()(type* p) const { free_fn(p); } \
  }

WRIT_SSL_DELETER(EVP_PKEY, EVP_PKEY_free);
WRIT_SSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
WRIT_SSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
WRIT_SSL_DELETER(EVP_MD, EVP_MD_free);
WRIT_SSL_DELETER(BIO, BIO_free_all);
WRIT_SSL_DELETER(BIGNUM, BN_free);
WRIT_SSL_DELETER(BN_CTX, BN_CTX_free);
WRIT_SSL_DELETER(ECDSA_SIG, ECDSA_SIG_free);
WRIT_SSL_DELETER(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free);
WRIT_SSL_DELETER(OSSL_PARAM, OSSL_PARAM_free);
WRIT_SSL_DELETER(X509, X509_free);
WRIT_SSL_DELETER(X509_REQ, X509_REQ_free);
WRIT_SSL_DELETER(X509_NAME, X509_NAME_free);
WRIT_SSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
WRIT_SSL_DELETER(X509_STORE, X509_STORE_free);
WRIT_SSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
// ASN1_INTEGER, ASN1_TIME, ASN1_OCTET_STRING and ASN1_BIT_STRING are all
// ASN1_STRING in OpenSSL, so one deleter serves them.
WRIT_SSL_DELETER(ASN1_STRING, ASN1_STRING_free);
WRIT_SSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free);
WRIT_SSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);
WRIT_SSL_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free);
WRIT_SSL_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free);

#undef WRIT_SSL_DELETER

// SslPtr owns one OpenSSL object and frees it with the matching *_free.
template <typename T>
using SslPtr = std::unique_ptr<T, SslDeleter<T>>;

}  // namespace writ

#endif  // WRIT_CRYPTO_SSL_PTR_H_

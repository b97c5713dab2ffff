#include "issuer/src/http/tls_context.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "writ/crypto/keys.h"
#include "writ/crypto/openssl_error.h"

namespace writ::issuer::http {
namespace {

// Readable checks `file` first, so a missing file is reported in words
// rather than as an OpenSSL error stack.
absl::Status Readable(absl::string_view what, const std::string& file) {
  if (access(file.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", file, " cannot be read: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SslCtxPtr> NewServerTlsContext(absl::string_view cert_file,
                                              absl::string_view key_file) {
  const std::string cert(cert_file), key(key_file);
  if (absl::Status s = Readable("tls_cert_file", cert); !s.ok()) return s;
  if (absl::Status s = Readable("tls_key_file", key); !s.ok()) return s;
  ClearOpenSslErrors();
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return OpenSslError(absl::StatusCode::kInternal, "SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot require TLS 1.2");
  }
  SSL_CTX_set_options(
      ctx.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_SERVER);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert.c_str()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        absl::StrCat("tls_cert_file ", cert, " holds no usable PEM certificate"));
  }
  // The key is parsed here rather than by SSL_CTX_use_PrivateKey_file, which
  // reports a key that is not the certificate's as an unusable key.
  std::ifstream in(key, std::ios::binary);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto pkey = ParsePrivateKeyPem(pem);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!pkey.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_key_file ", key, " holds no usable PEM private key: ", pkey.status().message()));
  }
  const EVP_PKEY* cert_key = X509_get0_pubkey(SSL_CTX_get0_certificate(ctx.get()));
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, pkey->get()) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError(
        absl::StrCat("tls_key_file ", key, " is not the key of tls_cert_file ", cert));
  }
  if (SSL_CTX_use_PrivateKey(ctx.get(), pkey->get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return OpenSslError(
        absl::StatusCode::kInvalidArgument,
        absl::StrCat("tls_key_file ", key, " cannot be used with tls_cert_file ", cert));
  }
  return ctx;
}

}  // namespace writ::issuer::http

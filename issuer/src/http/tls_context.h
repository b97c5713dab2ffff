// Server-side TLS for HttpServer: the SSL_CTX built from the options' PEM
// files, and the per-connection SSL objects, each owned by a unique_ptr
// (writ/crypto/ssl_ptr.h covers libcrypto objects only; these are libssl's).
#ifndef WRIT_ISSUER_HTTP_TLS_CONTEXT_H_
#define WRIT_ISSUER_HTTP_TLS_CONTEXT_H_

#include <openssl/ssl.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ::issuer::http {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslConnPtr = std::unique_ptr<SSL, SslFree>;

// NewServerTlsContext loads the certificate chain (leaf first) from
// `cert_file` and its private key from `key_file`, both PEM, into a server
// context allowing TLS 1.2 and 1.3 only, without renegotiation, in the modes
// a non-blocking event loop needs (partial writes, moving write buffers,
// buffers released while a connection is idle). kInvalidArgument naming the
// file when a file is missing, unreadable, not PEM of the right kind, or the
// key is not the certificate's.
absl::StatusOr<SslCtxPtr> NewServerTlsContext(absl::string_view cert_file,
                                              absl::string_view key_file);

}  // namespace writ::issuer::http

#endif  // WRIT_ISSUER_HTTP_TLS_CONTEXT_H_

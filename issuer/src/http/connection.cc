#include "issuer/src/http/connection.h"

#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace writ::issuer::http {

Connection::Connection(uint64_t id, int fd, SslConnPtr ssl, std::string remote, ParseLimits limits)
    : id(id), fd(fd), remote(std::move(remote)), parser(limits), ssl_(std::move(ssl)) {}

Connection::~Connection() {
  if (ssl_ && SSL_is_init_finished(ssl_.get()) &&
      !(SSL_get_shutdown(ssl_.get()) & SSL_SENT_SHUTDOWN)) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // one non-blocking attempt: a courtesy only
    ERR_clear_error();
  }
  ssl_.reset();
  close(fd);
}

namespace {

// SslResult maps the outcome of an SSL_read_ex/SSL_write_ex that failed.
IoResult SslResult(SSL* ssl, int ret) {
  const int err = SSL_get_error(ssl, ret);
  ERR_clear_error();  // never let one connection's errors reach another's status
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return IoResult::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return IoResult::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return IoResult::kEof;
    default:
      return IoResult::kError;
  }
}

}  // namespace

IoResult Connection::Read(char* buf, size_t size, size_t* n) {
  if (ssl_) {
    ERR_clear_error();
    const int ret = SSL_read_ex(ssl_.get(), buf, size, n);
    return ret == 1 ? IoResult::kOk : SslResult(ssl_.get(), ret);
  }
  for (;;) {
    const ssize_t r = recv(fd, buf, size, 0);
    if (r > 0) {
      *n = static_cast<size_t>(r);
      return IoResult::kOk;
    }
    if (r == 0) return IoResult::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::kWantRead;
    return IoResult::kError;
  }
}

IoResult Connection::Write(const char* buf, size_t size, size_t* n) {
  if (ssl_) {
    // OpenSSL writes with write(2): SIGPIPE is blocked on the I/O threads.
    ERR_clear_error();
    const int ret = SSL_write_ex(ssl_.get(), buf, size, n);
    return ret == 1 ? IoResult::kOk : SslResult(ssl_.get(), ret);
  }
  for (;;) {
    const ssize_t r = send(fd, buf, size, MSG_NOSIGNAL);
    if (r >= 0) {
      *n = static_cast<size_t>(r);
      return IoResult::kOk;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::kWantWrite;
    return IoResult::kError;
  }
}

void Connection::ShutdownWrite() {
  if (ssl_ && SSL_is_init_finished(ssl_.get())) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  shutdown(fd, SHUT_WR);
}

}  // namespace writ::issuer::http

// HttpServer: Writ's HTTP/1.1 server. Event-driven: a few I/O threads own
// every connection through epoll, so an idle keep-alive connection costs no
// thread and a request costs no hand-off between threads unless its handler
// makes one. Handlers answer through a Responder, from any thread and at any
// time, so a handler can hand its work to a pool and the ledger's writer can
// send the answer once the record is durable.
//
//   HttpServerOptions options;               // 127.0.0.1, port 0
//   ASSIGN_OR_RETURN(auto server, HttpServer::Bind(options));
//   server->Handle("/healthz", [](HttpRequest req, Responder res) {
//     std::move(res).Send({200, {}, "ok\n", "text/plain"});
//   });
//   server->Start();
//   ... server->port() ...
//   server->Stop(absl::Seconds(10));
//
// What it enforces, before any handler runs (the connection is closed after
// every error answer):
// - request line and headers at most max_header_bytes: else 431;
// - a body only by Content-Length, at most max_body_bytes: else 413;
//   "Transfer-Encoding" is refused with 501, a Content-Length that is not
//   one decimal number (or two that differ) with 400 (no request smuggling);
// - HTTP/1.0 and HTTP/1.1 only (else 505); a malformed request line or
//   header, 400; "Expect: 100-continue" gets its interim 100 before the body;
// - a request that does not arrive whole within read_timeout, and a
//   keep-alive connection idle for idle_timeout, are closed; so is a
//   response the peer does not read within write_timeout;
// - at most max_connections at once: further connections are closed at once.
// Keep-alive per HTTP/1.1 (HTTP/1.0: only with "Connection: keep-alive");
// requests on one connection are answered in order, one at a time.
// Responses get Content-Length and, when closing, "Connection: close"; a
// HEAD response carries the headers without the body.
#ifndef WRIT_ISSUER_HTTP_HTTP_SERVER_H_
#define WRIT_ISSUER_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace writ::issuer::http {

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // as sent: path and query
  std::string path;    // target up to '?'
  std::string query;   // after '?', not decoded; empty when none
  // headers in order, names lowercased, values trimmed; repeats kept.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // the peer's IP, without the port
  size_t header_bytes = 0;     // request line + headers, as received

  // Header returns the first value of header `lowercase_name`, or null.
  const std::string* Header(absl::string_view lowercase_name) const;
};

struct HttpResponse {
  int status = 200;
  // Extra headers. The server adds Content-Length, Content-Type (when
  // content_type is set) and Connection; do not set those here.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;
};

// Responder sends the one response to one request. Move-only; Send may be
// called from any thread, once. Destroying a Responder that has not sent
// answers 500. After Stop()'s grace period, or once the peer has gone, Send
// does nothing.
class Responder {
 public:
  class Sink;  // the server's side; opaque
  Responder() = default;
  explicit Responder(std::shared_ptr<Sink> sink) : sink_(std::move(sink)) {}
  Responder(Responder&&) = default;
  Responder& operator=(Responder&&);
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void Send(HttpResponse response) &&;

 private:
  std::shared_ptr<Sink> sink_;
};

// Handler answers one request. It runs on an I/O thread: it must not block
// (hand blocking work to another thread and Send from there).
using Handler = absl::AnyInvocable<void(HttpRequest request, Responder responder)>;

struct HttpServerOptions {
  // host to listen on: an IPv4 or IPv6 literal, or "localhost". Default: 127.0.0.1.
  std::string host = "127.0.0.1";
  // port; 0 picks a free one (see port()). Default: 0.
  int port = 0;
  // TLS: both PEM files, or neither (plain HTTP). Default: neither.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Limits (see the top of this file). Defaults: 16 KiB, 64 KiB, 3 s, 2 s,
  // 10 s, 10000.
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
  absl::Duration read_timeout = absl::Seconds(3);
  absl::Duration idle_timeout = absl::Seconds(2);
  absl::Duration write_timeout = absl::Seconds(10);
  size_t max_connections = 10000;
  // io_threads owning connections. Default: 1.
  int io_threads = 1;
  // error_response renders the server's own refusals (400, 408, 413, 431,
  // 501, 505, 500 for a dropped Responder) given the request's path (empty
  // when the request line could not be read), the status, and a short reason
  // ("request body too large"). Its status is used as given. Default: null
  // (the reason as text/plain).
  std::function<HttpResponse(absl::string_view path, int status, absl::string_view reason)>
      error_response;
};

class HttpServer {
 public:
  // Bind checks the options, loads TLS, and binds and listens (no
  // SO_REUSEPORT: a second server cannot share the port). kInvalidArgument
  // for bad options or unusable TLS files (naming the file), kUnavailable
  // when the address cannot be bound (the message says which).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Bind(const HttpServerOptions& options);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Stops (see Stop) with no grace.
  ~HttpServer();

  int port() const;

  // Handle routes requests whose path is exactly `path` to `handler`, for
  // every method (the handler answers 405 itself). Paths with no handler
  // get 404. Call before Start.
  void Handle(std::string path, Handler handler);

  // Start starts the I/O threads. Call once.
  void Start();

  // Stop stops accepting, waits up to `grace` for requests already received
  // to be answered and written, then closes every connection and joins the
  // threads. Idempotent.
  void Stop(absl::Duration grace = absl::Seconds(10));

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace writ::issuer::http

#endif  // WRIT_ISSUER_HTTP_HTTP_SERVER_H_

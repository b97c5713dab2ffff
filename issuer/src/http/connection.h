// Connection: one accepted socket of HttpServer, its optional TLS session,
// its buffers and where it is in the request cycle. Owned and touched only by
// its I/O loop (io_loop.h), which drives the state machine:
//
//   kReading --request whole--> kHandling --response posted--> kWriting
//      ^                                                          |
//      +------------------ written, keep-alive -------------------+
//   any error answer, "Connection: close", Stop: written -> kLingering -> closed
#ifndef WRIT_ISSUER_HTTP_CONNECTION_H_
#define WRIT_ISSUER_HTTP_CONNECTION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "issuer/src/http/http_parser.h"
#include "issuer/src/http/tls_context.h"

namespace writ::issuer::http {

using SteadyTime = std::chrono::steady_clock::time_point;

// IoResult is how one read or write on a connection went.
enum class IoResult {
  kOk,         // some bytes moved
  kWantRead,   // would block until the socket is readable
  kWantWrite,  // would block until the socket is writable
  kEof,        // the peer closed (read) cleanly
  kError,      // the connection is broken
};

class Connection {
 public:
  enum class State { kReading, kHandling, kWriting, kLingering, kClosed };

  // Takes ownership of `fd` (and `ssl`, already bound to it, or null).
  Connection(uint64_t id, int fd, SslConnPtr ssl, std::string remote, ParseLimits limits);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Closes the socket (after a best-effort TLS close_notify).
  ~Connection();

  // Read reads up to `size` bytes into `buf`; `*n` is how many on kOk.
  IoResult Read(char* buf, size_t size, size_t* n);
  // Write writes up to `size` bytes of `buf`; `*n` is how many on kOk.
  IoResult Write(const char* buf, size_t size, size_t* n);
  // ShutdownWrite sends TLS close_notify (when TLS) and a FIN, keeping the
  // read side open so the peer's remaining bytes can be drained (lingering
  // close: closing with unread input would reset the connection and could
  // destroy the error answer before the peer reads it).
  void ShutdownWrite();

  const uint64_t id;
  const int fd;
  const std::string remote;

  State state = State::kReading;
  std::string in;   // received, not yet consumed
  std::string out;  // to send, from out_offset
  size_t out_offset = 0;
  RequestParser parser;
  SteadyTime deadline;       // when the current phase times out
  uint64_t seq = 0;          // requests handed to a handler so far
  bool can_read = false;     // edge-triggered: readable until a read would block
  bool can_write = true;     // edge-triggered: writable until a write would block
  bool peer_closed = false;  // the peer shut its side (EPOLLRDHUP/EPOLLHUP seen)
  bool head_parsed = false;
  bool continue_sent = false;
  bool close_after_write = false;
  size_t lingered_bytes = 0;

 private:
  SslConnPtr ssl_;
};

}  // namespace writ::issuer::http

#endif  // WRIT_ISSUER_HTTP_CONNECTION_H_

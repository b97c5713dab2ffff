// IoLoop: one I/O thread of HttpServer. It owns its connections through an
// edge-triggered epoll set (one registration per connection, no epoll_ctl
// per request), parses requests, runs handlers, writes the responses they
// post to its Mailbox, and enforces the timeouts with a periodic scan.
// Loop 0 also owns the listening socket and deals accepted connections out
// to every loop in turn. Internal to HttpServer.
#ifndef WRIT_ISSUER_HTTP_IO_LOOP_H_
#define WRIT_ISSUER_HTTP_IO_LOOP_H_

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "issuer/src/http/connection.h"
#include "issuer/src/http/http_server.h"
#include "issuer/src/http/mailbox.h"

namespace writ::issuer::http {

// ServerState is what every loop shares: fixed once Start runs, except the
// connection count.
struct ServerState {
  HttpServerOptions options;
  ParseLimits limits;
  SSL_CTX* tls = nullptr;  // null for plain HTTP; owned by the server
  absl::flat_hash_map<std::string, Handler> routes;
  std::atomic<size_t> connections{0};
};

class IoLoop {
 public:
  // New makes the epoll set and mailbox. `listen_fd` (owned from now on) is
  // the listening socket for loop 0, -1 for the others.
  static absl::StatusOr<std::unique_ptr<IoLoop>> New(ServerState* state, int listen_fd);
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;
  // Joins the thread if running; closes everything still open.
  ~IoLoop();

  // Start runs the loop on a new thread; accepted connections go to `loops`
  // in turn (which must outlive this loop's thread).
  void Start(std::vector<IoLoop*> loops);
  // RequestStop makes the loop stop accepting, close idle and half-received
  // connections, and exit once the rest are answered or at `deadline`.
  // Thread-safe.
  void RequestStop(SteadyTime deadline);
  // Join waits for the thread to exit.
  void Join();

 private:
  IoLoop(ServerState* state, int epoll_fd, int listen_fd, std::shared_ptr<Mailbox> mailbox);

  void Run();
  void Accept();
  void Adopt(int fd, std::string remote);
  void DrainMailbox();
  void OnResponse(LoopMessage& message);
  void BeginStop();
  void Drive(Connection& c);
  void ReadAndProcess(Connection& c);
  void Process(Connection& c);
  void Dispatch(Connection& c);
  void Flush(Connection& c);
  // RespondAndClose answers a refusal (see HttpServerOptions::error_response;
  // `path` is empty when unknown) and closes after writing it.
  void RespondAndClose(Connection& c, int status, absl::string_view reason,
                       absl::string_view path = "");
  void StartLinger(Connection& c);
  void Linger(Connection& c);
  void Close(Connection& c);
  void Scan();
  int WaitMillis() const;

  ServerState* const state_;
  const int epoll_fd_;
  int listen_fd_;
  std::shared_ptr<Mailbox> mailbox_;
  std::vector<IoLoop*> loops_;
  size_t next_loop_ = 0;
  std::thread thread_;

  absl::flat_hash_map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> closed_;  // freed after each batch
  uint64_t next_id_ = 2;                             // 0: the listener, 1: the mailbox
  SteadyTime now_;
  SteadyTime next_scan_;
  std::chrono::milliseconds scan_interval_;
  SteadyTime accept_paused_until_;  // out of fds: accepting resumes then
  bool accept_paused_ = false;
  bool stopping_ = false;
  std::atomic<int64_t> stop_deadline_ns_{0};
  SteadyTime stop_deadline_;
  char scratch_[16 * 1024];
};

}  // namespace writ::issuer::http

#endif  // WRIT_ISSUER_HTTP_IO_LOOP_H_

// Mailbox: how other threads reach an I/O loop. A mutex-protected queue and
// an eventfd that wakes the loop's epoll_wait; Responder::Sink posts a
// serialized response through it, and the acceptor hands a new connection
// to another loop through it. Internal to HttpServer.
#ifndef WRIT_ISSUER_HTTP_MAILBOX_H_
#define WRIT_ISSUER_HTTP_MAILBOX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "issuer/src/http/http_server.h"

namespace writ::issuer::http {

// LoopMessage is one thing for a loop to do.
struct LoopMessage {
  enum class Kind { kAdopt, kResponse, kStop };
  Kind kind = Kind::kResponse;
  uint64_t conn_id = 0;  // kResponse: the connection answered
  uint64_t seq = 0;      // kResponse: which of its requests
  int fd = -1;           // kAdopt: an accepted socket, owned by the message
  std::string data;      // kResponse: the serialized response; kAdopt: peer IP
  bool close = false;    // kResponse: close the connection once it is written
};

// Mailbox is owned by its loop (shared_ptr); Sinks hold a weak_ptr, so a
// response sent after the server is gone finds no mailbox, or a closed one,
// and is dropped. Thread-safe.
class Mailbox {
 public:
  // New makes the eventfd; kInternal when the kernel refuses one.
  static absl::StatusOr<std::shared_ptr<Mailbox>> New();
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;
  // Closes the eventfd and the sockets of messages never taken.
  ~Mailbox();

  // Post queues `message` and wakes the loop, unless posting from the loop's
  // own thread (it drains its mailbox after every handler). Returns false,
  // closing an kAdopt socket, once Close has been called.
  bool Post(LoopMessage message);

  // TakeAll returns the queued messages (loop thread only).
  std::vector<LoopMessage> TakeAll();
  // ClearWakeup reads the eventfd after it polled readable (loop thread).
  void ClearWakeup();
  // Close drops queued messages and refuses further ones.
  void Close();
  // BindToThisThread marks the calling thread as the loop's.
  void BindToThisThread();

  int event_fd() const { return event_fd_; }
  // stopping: the server is stopping, so responses should close their
  // connection. Set by the loop.
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  void set_stopping() { stopping_.store(true, std::memory_order_relaxed); }

 private:
  explicit Mailbox(int event_fd) : event_fd_(event_fd) {}

  const int event_fd_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  std::vector<LoopMessage> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace writ::issuer::http

namespace writ::issuer::http {

// Responder::Sink answers one request: serializes the response on the
// sending thread and posts it to the connection's loop.
class Responder::Sink {
 public:
  Sink(std::weak_ptr<Mailbox> mailbox, uint64_t conn_id, uint64_t seq, bool head_request,
       bool keep_alive)
      : mailbox_(std::move(mailbox)),
        conn_id_(conn_id),
        seq_(seq),
        head_request_(head_request),
        keep_alive_(keep_alive) {}

  void Send(const HttpResponse& response);

 private:
  const std::weak_ptr<Mailbox> mailbox_;
  const uint64_t conn_id_;
  const uint64_t seq_;
  const bool head_request_;
  const bool keep_alive_;
};

}  // namespace writ::issuer::http

#endif  // WRIT_ISSUER_HTTP_MAILBOX_H_

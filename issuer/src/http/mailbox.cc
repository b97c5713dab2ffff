#include "issuer/src/http/mailbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "issuer/src/http/http_parser.h"

namespace writ::issuer::http {
namespace {

// The mailbox of the loop running on this thread, if any.
thread_local const Mailbox* current_loop_mailbox = nullptr;

}  // namespace

absl::StatusOr<std::shared_ptr<Mailbox>> Mailbox::New() {
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  return std::shared_ptr<Mailbox>(new Mailbox(fd));
}

Mailbox::~Mailbox() {
  Close();
  close(event_fd_);
}

bool Mailbox::Post(LoopMessage message) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (closed_) {
      if (message.fd >= 0) close(message.fd);
      return false;
    }
    queue_.push_back(std::move(message));
    if (!wake_pending_ && current_loop_mailbox != this) wake = wake_pending_ = true;
  }
  if (wake) {
    const uint64_t one = 1;
    // Fails only when the counter is about to overflow: the loop is awake anyway.
    while (write(event_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
  }
  return true;
}

std::vector<LoopMessage> Mailbox::TakeAll() {
  std::vector<LoopMessage> out;
  absl::MutexLock lock(&mu_);
  out.swap(queue_);
  wake_pending_ = false;
  return out;
}

void Mailbox::ClearWakeup() {
  uint64_t count;
  while (read(event_fd_, &count, sizeof(count)) < 0 && errno == EINTR) {
  }
}

void Mailbox::Close() {
  std::vector<LoopMessage> dropped;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    dropped.swap(queue_);
  }
  for (LoopMessage& m : dropped) {
    if (m.fd >= 0) close(m.fd);
  }
}

void Mailbox::BindToThisThread() { current_loop_mailbox = this; }

void Responder::Sink::Send(const HttpResponse& response) {
  std::shared_ptr<Mailbox> mailbox = mailbox_.lock();
  if (!mailbox) return;  // the server is gone
  const bool close = !keep_alive_ || mailbox->stopping();
  LoopMessage message;
  message.kind = LoopMessage::Kind::kResponse;
  message.conn_id = conn_id_;
  message.seq = seq_;
  message.data = SerializeResponse(response, head_request_, close);
  message.close = close;
  mailbox->Post(std::move(message));
}

Responder& Responder::operator=(Responder&& other) {
  if (this != &other) {
    if (sink_) std::move(*this).Send(ErrorResponse(500, "the handler did not answer"));
    sink_ = std::move(other.sink_);
  }
  return *this;
}

Responder::~Responder() {
  if (sink_) std::move(*this).Send(ErrorResponse(500, "the handler did not answer"));
}

void Responder::Send(HttpResponse response) && {
  std::shared_ptr<Sink> sink = std::move(sink_);
  sink_ = nullptr;
  if (sink) sink->Send(response);
}

}  // namespace writ::issuer::http

#include "issuer/src/http/io_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace writ::issuer::http {
namespace {

constexpr uint64_t kListenerId = 0;
constexpr uint64_t kMailboxId = 1;
// A connection closing after an error drains what the peer still sends for
// at most this long and this much (see Connection::ShutdownWrite).
constexpr std::chrono::milliseconds kMaxLinger(2000);
constexpr size_t kMaxLingerBytes = 1 << 20;
// Buffers grown past this by a large request or response are released once
// empty, so an idle connection holds little memory.
constexpr size_t kKeptBufferBytes = 16 * 1024;
// Out of file descriptors: stop accepting for this long.
constexpr std::chrono::milliseconds kAcceptPause(100);

std::chrono::nanoseconds ToChrono(absl::Duration d) { return absl::ToChronoNanoseconds(d); }

std::string PeerAddress(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, buf, sizeof(buf));
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<IoLoop>> IoLoop::New(ServerState* state, int listen_fd) {
  auto mailbox = Mailbox::New();
  if (!mailbox.ok()) {
    if (listen_fd >= 0) close(listen_fd);
    return mailbox.status();
  }
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    if (listen_fd >= 0) close(listen_fd);
    return absl::InternalError(absl::StrCat("epoll_create1: ", std::strerror(errno)));
  }
  std::unique_ptr<IoLoop> loop(new IoLoop(state, epoll_fd, listen_fd, *std::move(mailbox)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kMailboxId;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, loop->mailbox_->event_fd(), &ev) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
  }
  if (listen_fd >= 0) {
    ev.data.u64 = kListenerId;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
      return absl::InternalError(absl::StrCat("epoll_ctl: ", std::strerror(errno)));
    }
  }
  return loop;
}

IoLoop::IoLoop(ServerState* state, int epoll_fd, int listen_fd, std::shared_ptr<Mailbox> mailbox)
    : state_(state), epoll_fd_(epoll_fd), listen_fd_(listen_fd), mailbox_(std::move(mailbox)) {
  const absl::Duration shortest = std::min(
      {state->options.read_timeout, state->options.idle_timeout, state->options.write_timeout});
  scan_interval_ =
      std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(ToChrono(shortest / 4)),
                 std::chrono::milliseconds(5), std::chrono::milliseconds(250));
}

IoLoop::~IoLoop() {
  Join();
  state_->connections.fetch_sub(connections_.size());
  connections_.clear();
  closed_.clear();
  mailbox_->Close();
  if (listen_fd_ >= 0) close(listen_fd_);
  close(epoll_fd_);
}

void IoLoop::Start(std::vector<IoLoop*> loops) {
  loops_ = std::move(loops);
  thread_ = std::thread([this] { Run(); });
}

void IoLoop::RequestStop(SteadyTime deadline) {
  stop_deadline_ns_.store(deadline.time_since_epoch().count());
  LoopMessage message;
  message.kind = LoopMessage::Kind::kStop;
  mailbox_->Post(std::move(message));
}

void IoLoop::Join() {
  if (thread_.joinable()) thread_.join();
}

int IoLoop::WaitMillis() const {
  SteadyTime until = next_scan_;
  if (stopping_) until = std::min(until, stop_deadline_);
  if (accept_paused_) until = std::min(until, accept_paused_until_);
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - now_).count();
  return static_cast<int>(std::clamp<int64_t>(wait, 0, 1000));
}

void IoLoop::Run() {
  pthread_setname_np(pthread_self(), "writ-http-io");
  // OpenSSL writes with write(2), which raises SIGPIPE on a closed peer; a
  // blocked SIGPIPE makes it fail with EPIPE instead. Only this thread.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  mailbox_->BindToThisThread();
  now_ = std::chrono::steady_clock::now();
  next_scan_ = now_ + scan_interval_;
  epoll_event events[256];
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events, 256, WaitMillis());
    now_ = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kListenerId) {
        Accept();
      } else if (id == kMailboxId) {
        mailbox_->ClearWakeup();
      } else if (auto it = connections_.find(id); it != connections_.end()) {
        Connection& c = *it->second;
        const uint32_t ev = events[i].events;
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c.can_read = true;
        if (ev & (EPOLLRDHUP | EPOLLHUP)) c.peer_closed = true;
        if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c.can_write = true;
        Drive(c);
      }
      DrainMailbox();  // answers handlers sent on this thread, at once
    }
    DrainMailbox();
    if (now_ >= next_scan_ || (accept_paused_ && now_ >= accept_paused_until_)) Scan();
    closed_.clear();
    if (stopping_ && (connections_.empty() || now_ >= stop_deadline_)) break;
  }
  for (auto& [id, c] : connections_) {
    c->state = Connection::State::kClosed;
    state_->connections.fetch_sub(1);
  }
  connections_.clear();
  mailbox_->Close();  // responses sent from now on are dropped
}

void IoLoop::Accept() {
  if (listen_fd_ < 0 || stopping_) return;
  // A bounded batch: the listener stays ready (level-triggered), so a flood
  // of connections cannot starve the ones already open.
  for (int batch = 0; batch < 64; ++batch) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    const int fd =
        accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: the listener would poll ready in a busy loop.
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accept_paused_ = true;
        accept_paused_until_ = now_ + kAcceptPause;
      }
      return;  // EAGAIN, or nothing better to do
    }
    if (state_->connections.fetch_add(1) >= state_->options.max_connections) {
      state_->connections.fetch_sub(1);
      close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    IoLoop* owner = loops_.empty() ? this : loops_[next_loop_++ % loops_.size()];
    if (owner == this) {
      Adopt(fd, PeerAddress(addr));
    } else {
      LoopMessage message;
      message.kind = LoopMessage::Kind::kAdopt;
      message.fd = fd;
      message.data = PeerAddress(addr);
      if (!owner->mailbox_->Post(std::move(message))) state_->connections.fetch_sub(1);
    }
  }
}

void IoLoop::Adopt(int fd, std::string remote) {
  SslConnPtr ssl;
  if (state_->tls != nullptr) {
    ssl.reset(SSL_new(state_->tls));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) ssl.reset();
    if (ssl) SSL_set_accept_state(ssl.get());
  }
  if (stopping_ || (state_->tls != nullptr && !ssl)) {
    close(fd);
    state_->connections.fetch_sub(1);
    return;
  }
  const uint64_t id = next_id_++;
  auto c = std::make_unique<Connection>(id, fd, std::move(ssl), std::move(remote), state_->limits);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    state_->connections.fetch_sub(1);
    return;  // ~Connection closes fd
  }
  // A new connection has read_timeout for its TLS handshake and first request.
  c->deadline = now_ + ToChrono(state_->options.read_timeout);
  connections_.emplace(id, std::move(c));
}

void IoLoop::DrainMailbox() {
  for (;;) {
    std::vector<LoopMessage> messages = mailbox_->TakeAll();
    if (messages.empty()) return;
    for (LoopMessage& m : messages) {
      switch (m.kind) {
        case LoopMessage::Kind::kAdopt:
          Adopt(m.fd, std::move(m.data));
          m.fd = -1;
          break;
        case LoopMessage::Kind::kResponse:
          OnResponse(m);
          break;
        case LoopMessage::Kind::kStop:
          BeginStop();
          break;
      }
    }
  }
}

void IoLoop::OnResponse(LoopMessage& m) {
  auto it = connections_.find(m.conn_id);
  if (it == connections_.end()) return;  // the connection is gone
  Connection& c = *it->second;
  if (c.state != Connection::State::kHandling || c.seq != m.seq) return;
  if (c.out.empty()) {
    c.out = std::move(m.data);
  } else {
    c.out.append(m.data);  // behind an interim 100 Continue not yet written
  }
  c.close_after_write = m.close || stopping_;
  c.state = Connection::State::kWriting;
  c.deadline = now_ + ToChrono(state_->options.write_timeout);
  Flush(c);
}

void IoLoop::BeginStop() {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_ = SteadyTime(SteadyTime::duration(stop_deadline_ns_.load()));
  mailbox_->set_stopping();
  if (listen_fd_ >= 0) {
    close(listen_fd_);  // new connections are refused from now on
    listen_fd_ = -1;
  }
  std::vector<Connection*> idle;
  for (auto& [id, c] : connections_) {
    if (c->state == Connection::State::kReading || c->state == Connection::State::kLingering) {
      idle.push_back(c.get());
    }
  }
  for (Connection* c : idle) Close(*c);
}

void IoLoop::Drive(Connection& c) {
  switch (c.state) {
    case Connection::State::kReading:
      if (c.out_offset < c.out.size()) Flush(c);  // an interim 100 Continue
      ReadAndProcess(c);
      return;
    case Connection::State::kWriting:
      Flush(c);
      return;
    case Connection::State::kLingering:
      Linger(c);
      return;
    case Connection::State::kHandling:
    case Connection::State::kClosed:
      return;
  }
}

void IoLoop::ReadAndProcess(Connection& c) {
  Process(c);
  const size_t cap = state_->limits.max_header_bytes + state_->limits.max_body_bytes;
  while (c.state == Connection::State::kReading && c.can_read && c.in.size() <= cap) {
    // Reading past cap is pointless: the parser has answered by then.
    const size_t want = std::min(sizeof(scratch_), cap + 1 - c.in.size());
    size_t n = 0;
    switch (c.Read(scratch_, want, &n)) {
      case IoResult::kOk:
        if (c.in.empty() && !c.head_parsed) {
          // The first byte of a request: it now has read_timeout to arrive.
          c.deadline = now_ + ToChrono(state_->options.read_timeout);
        }
        c.in.append(scratch_, n);
        // A short read drained the socket; the next byte brings a new edge.
        // Not so once the peer has shut its side: its EOF came with the
        // same edge, so keep reading to see it and close.
        if (n < want && state_->tls == nullptr && !c.peer_closed) c.can_read = false;
        Process(c);
        break;
      case IoResult::kWantRead:
        c.can_read = false;
        return;
      case IoResult::kWantWrite:
        c.can_write = false;
        return;
      case IoResult::kEof:
      case IoResult::kError:
        Close(c);  // whatever was received of a request is dropped with it
        return;
    }
  }
}

void IoLoop::Process(Connection& c) {
  if (c.state != Connection::State::kReading) return;
  if (!c.head_parsed) {
    if (c.in.empty()) return;
    switch (c.parser.Parse(c.in)) {
      case RequestParser::Result::kNeedMore:
        return;
      case RequestParser::Result::kError:
        RespondAndClose(c, c.parser.error().status, c.parser.error().reason, c.parser.error().path);
        return;
      case RequestParser::Result::kDone:
        c.head_parsed = true;
        break;
    }
  }
  const RequestHead& head = c.parser.head();
  if (c.in.size() < head.head_bytes + head.content_length) {
    if (head.expect_continue && !c.continue_sent && c.in.size() == head.head_bytes) {
      c.continue_sent = true;
      c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
      Flush(c);
    }
    return;
  }
  Dispatch(c);
}

void IoLoop::Dispatch(Connection& c) {
  RequestHead& head = c.parser.head();
  HttpRequest request = std::move(head.request);
  const size_t total = head.head_bytes + head.content_length;
  request.body.assign(c.in, head.head_bytes, head.content_length);
  request.remote_address = c.remote;
  const bool keep_alive = head.keep_alive && !stopping_;
  c.in.erase(0, total);
  if (c.in.empty() && c.in.capacity() > kKeptBufferBytes) std::string().swap(c.in);
  c.parser.Reset();
  c.head_parsed = false;
  c.continue_sent = false;
  c.state = Connection::State::kHandling;
  c.deadline = SteadyTime::max();  // the handler's time is its own
  ++c.seq;
  Responder responder(std::make_shared<Responder::Sink>(mailbox_, c.id, c.seq,
                                                        request.method == "HEAD", keep_alive));
  auto route = state_->routes.find(request.path);
  if (route == state_->routes.end()) {
    std::move(responder).Send(ErrorResponse(404, "no such path"));
    return;
  }
  route->second(std::move(request), std::move(responder));
}

void IoLoop::Flush(Connection& c) {
  while (c.out_offset < c.out.size()) {
    if (!c.can_write) return;
    const size_t want = c.out.size() - c.out_offset;
    size_t n = 0;
    switch (c.Write(c.out.data() + c.out_offset, want, &n)) {
      case IoResult::kOk:
        c.out_offset += n;
        if (n < want && state_->tls == nullptr) c.can_write = false;
        break;
      case IoResult::kWantWrite:
        c.can_write = false;
        return;
      case IoResult::kWantRead:
        c.can_read = false;
        return;
      case IoResult::kEof:
      case IoResult::kError:
        Close(c);
        return;
    }
  }
  c.out.clear();
  c.out_offset = 0;
  if (c.out.capacity() > kKeptBufferBytes) std::string().swap(c.out);
  if (c.state != Connection::State::kWriting) return;
  if (c.close_after_write) {
    StartLinger(c);
    return;
  }
  c.state = Connection::State::kReading;
  c.deadline =
      now_ + ToChrono(c.in.empty() ? state_->options.idle_timeout : state_->options.read_timeout);
  ReadAndProcess(c);  // a pipelined request may be waiting
}

void IoLoop::RespondAndClose(Connection& c, int status, absl::string_view reason,
                             absl::string_view path) {
  c.in.clear();
  const HttpServerOptions& options = state_->options;
  HttpResponse refusal = options.error_response ? options.error_response(path, status, reason)
                                                : ErrorResponse(status, reason);
  c.out.append(SerializeResponse(refusal, /*head_request=*/false, /*close=*/true));
  c.state = Connection::State::kWriting;
  c.close_after_write = true;
  c.deadline = now_ + ToChrono(state_->options.write_timeout);
  Flush(c);
}

void IoLoop::StartLinger(Connection& c) {
  c.ShutdownWrite();
  if (stopping_) {
    Close(c);
    return;
  }
  c.state = Connection::State::kLingering;
  c.in.clear();
  c.in.shrink_to_fit();
  c.deadline =
      now_ + std::min<std::chrono::nanoseconds>(ToChrono(state_->options.read_timeout), kMaxLinger);
  Linger(c);
}

void IoLoop::Linger(Connection& c) {
  // Raw reads: after close_notify nothing the peer sends matters, TLS or not.
  while (c.can_read) {
    const ssize_t r = recv(c.fd, scratch_, sizeof(scratch_), 0);
    if (r > 0) {
      c.lingered_bytes += static_cast<size_t>(r);
      if (c.lingered_bytes > kMaxLingerBytes) break;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.can_read = false;
      return;
    }
    break;  // EOF or error
  }
  if (c.can_read) Close(c);
}

void IoLoop::Close(Connection& c) {
  if (c.state == Connection::State::kClosed) return;
  c.state = Connection::State::kClosed;
  auto it = connections_.find(c.id);
  if (it == connections_.end()) return;
  // Freed after the current batch of events: callers up the stack still hold `c`.
  closed_.push_back(std::move(it->second));
  connections_.erase(it);
  state_->connections.fetch_sub(1);
}

void IoLoop::Scan() {
  next_scan_ = now_ + scan_interval_;
  if (accept_paused_ && now_ >= accept_paused_until_ && listen_fd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerId;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0)
      accept_paused_ = false;
    else
      accept_paused_until_ = now_ + kAcceptPause;
  }
  std::vector<Connection*> expired;
  for (auto& [id, c] : connections_) {
    if (c->state != Connection::State::kHandling && now_ >= c->deadline) expired.push_back(c.get());
  }
  for (Connection* c : expired) Close(*c);
}

}  // namespace writ::issuer::http

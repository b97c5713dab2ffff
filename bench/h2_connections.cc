#include "bench/h2_connections.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "bench/event_load.h"

namespace writ::bench {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

H2Connections::H2Connections(int epoll_fd, int port, int n, absl::string_view header_block,
                             Done done)
    : epoll_fd_(epoll_fd),
      header_block_(header_block),
      done_(std::move(done)),
      conns_(n),
      read_buf_(new char[kReadChunk]) {
  addr_.sin_family = AF_INET;
  addr_.sin_port = htons(static_cast<uint16_t>(port));
  addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

H2Connections::~H2Connections() {
  for (Conn& c : conns_) CloseFd(c);
}

void H2Connections::Submit(int conn, int tag, absl::string_view message) {
  Conn& c = conns_[conn];
  if (c.fd < 0) {
    const std::string error = Connect(c);
    if (!error.empty()) return done_(tag, false, error);
  }
  c.session->Submit(tag, message);
  MarkDirty(c);
}

void H2Connections::Cancel(int conn, int tag) {
  Conn& c = conns_[conn];
  if (c.session == nullptr) return;
  c.session->Cancel(tag);
  MarkDirty(c);
  Settle(c);
}

// Connect opens a connection and its session; the preface and the first
// calls' frames wait in the session's output until the connect completes.
// Returns an error kind, or "" when the connect is under way.
std::string H2Connections::Connect(Conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return ErrnoKind(errno);
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof(addr_));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = &c;
  if ((rc != 0 && errno != EINPROGRESS) || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
    const std::string error = ErrnoKind(errno);
    CloseFd(c);
    return error;
  }
  c.want_out = true;
  c.connecting = rc != 0;
  c.session = std::make_unique<H2Session>(header_block_);
  return "";
}

void H2Connections::MarkDirty(Conn& c) {
  if (c.dirty) return;
  c.dirty = true;
  dirty_.push_back(&c);
}

void H2Connections::Flush() {
  // Write can lose a connection and move its unsent calls to a new one,
  // marking it dirty again: that lands in dirty_ for the next round.
  flushing_.clear();
  flushing_.swap(dirty_);
  for (Conn* c : flushing_) {
    c->dirty = false;
    if (c->fd >= 0 && !c->connecting) Write(*c);
  }
}

void H2Connections::Write(Conn& c) {
  std::string& out = *c.session->output();
  size_t written = 0;
  while (written < out.size()) {
    const ssize_t n = send(c.fd, out.data() + written, out.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += n;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      return Lost(c, ErrnoKind(errno));
    }
  }
  out.erase(0, written);
  SetWantOut(c, !out.empty());
}

void H2Connections::Read(Conn& c) {
  char* buf = read_buf_.get();
  for (;;) {
    const ssize_t n = read(c.fd, buf, kReadChunk);
    if (n > 0) {
      results_.clear();
      const bool ok = c.session->Receive(absl::string_view(buf, n), &results_);
      Report(results_);
      if (!ok) return Lost(c, "h2:protocol");
      MarkDirty(c);                                    // ACKs, WINDOW_UPDATEs, queued calls' frames
      if (static_cast<size_t>(n) < kReadChunk) break;  // level-triggered: told again if more
    } else if (n == 0) {
      return Lost(c, "h2:eof");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      return Lost(c, ErrnoKind(errno));
    }
  }
  Settle(c);
}

void H2Connections::OnEvent(void* data, uint32_t events) {
  Conn& c = *static_cast<Conn*>(data);
  if (c.connecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return Lost(c, ErrnoKind(err));
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    c.connecting = false;
  }
  const unsigned generation = c.generation;
  if ((events & EPOLLOUT) && c.want_out) Write(c);
  // Write may have lost the connection, or replaced it with a new one.
  if (c.generation == generation && c.fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
    Read(c);
  }
}

// Lost handles a connection that broke (or never connected, or broke the
// protocol): its calls in flight end with `kind`. Calls that had no stream
// yet go on a new connection, unless this one never connected: then they
// end too, so a dead port is not dialled in a loop.
void H2Connections::Lost(Conn& c, const std::string& kind) {
  const bool never_connected = c.connecting;
  std::vector<H2CallResult> failed;
  c.session->Fail(kind, &failed);
  const std::vector<std::pair<int, absl::string_view>> unsent = c.session->TakeUnsent();
  CloseFd(c);
  Report(failed);
  const int conn = static_cast<int>(&c - conns_.data());
  for (const auto& [tag, message] : unsent) {
    if (never_connected) {
      done_(tag, false, kind);
    } else {
      Submit(conn, tag, message);
    }
  }
}

// Settle retires a connection that takes no new streams (GOAWAY, or its
// last stream id) once its last stream has ended, and sends the calls
// waiting on it over a new one.
void H2Connections::Settle(Conn& c) {
  if (c.fd < 0 || c.session->accepting() || c.session->open_streams() > 0) return;
  const std::vector<std::pair<int, absl::string_view>> unsent = c.session->TakeUnsent();
  CloseFd(c);
  const int conn = static_cast<int>(&c - conns_.data());
  for (const auto& [tag, message] : unsent) Submit(conn, tag, message);
}

void H2Connections::Report(const std::vector<H2CallResult>& results) {
  for (const H2CallResult& r : results) done_(r.tag, r.ok, r.error_kind);
}

void H2Connections::CloseBusy() {
  for (Conn& c : conns_) {
    if (c.fd >= 0 && (c.session->open_streams() > 0 || c.session->unsent() > 0)) CloseFd(c);
  }
}

void H2Connections::CloseFd(Conn& c) {
  if (c.fd >= 0) close(c.fd);  // also leaves the epoll set
  c.fd = -1;
  ++c.generation;
  c.connecting = false;
  c.want_out = false;
  c.session.reset();
}

void H2Connections::SetWantOut(Conn& c, bool want) {
  if (c.want_out == want) return;
  epoll_event ev{};
  ev.events = want ? EPOLLIN | EPOLLOUT : EPOLLIN;
  ev.data.ptr = &c;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_out = want;
}

}  // namespace writ::bench

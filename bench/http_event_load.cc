// The HTTP side of event_load.h: non-blocking keep-alive connections on one
// epoll event loop per load thread (an HttpShard), a timerfd for the open
// loop's arrivals and the drain limit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/event_load.h"
#include "bench/http_wire.h"

namespace writ::bench {

std::string ErrnoKind(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? absl::StrCat("tcp:", name) : absl::StrCat("tcp:errno", err);
}

namespace {

// HttpShard owns `n` connections and the event loop that drives them. Used
// by one thread at a time; the connections persist between phases.
class HttpShard {
 public:
  static absl::StatusOr<std::unique_ptr<HttpShard>> New(const EventLoadOptions& options, int n);
  ~HttpShard();

  // Run is one phase of this shard's share of the load (EventLoad::RunPhase).
  LoadTally Run(const LoadPhase& phase, int shard, int shards, const std::vector<std::string>& pool,
                std::atomic<size_t>& next_token);

 private:
  enum class State { kIdle, kConnecting, kSending, kReceiving };
  struct Conn {
    int fd = -1;
    State state = State::kIdle;
    bool want_out = false;  // EPOLLOUT is in the interest set
    bool reused = false;    // this connection answered a request before this one
    bool retried = false;   // this request was already resent on a new connection
    std::string out;        // the request
    size_t out_done = 0;    // bytes of `out` written
    std::string in;         // bytes of the response read so far
    LoadClock::time_point due;
  };

  HttpShard(const EventLoadOptions& options, int n)
      : writer_(options.port, options.shape), conns_(n) {
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(static_cast<uint16_t>(options.port));
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }

  // Start sends `c` the request due at `due`; `queued` when it waited in
  // queued_ for a free connection.
  void Start(Conn& c, LoadClock::time_point due, const QueuedArrival* queued = nullptr);
  void Send(Conn& c);
  void Connect(Conn& c);
  void Write(Conn& c);
  void Read(Conn& c);
  void OnEvent(Conn& c, uint32_t events);
  void Lost(Conn& c, const std::string& kind);
  void Fail(Conn& c, const std::string& kind);
  void Complete(Conn& c, bool succeeded, const std::string& kind);
  void CloseFd(Conn& c);
  void SetWantOut(Conn& c, bool want);
  void AssignFreed(bool closed_loop);
  void ArmTimer(LoadClock::time_point at);
  void Poll(int timeout_ms);

  const TokenRequestWriter writer_;
  sockaddr_in addr_{};
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  LoadClock::time_point armed_ = LoadClock::time_point::min();
  std::vector<Conn> conns_;  // never resized: epoll holds pointers into it

  // Per phase.
  LoadPhase phase_;
  const std::vector<std::string>* pool_ = nullptr;
  std::atomic<size_t>* next_token_ = nullptr;
  LoadTally tally_;
  int busy_ = 0;                      // connections with a request
  std::vector<Conn*> idle_;           // connections free for a request
  std::vector<Conn*> freed_;          // just finished; AssignFreed decides
  std::vector<Conn*> assigning_;      // AssignFreed's working copy of freed_
  std::deque<QueuedArrival> queued_;  // open loop: due, no connection free
};

absl::StatusOr<std::unique_ptr<HttpShard>> HttpShard::New(const EventLoadOptions& options, int n) {
  std::unique_ptr<HttpShard> s(new HttpShard(options, n));
  s->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  s->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (s->epoll_fd_ < 0 || s->timer_fd_ < 0) {
    return absl::InternalError(absl::StrCat("epoll/timerfd set-up failed: ", strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the timer
  if (epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->timer_fd_, &ev) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl(timerfd) failed: ", strerror(errno)));
  }
  return s;
}

HttpShard::~HttpShard() {
  for (Conn& c : conns_) CloseFd(c);
  if (timer_fd_ >= 0) close(timer_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

LoadTally HttpShard::Run(const LoadPhase& phase, int shard, int shards,
                         const std::vector<std::string>& pool, std::atomic<size_t>& next_token) {
  phase_ = phase;
  pool_ = &pool;
  next_token_ = &next_token;
  tally_ = LoadTally();
  const double seconds = std::chrono::duration<double>(phase.deadline - phase.start).count();
  tally_.Reserve(
      static_cast<size_t>((phase.rate > 0 ? phase.rate : 10000.0) / shards * seconds * 1.2 + 16));
  busy_ = 0;
  freed_.clear();
  queued_.clear();
  Poll(0);  // the server may have closed idle keep-alive connections since the last phase
  idle_.clear();
  for (Conn& c : conns_) idle_.push_back(&c);
  ArrivalSchedule arrivals(phase, shard, shards);
  const LoadClock::time_point give_up = phase.deadline + kDrainLimit;

  std::this_thread::sleep_until(phase.start);
  if (arrivals.closed_loop()) freed_.swap(idle_);  // every connection starts at once
  for (;;) {
    // Connections the last Poll freed serve the queue first, then new
    // arrivals: a due request never queues while one of them is free.
    AssignFreed(arrivals.closed_loop());
    const LoadClock::time_point now = LoadClock::now();
    for (; !arrivals.done() && arrivals.Next() <= now; arrivals.Pop()) {
      if (idle_.empty()) {
        queued_.push_back({arrivals.Next(), now});
      } else {
        Conn* c = idle_.back();
        idle_.pop_back();
        Start(*c, arrivals.Next());
      }
    }
    AssignFreed(arrivals.closed_loop());
    if (busy_ == 0 && freed_.empty() && queued_.empty() && arrivals.done()) break;
    if (now >= give_up) {
      for (Conn& c : conns_) {
        if (c.state == State::kIdle) continue;
        tally_.Record(false, "http:timeout", c.due, now);
        CloseFd(c);
      }
      for (const QueuedArrival& queued : queued_) {
        tally_.Record(false, "http:timeout", queued.due, now);
      }
      break;
    }
    ArmTimer(arrivals.done() ? give_up : std::min(arrivals.Next(), give_up));
    // A failed connect frees its connection at once: come back without waiting.
    Poll(freed_.empty() ? -1 : 0);
  }
  return std::move(tally_);
}

// AssignFreed gives each just-finished connection its next request: closed
// loop, a new one now (until the deadline); open loop, the oldest queued one.
void HttpShard::AssignFreed(bool closed_loop) {
  // Starting a request can fail at once and free its connection again: those
  // land in freed_ for the next round, not in the list being walked.
  assigning_.clear();
  assigning_.swap(freed_);
  const LoadClock::time_point now = LoadClock::now();
  for (Conn* c : assigning_) {
    if (closed_loop && now < phase_.deadline) {
      Start(*c, now);
    } else if (!closed_loop && !queued_.empty()) {
      const QueuedArrival queued = queued_.front();
      queued_.pop_front();
      Start(*c, queued.due, &queued);
    } else {
      idle_.push_back(c);
    }
  }
}

void HttpShard::Start(Conn& c, LoadClock::time_point due, const QueuedArrival* queued) {
  ++busy_;
  c.due = due;
  tally_.Started(due, LoadClock::now(), queued);
  c.retried = false;
  writer_.Write((*pool_)[next_token_->fetch_add(1, std::memory_order_relaxed) % pool_->size()],
                &c.out);
  Send(c);
}

void HttpShard::Send(Conn& c) {
  c.out_done = 0;
  c.in.clear();
  if (c.fd < 0) {
    Connect(c);
  } else {
    Write(c);
  }
}

void HttpShard::Connect(Conn& c) {
  c.reused = false;
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return Fail(c, ErrnoKind(errno));
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof(addr_));
  if (rc != 0 && errno != EINPROGRESS) return Fail(c, ErrnoKind(errno));
  epoll_event ev{};
  ev.events = rc == 0 ? EPOLLIN : EPOLLIN | EPOLLOUT;
  ev.data.ptr = &c;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) return Fail(c, ErrnoKind(errno));
  c.want_out = rc != 0;
  if (rc == 0) return Write(c);
  c.state = State::kConnecting;
}

void HttpShard::Write(Conn& c) {
  c.state = State::kSending;
  while (c.out_done < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_done, c.out.size() - c.out_done, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_done += n;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return SetWantOut(c, true);
    } else if (errno != EINTR) {
      return Lost(c, ErrnoKind(errno));
    }
  }
  SetWantOut(c, false);
  c.state = State::kReceiving;
}

void HttpShard::Read(Conn& c) {
  char buf[16384];
  int ended = 0;  // 0: open; -1: end of stream; else the errno of a reset
  for (;;) {
    ssize_t n = read(c.fd, buf, sizeof(buf));
    if (n > 0) {
      c.in.append(buf, n);
      if (static_cast<size_t>(n) < sizeof(buf)) break;  // level-triggered: told again if more
    } else if (n == 0) {
      ended = -1;
      break;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      ended = errno;
      break;
    }
  }
  // Idle: either the server closed a keep-alive connection (the next request
  // opens a new one) or it sent bytes nobody asked for: start afresh.
  if (c.state == State::kIdle) return CloseFd(c);
  const ParsedResponse r = ParseHttpResponse(c.in);
  if (r.state == ParsedResponse::kIncomplete) {
    if (ended != 0) Lost(c, ended < 0 ? "http:close" : ErrnoKind(ended));
    return;
  }
  if (r.state == ParsedResponse::kInvalid) return Fail(c, r.error);
  std::string kind;
  const bool ok = ExchangeSucceeded(r, &kind);
  // A response before the whole request was written, or extra bytes after
  // it, leave the connection in an unknown state.
  if (ended != 0 || r.close || r.size != c.in.size() || c.state != State::kReceiving) {
    CloseFd(c);
  } else {
    c.reused = true;
  }
  Complete(c, ok, kind);
}

void HttpShard::OnEvent(Conn& c, uint32_t events) {
  if (c.state == State::kConnecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return Fail(c, ErrnoKind(err));
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    return Write(c);
  }
  const int fd = c.fd;
  if ((events & EPOLLOUT) && c.state == State::kSending) Write(c);
  // Write may have closed the connection or replaced it with a new one.
  if (c.fd == fd && fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) Read(c);
}

// Lost handles a connection that broke under a request. A keep-alive
// connection the server closed just as this request went out is expected
// now and then: if nothing of the answer arrived, resend once on a new one.
void HttpShard::Lost(Conn& c, const std::string& kind) {
  if (!c.reused || c.retried || !c.in.empty()) return Fail(c, kind);
  CloseFd(c);
  c.retried = true;
  Send(c);
}

void HttpShard::Fail(Conn& c, const std::string& kind) {
  CloseFd(c);
  Complete(c, false, kind);
}

void HttpShard::Complete(Conn& c, bool succeeded, const std::string& kind) {
  tally_.Record(succeeded, kind, c.due, LoadClock::now());
  c.state = State::kIdle;
  c.in.clear();
  --busy_;
  freed_.push_back(&c);
}

void HttpShard::CloseFd(Conn& c) {
  if (c.fd >= 0) close(c.fd);  // also leaves the epoll set
  c.fd = -1;
  c.want_out = false;
  c.state = State::kIdle;
  c.in.clear();
}

void HttpShard::SetWantOut(Conn& c, bool want) {
  if (c.want_out == want) return;
  epoll_event ev{};
  ev.events = want ? EPOLLIN | EPOLLOUT : EPOLLIN;
  ev.data.ptr = &c;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_out = want;
}

void HttpShard::ArmTimer(LoadClock::time_point at) {
  if (at == armed_) return;
  // steady_clock is CLOCK_MONOTONIC, the timer's clock.
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch());
  itimerspec spec{};
  spec.it_value.tv_sec = std::max<int64_t>(0, ns.count() / 1000000000);
  spec.it_value.tv_nsec = std::max<int64_t>(1, ns.count() % 1000000000);
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = at;
}

void HttpShard::Poll(int timeout_ms) {
  epoll_event events[64];
  const int n = epoll_wait(epoll_fd_, events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.ptr == nullptr) {
      uint64_t expirations;
      if (read(timer_fd_, &expirations, sizeof(expirations)) > 0) armed_ = {};
      continue;
    }
    OnEvent(*static_cast<Conn*>(events[i].data.ptr), events[i].events);
  }
}

class HttpEventLoad final : public EventLoad {
 public:
  explicit HttpEventLoad(std::vector<std::unique_ptr<HttpShard>> shards)
      : shards_(std::move(shards)) {}

  LoadTally RunPhase(const LoadPhase& phase, const std::vector<std::string>& pool,
                     std::atomic<size_t>& next_token) override {
    const int k = static_cast<int>(shards_.size());
    std::vector<LoadTally> tallies(k);
    std::vector<std::thread> threads;
    for (int i = 1; i < k; ++i) {
      threads.emplace_back([&, i] { tallies[i] = shards_[i]->Run(phase, i, k, pool, next_token); });
    }
    tallies[0] = shards_[0]->Run(phase, 0, k, pool, next_token);
    for (std::thread& t : threads) t.join();
    for (int i = 1; i < k; ++i) tallies[0].Merge(std::move(tallies[i]));
    return std::move(tallies[0]);
  }

 private:
  std::vector<std::unique_ptr<HttpShard>> shards_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoad>> NewHttpEventLoad(const EventLoadOptions& options) {
  if (options.port <= 0 || options.port > 65535 || options.clients < 1 || options.threads < 1) {
    return absl::InvalidArgumentError("event load: need a port, clients >= 1 and threads >= 1");
  }
  const int k = std::min(options.threads, options.clients);
  std::vector<std::unique_ptr<HttpShard>> shards;
  for (int i = 0; i < k; ++i) {
    auto shard = HttpShard::New(options, options.clients / k + (i < options.clients % k ? 1 : 0));
    if (!shard.ok()) return shard.status();
    shards.push_back(*std::move(shard));
  }
  return std::make_unique<HttpEventLoad>(std::move(shards));
}

}  // namespace writ::bench

// The raw gRPC side of event_load.h: unary TokenService.ExchangeToken calls
// over hand-written HTTP/2 cleartext connections (H2Connections), on one
// epoll event loop per load thread (a RawGrpcShard), a timerfd for the open
// loop's arrivals, the call deadlines and the drain limit. The same loop as
// http_event_load.cc, with call slots in place of connections: a slot is
// one call in flight at a time, `per_channel` slots share a connection.
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/event_load.h"
#include "bench/h2_connections.h"
#include "bench/h2_wire.h"

namespace writ::bench {
namespace {

constexpr std::chrono::seconds kCallDeadline{30};
// Deadlines are checked this often: a timed-out call is counted up to this
// late, which is nothing next to 30 s, and the loop wakes rarely for them.
constexpr std::chrono::seconds kDeadlineScan{1};

class RawGrpcShard {
 public:
  static absl::StatusOr<std::unique_ptr<RawGrpcShard>> New(const EventLoadOptions& options, int n,
                                                           absl::string_view header_block);
  ~RawGrpcShard();

  // Run is one phase of this shard's share of the load (EventLoad::RunPhase).
  LoadTally Run(const LoadPhase& phase, int shard, int shards, const std::vector<std::string>& pool,
                std::atomic<size_t>& next_token);

 private:
  struct Slot {
    int conn = 0;  // its connection in conns_
    bool busy = false;
    std::string message;  // the gRPC-framed request; the session points into it
    LoadClock::time_point due;
    LoadClock::time_point deadline;
  };

  RawGrpcShard(const EventLoadOptions& options, int n, int epoll_fd,
               absl::string_view header_block);

  // Start submits the call due at `due` on `s`; `queued` when it waited in
  // queued_ for a free slot.
  void Start(Slot& s, LoadClock::time_point due, const QueuedArrival* queued = nullptr);
  void Complete(Slot& s, bool succeeded, const std::string& kind);
  void ExpireCalls(LoadClock::time_point now);
  void GiveUp(LoadClock::time_point now);
  void AssignFreed(bool closed_loop);
  void ArmTimer(LoadClock::time_point at);
  void Poll(int timeout_ms);

  const GrpcExchangeWriter writer_;
  const int epoll_fd_;
  int timer_fd_ = -1;
  LoadClock::time_point armed_ = LoadClock::time_point::min();
  std::vector<Slot> slots_;  // never resized; a slot's index is its call's tag
  H2Connections conns_;

  // Per phase.
  LoadPhase phase_;
  const std::vector<std::string>* pool_ = nullptr;
  std::atomic<size_t>* next_token_ = nullptr;
  LoadTally tally_;
  int busy_ = 0;                      // slots with a call
  LoadClock::time_point next_scan_;   // of the call deadlines
  std::vector<Slot*> idle_;           // slots free for a call
  std::vector<Slot*> freed_;          // just finished; AssignFreed decides
  std::vector<Slot*> assigning_;      // AssignFreed's working copy of freed_
  std::deque<QueuedArrival> queued_;  // open loop: due, no slot free
};

RawGrpcShard::RawGrpcShard(const EventLoadOptions& options, int n, int epoll_fd,
                           absl::string_view header_block)
    : writer_(options.shape),
      epoll_fd_(epoll_fd),
      slots_(n),
      conns_(
          epoll_fd, options.port, (n + options.per_channel - 1) / options.per_channel, header_block,
          [this](int tag, bool ok, const std::string& kind) { Complete(slots_[tag], ok, kind); }) {
  for (int i = 0; i < n; ++i) slots_[i].conn = i / options.per_channel;
}

absl::StatusOr<std::unique_ptr<RawGrpcShard>> RawGrpcShard::New(const EventLoadOptions& options,
                                                                int n,
                                                                absl::string_view header_block) {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return absl::InternalError(absl::StrCat("epoll: ", strerror(errno)));
  std::unique_ptr<RawGrpcShard> s(new RawGrpcShard(options, n, epoll_fd, header_block));
  s->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (s->timer_fd_ < 0) return absl::InternalError(absl::StrCat("timerfd: ", strerror(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the timer; the connections' pointers are never null
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, s->timer_fd_, &ev) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl(timerfd) failed: ", strerror(errno)));
  }
  return s;
}

RawGrpcShard::~RawGrpcShard() {
  if (timer_fd_ >= 0) close(timer_fd_);
  // conns_ closes its sockets after this; they need no epoll set to close.
  close(epoll_fd_);
}

LoadTally RawGrpcShard::Run(const LoadPhase& phase, int shard, int shards,
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
  Poll(0);  // GOAWAYs, PINGs and closes that came while no phase ran
  idle_.clear();
  for (Slot& s : slots_) idle_.push_back(&s);
  ArrivalSchedule arrivals(phase, shard, shards);
  const LoadClock::time_point give_up = phase.deadline + kDrainLimit;
  next_scan_ = phase.start + kDeadlineScan;

  std::this_thread::sleep_until(phase.start);
  if (arrivals.closed_loop()) freed_.swap(idle_);  // every slot starts at once
  for (;;) {
    // Connections the last Poll freed serve the queue first, then new
    // arrivals: a due request never queues while one of them is free.
    AssignFreed(arrivals.closed_loop());
    const LoadClock::time_point now = LoadClock::now();
    for (; !arrivals.done() && arrivals.Next() <= now; arrivals.Pop()) {
      if (idle_.empty()) {
        queued_.push_back({arrivals.Next(), now});
      } else {
        Slot* s = idle_.back();
        idle_.pop_back();
        Start(*s, arrivals.Next());
      }
    }
    AssignFreed(arrivals.closed_loop());
    conns_.Flush();  // one write per connection for the calls started above
    if (busy_ == 0 && freed_.empty() && queued_.empty() && arrivals.done()) break;
    if (now >= give_up) {
      GiveUp(now);
      break;
    }
    if (now >= next_scan_) {
      ExpireCalls(now);
      next_scan_ = now + kDeadlineScan;
    }
    LoadClock::time_point wake = arrivals.done() ? give_up : std::min(arrivals.Next(), give_up);
    if (busy_ > 0) wake = std::min(wake, next_scan_);
    ArmTimer(wake);
    // A failed connect or an expired call frees its slot at once: come back
    // without waiting.
    Poll(freed_.empty() && !conns_.has_output() ? -1 : 0);
  }
  return std::move(tally_);
}

// AssignFreed gives each just-finished slot its next call: closed loop, a
// new one now (until the deadline); open loop, the oldest queued one.
void RawGrpcShard::AssignFreed(bool closed_loop) {
  // Starting a call can fail at once and free its slot again: those land in
  // freed_ for the next round, not in the list being walked.
  assigning_.clear();
  assigning_.swap(freed_);
  const LoadClock::time_point now = LoadClock::now();
  for (Slot* s : assigning_) {
    if (closed_loop && now < phase_.deadline) {
      Start(*s, now);
    } else if (!closed_loop && !queued_.empty()) {
      const QueuedArrival queued = queued_.front();
      queued_.pop_front();
      Start(*s, queued.due, &queued);
    } else {
      idle_.push_back(s);
    }
  }
}

void RawGrpcShard::Start(Slot& s, LoadClock::time_point due, const QueuedArrival* queued) {
  ++busy_;
  s.busy = true;
  s.due = due;
  const LoadClock::time_point now = LoadClock::now();
  tally_.Started(due, now, queued);
  s.deadline = now + kCallDeadline;
  writer_.Write((*pool_)[next_token_->fetch_add(1, std::memory_order_relaxed) % pool_->size()],
                &s.message);
  conns_.Submit(s.conn, static_cast<int>(&s - slots_.data()), s.message);
}

void RawGrpcShard::Complete(Slot& s, bool succeeded, const std::string& kind) {
  tally_.Record(succeeded, kind, s.due, LoadClock::now());
  s.busy = false;
  --busy_;
  freed_.push_back(&s);
}

void RawGrpcShard::ExpireCalls(LoadClock::time_point now) {
  for (Slot& s : slots_) {
    if (!s.busy || now < s.deadline) continue;
    conns_.Cancel(s.conn, static_cast<int>(&s - slots_.data()));
    Complete(s, false, "grpc:timeout");
  }
}

// GiveUp ends the phase at the drain limit: calls still out and requests
// still queued count as timeouts; connections with calls on them close.
void RawGrpcShard::GiveUp(LoadClock::time_point now) {
  conns_.CloseBusy();
  for (Slot& s : slots_) {
    if (!s.busy) continue;
    tally_.Record(false, "grpc:timeout", s.due, now);
    s.busy = false;
  }
  for (const QueuedArrival& queued : queued_) {
    tally_.Record(false, "grpc:timeout", queued.due, now);
  }
  busy_ = 0;
}

void RawGrpcShard::ArmTimer(LoadClock::time_point at) {
  if (at == armed_) return;
  // steady_clock is CLOCK_MONOTONIC, the timer's clock.
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch());
  itimerspec spec{};
  spec.it_value.tv_sec = std::max<int64_t>(0, ns.count() / 1000000000);
  spec.it_value.tv_nsec = std::max<int64_t>(1, ns.count() % 1000000000);
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = at;
}

void RawGrpcShard::Poll(int timeout_ms) {
  epoll_event events[64];
  const int n = epoll_wait(epoll_fd_, events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    if (events[i].data.ptr == nullptr) {
      uint64_t expirations;
      if (read(timer_fd_, &expirations, sizeof(expirations)) > 0) armed_ = {};
      continue;
    }
    conns_.OnEvent(events[i].data.ptr, events[i].events);
  }
}

class RawGrpcEventLoad final : public EventLoad {
 public:
  explicit RawGrpcEventLoad(std::string header_block) : header_block_(std::move(header_block)) {}

  absl::Status Init(const EventLoadOptions& options) {
    const int k = std::min(options.threads, options.clients);
    for (int i = 0; i < k; ++i) {
      auto shard = RawGrpcShard::New(
          options, options.clients / k + (i < options.clients % k ? 1 : 0), header_block_);
      if (!shard.ok()) return shard.status();
      shards_.push_back(*std::move(shard));
    }
    return absl::OkStatus();
  }

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
  const std::string header_block_;  // before shards_: they and their sessions point into it
  std::vector<std::unique_ptr<RawGrpcShard>> shards_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoad>> NewRawGrpcEventLoad(const EventLoadOptions& options) {
  if (options.port <= 0 || options.port > 65535 || options.clients < 1 || options.threads < 1 ||
      options.per_channel < 1) {
    return absl::InvalidArgumentError(
        "event load: need a port, clients >= 1, threads >= 1 and per_channel >= 1");
  }
  auto load = std::make_unique<RawGrpcEventLoad>(GrpcRequestHeaderBlock(
      "/writ.v1.TokenService/ExchangeToken", absl::StrCat("127.0.0.1:", options.port)));
  if (absl::Status s = load->Init(options); !s.ok()) return s;
  return load;
}

}  // namespace writ::bench

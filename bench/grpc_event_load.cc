// The gRPC side of event_load.h: `clients` unary calls in flight through the
// callback API. A call's completion callback (on one of gRPC's threads)
// records the result and starts the slot's next call; the load threads only
// start the first calls (closed loop) or release the due ones (open loop).
#include <grpcpp/grpcpp.h>

#include <deque>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/event_load.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::bench {
namespace {

class GrpcEventLoad final : public EventLoad {
 public:
  explicit GrpcEventLoad(const EventLoadOptions& options);

  LoadTally RunPhase(const LoadPhase& phase, const std::vector<std::string>& pool,
                     std::atomic<size_t>& next_token) override;

 private:
  struct Shard;
  // Slot is one call in flight at a time. Its context, request and response
  // live here, so they outlive the call until its callback has run.
  struct Slot {
    v1::TokenService::Stub* stub = nullptr;
    Shard* shard = nullptr;
    std::unique_ptr<grpc::ClientContext> ctx;
    v1::ExchangeTokenRequest request;
    v1::ExchangeTokenResponse response;
    LoadClock::time_point due;
  };
  // Shard is one load thread's slots.
  struct Shard {
    absl::Mutex mu;
    std::vector<Slot*> idle ABSL_GUARDED_BY(mu);
    std::deque<QueuedArrival> queued ABSL_GUARDED_BY(mu);  // open loop: due, no slot
    int busy ABSL_GUARDED_BY(mu) = 0;
    LoadTally tally ABSL_GUARDED_BY(mu);
  };

  // Drive runs shard `i`'s phase on the calling thread and returns its tally.
  LoadTally Drive(int i);
  // Start sends the slot's next request, due at `due`. It takes shard.mu to
  // note the start; never call it with shard.mu (or any lock) held: the
  // callback may in principle run before ExchangeToken returns.
  void Start(Slot* slot, LoadClock::time_point due, const QueuedArrival* queued = nullptr);
  void OnDone(Slot* slot, const grpc::Status& status);

  std::vector<std::unique_ptr<v1::TokenService::Stub>> stubs_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<Slot>> slots_;

  // Set before a phase's first call, read-only while it runs.
  LoadPhase phase_;
  const std::vector<std::string>* pool_ = nullptr;
  std::atomic<size_t>* next_token_ = nullptr;
};

GrpcEventLoad::GrpcEventLoad(const EventLoadOptions& options) {
  const int k = std::min(options.threads, options.clients);
  for (int i = 0; i < k; ++i) shards_.push_back(std::make_unique<Shard>());
  for (int i = 0; i < options.clients; ++i) {
    if (i % options.per_channel == 0) {
      stubs_.push_back(v1::TokenService::NewStub(NewLoadChannel(options.port, i)));
    }
    auto slot = std::make_unique<Slot>();
    slot->stub = stubs_.back().get();
    slot->shard = shards_[i % k].get();
    slot->request.set_subject_token_type("urn:ietf:params:oauth:token-type:jwt");
    slot->request.set_audience(options.shape.audience);
    slot->request.add_scopes(options.shape.scope);
    slots_.push_back(std::move(slot));
  }
}

LoadTally GrpcEventLoad::RunPhase(const LoadPhase& phase, const std::vector<std::string>& pool,
                                  std::atomic<size_t>& next_token) {
  phase_ = phase;
  pool_ = &pool;
  next_token_ = &next_token;
  const double seconds = std::chrono::duration<double>(phase.deadline - phase.start).count();
  const int k = static_cast<int>(shards_.size());
  for (auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    shard->tally = LoadTally();
    shard->tally.Reserve(
        static_cast<size_t>((phase.rate > 0 ? phase.rate : 10000.0) / k * seconds * 1.2 + 16));
    shard->idle.clear();
    shard->queued.clear();
    shard->busy = 0;
  }
  for (auto& slot : slots_) {
    absl::MutexLock lock(&slot->shard->mu);
    slot->shard->idle.push_back(slot.get());
  }
  std::vector<LoadTally> tallies(k);
  std::vector<std::thread> threads;
  for (int i = 1; i < k; ++i) threads.emplace_back([&, i] { tallies[i] = Drive(i); });
  tallies[0] = Drive(0);
  for (std::thread& t : threads) t.join();
  for (int i = 1; i < k; ++i) tallies[0].Merge(std::move(tallies[i]));
  return std::move(tallies[0]);
}

LoadTally GrpcEventLoad::Drive(int i) {
  Shard& shard = *shards_[i];
  ArrivalSchedule arrivals(phase_, i, static_cast<int>(shards_.size()));
  std::vector<std::pair<Slot*, LoadClock::time_point>> to_start;
  std::this_thread::sleep_until(phase_.start);
  if (arrivals.closed_loop()) {
    const LoadClock::time_point now = LoadClock::now();
    {
      absl::MutexLock lock(&shard.mu);
      for (Slot* slot : shard.idle) to_start.emplace_back(slot, now);
      shard.busy += static_cast<int>(shard.idle.size());
      shard.idle.clear();
    }
    for (auto& [slot, due] : to_start) Start(slot, due);
  }
  while (!arrivals.done()) {
    std::this_thread::sleep_until(arrivals.Next());
    const LoadClock::time_point now = LoadClock::now();
    to_start.clear();
    {
      absl::MutexLock lock(&shard.mu);
      for (; !arrivals.done() && arrivals.Next() <= now; arrivals.Pop()) {
        if (shard.idle.empty()) {
          shard.queued.push_back({arrivals.Next(), now});
          continue;
        }
        to_start.emplace_back(shard.idle.back(), arrivals.Next());
        shard.idle.pop_back();
        ++shard.busy;
      }
    }
    for (auto& [slot, due] : to_start) Start(slot, due);
  }

  // Every request is out or queued: wait for the answers. Calls end by their
  // own 30 s deadline; requests still queued at the drain limit never went out.
  absl::MutexLock lock(&shard.mu);
  auto drained = [&shard]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu) {
    return shard.busy == 0 && shard.queued.empty();
  };
  const absl::Duration until_give_up =
      absl::FromChrono(std::chrono::duration_cast<std::chrono::nanoseconds>(
          phase_.deadline + kDrainLimit - LoadClock::now()));
  if (!shard.mu.AwaitWithTimeout(absl::Condition(&drained), until_give_up)) {
    const LoadClock::time_point now = LoadClock::now();
    for (const QueuedArrival& queued : shard.queued) {
      shard.tally.Record(false, "grpc:timeout", queued.due, now);
    }
    shard.queued.clear();
    shard.mu.Await(absl::Condition(&drained));
  }
  return std::move(shard.tally);
}

void GrpcEventLoad::Start(Slot* slot, LoadClock::time_point due, const QueuedArrival* queued) {
  slot->due = due;
  {
    absl::MutexLock lock(&slot->shard->mu);
    slot->shard->tally.Started(due, LoadClock::now(), queued);
  }
  // The previous call's context may go now: its callback has run (gRPC's
  // completion tag holds its own reference to the call it is finishing).
  slot->ctx = std::make_unique<grpc::ClientContext>();
  slot->ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  slot->request.set_subject_token(
      (*pool_)[next_token_->fetch_add(1, std::memory_order_relaxed) % pool_->size()]);
  slot->response.Clear();
  slot->stub->async()->ExchangeToken(slot->ctx.get(), &slot->request, &slot->response,
                                     [this, slot](grpc::Status s) { OnDone(slot, s); });
}

void GrpcEventLoad::OnDone(Slot* slot, const grpc::Status& status) {
  const LoadClock::time_point now = LoadClock::now();
  std::string kind;
  if (!status.ok()) {
    kind = absl::StrCat("grpc:", GrpcCodeName(status.error_code()));
  } else if (slot->response.access_token().empty()) {
    kind = "grpc:empty_access_token";
  }
  Shard& shard = *slot->shard;
  bool again = false;
  LoadClock::time_point due;
  std::optional<QueuedArrival> queued;
  {
    absl::MutexLock lock(&shard.mu);
    shard.tally.Record(kind.empty(), kind, slot->due, now);
    if (phase_.rate <= 0 && now < phase_.deadline) {
      again = true;
      due = now;
    } else if (phase_.rate > 0 && !shard.queued.empty()) {
      again = true;
      queued = shard.queued.front();
      due = queued->due;
      shard.queued.pop_front();
    } else {
      shard.idle.push_back(slot);
      --shard.busy;
    }
  }
  if (again) Start(slot, due, queued ? &*queued : nullptr);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLoad>> NewGrpcEventLoad(const EventLoadOptions& options) {
  if (options.port <= 0 || options.port > 65535 || options.clients < 1 || options.threads < 1 ||
      options.per_channel < 1) {
    return absl::InvalidArgumentError(
        "event load: need a port, clients >= 1, threads >= 1 and per_channel >= 1");
  }
  return std::make_unique<GrpcEventLoad>(options);
}

}  // namespace writ::bench

// Event-driven load for issuer_load: `clients` requests outstanding at once,
// driven by a few threads instead of one blocking thread per client, so the
// load generator takes as little as it can of the CPU it shares with the
// issuer it measures.
//
//   HTTP  raw non-blocking TCP connections (TCP_NODELAY, HTTP/1.1 keep-alive),
//         one per outstanding request, on epoll: one event loop per load
//         thread, the connections split between them.
//   gRPC  `clients` unary calls in flight, `per_channel` calls per HTTP/2
//         connection, by one of two clients:
//         raw     HTTP/2 cleartext written by hand (h2_session.h: frames,
//                 flow control, a fixed HPACK block, no HPACK decoding) on
//                 the same kind of epoll loops as HTTP: ~2 µs of user CPU
//                 per call, the rest of its ~16 µs is loopback TCP.
//         grpcpp  the gRPC++ callback API: a completion callback (on a gRPC
//                 thread, shared with an in-process server) records the
//                 result and starts the next call. ~20 µs more CPU per call
//                 than raw; kept for comparison.
//
// Closed loop (rate <= 0): every completion sends the next request at once,
// until the deadline. Open loop: request j is due at start + j / rate (for
// j while that is before the deadline); a due request that finds every
// connection (call slot) busy waits in a FIFO queue, and its latency still
// counts from its due time (no coordinated omission).
#ifndef WRIT_BENCH_EVENT_LOAD_H_
#define WRIT_BENCH_EVENT_LOAD_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load_clients.h"

namespace writ::bench {

using LoadClock = std::chrono::steady_clock;

// EventLoadOptions says where to send and how much at once.
struct EventLoadOptions {
  // port of the issuer's listener (HTTP or gRPC) on 127.0.0.1. Default: 0
  int port = 0;
  // clients is how many requests are outstanding at once: HTTP connections,
  // or gRPC calls in flight. Default: 8
  int clients = 8;
  // threads is the number of load threads; clients are split between them
  // (at most one thread per client). gRPC++: only the open loop's arrival
  // timers run on them (completions run on gRPC's threads). Default: 1
  int threads = 1;
  // per_channel is the number of gRPC calls sharing one channel (HTTP/2
  // connection). Raw gRPC: each load thread groups its own calls, so with
  // several threads a connection may carry fewer. Default: 4
  int per_channel = 4;
  // shape is the audience and scope every request asks for. Default: empty
  ExchangeRequestShape shape;
};

// LoadPhase is one timed phase.
struct LoadPhase {
  LoadClock::time_point start;     // no request is sent before it
  LoadClock::time_point deadline;  // no request is due at or after it
  double rate = 0;                 // open-loop requests/s; <= 0: closed loop
};

// kDrainLimit is how long after the deadline a phase waits for the requests
// still outstanding; those not answered by then count as "<transport>:timeout".
inline constexpr std::chrono::seconds kDrainLimit{30};

// QueuedArrival is an open-loop request that found every connection busy:
// when it was due, and when the load thread noticed that and queued it.
struct QueuedArrival {
  LoadClock::time_point due;
  LoadClock::time_point noticed;
};

static_assert(std::is_same_v<LoadClock::period, std::nano>,
              "LoadTally keeps LoadClock ticks as nanoseconds");

// LoadTally is what a phase counted.
struct LoadTally {
  long ok = 0;
  std::map<std::string, long> errors;  // by kind: "http:503", "tcp:ECONNREFUSED", ...
  std::vector<int64_t> latency_ns;     // every request, errors included; unsorted
  // answered_ns[i]: when request i of latency_ns was answered (or failed),
  // LoadClock nanoseconds; with its latency, the span it was outstanding.
  std::vector<int64_t> answered_ns;
  // start_lag_ns: for each request handed to a connection (call slot), how
  // long after its due time that was: the load generator's own delay, plus
  // any wait in the queue for a free connection. Not paired with latency_ns:
  // a request that never started has none. ~0 in the event drivers' closed
  // loop; the thread-per-client model notes open-loop starts only.
  std::vector<int64_t> start_lag_ns;
  // generator_lag_ns[i]: the part of start_lag_ns[i] before the load thread
  // noticed that the request was due (its own delay); the rest was a wait in
  // the queue for a free connection. queued_starts: how many so waited.
  std::vector<int64_t> generator_lag_ns;
  long queued_starts = 0;

  // Reserve makes room for `n` requests.
  void Reserve(size_t n) {
    latency_ns.reserve(n);
    answered_ns.reserve(n);
    start_lag_ns.reserve(n);
    generator_lag_ns.reserve(n);
  }
  // Started notes that the request due at `due` was handed to a connection
  // at `started`: at once, or, with `queued`, after waiting for one.
  void Started(LoadClock::time_point due, LoadClock::time_point started,
               const QueuedArrival* queued = nullptr) {
    start_lag_ns.push_back((started - due).count());
    generator_lag_ns.push_back(((queued != nullptr ? queued->noticed : started) - due).count());
    if (queued != nullptr) ++queued_starts;
  }
  // Record counts one request, due at `due`, answered (or failed) at `answered`.
  void Record(bool succeeded, const std::string& error_kind, LoadClock::time_point due,
              LoadClock::time_point answered) {
    if (succeeded) {
      ++ok;
    } else {
      ++errors[error_kind];
    }
    latency_ns.push_back((answered - due).count());
    answered_ns.push_back(answered.time_since_epoch().count());
  }
  // Merge adds `other`'s counts to this one.
  void Merge(LoadTally&& other) {
    ok += other.ok;
    for (const auto& [kind, n] : other.errors) errors[kind] += n;
    latency_ns.insert(latency_ns.end(), other.latency_ns.begin(), other.latency_ns.end());
    answered_ns.insert(answered_ns.end(), other.answered_ns.begin(), other.answered_ns.end());
    start_lag_ns.insert(start_lag_ns.end(), other.start_lag_ns.begin(), other.start_lag_ns.end());
    generator_lag_ns.insert(generator_lag_ns.end(), other.generator_lag_ns.begin(),
                            other.generator_lag_ns.end());
    queued_starts += other.queued_starts;
  }
};

// ArrivalSchedule is one load thread's share of an open-loop schedule: with
// `shards` threads, thread `shard` takes requests shard, shard + shards, ...
class ArrivalSchedule {
 public:
  ArrivalSchedule(const LoadPhase& phase, int shard, int shards)
      : phase_(phase), j_(shard), step_(shards) {}
  // closed_loop is true when there is no schedule (rate <= 0).
  bool closed_loop() const { return phase_.rate <= 0; }
  // done is true when no request of this share is still to come.
  bool done() const { return closed_loop() || Next() >= phase_.deadline; }
  // Next is when the next request is due (meaningless in the closed loop).
  LoadClock::time_point Next() const {
    return phase_.start + std::chrono::duration_cast<LoadClock::duration>(
                              std::chrono::duration<double>(j_ / phase_.rate));
  }
  // Pop moves on to the request after Next().
  void Pop() { j_ += step_; }

 private:
  LoadPhase phase_;
  long j_;
  long step_;
};

// EventLoad drives load at one issuer listener. The connections (channels)
// persist from phase to phase, as the thread-per-client clients' do.
class EventLoad {
 public:
  virtual ~EventLoad() = default;

  // RunPhase sends pool[next_token++ % pool.size()] exchanges as `phase`
  // says and returns when every request due before the deadline has been
  // answered (or after kDrainLimit). Blocks; one phase at a time.
  virtual LoadTally RunPhase(const LoadPhase& phase, const std::vector<std::string>& pool,
                             std::atomic<size_t>& next_token) = 0;
};

// NewHttpEventLoad returns the HTTP driver (POST /oauth2/token), or
// kInvalidArgument for bad options, kInternal if epoll cannot be set up.
// Connections open on first use.
absl::StatusOr<std::unique_ptr<EventLoad>> NewHttpEventLoad(const EventLoadOptions& options);

// NewGrpcEventLoad returns the gRPC++ callback driver
// (TokenService.ExchangeToken), or kInvalidArgument for bad options. Each
// call has a 30 s deadline.
absl::StatusOr<std::unique_ptr<EventLoad>> NewGrpcEventLoad(const EventLoadOptions& options);

// NewRawGrpcEventLoad returns the raw HTTP/2 gRPC driver (the same calls as
// NewGrpcEventLoad's, h2c on epoll, no gRPC library), or kInvalidArgument
// for bad options, kInternal if epoll cannot be set up. Connections open on
// first use; a call is never resent. Each call has a 30 s deadline
// ("grpc:timeout"). Errors: "grpc:<CODE>" from a literal grpc-status,
// "grpc:error" when a call ended without a message or a readable status,
// "grpc:empty_access_token", "h2:RST_STREAM", "h2:GOAWAY" (a stream above
// the server's last one), "h2:protocol", "h2:eof", "tcp:<errno name>".
absl::StatusOr<std::unique_ptr<EventLoad>> NewRawGrpcEventLoad(const EventLoadOptions& options);

// ErrnoKind labels a socket error for LoadTally: "tcp:ECONNREFUSED".
std::string ErrnoKind(int err);

}  // namespace writ::bench

#endif  // WRIT_BENCH_EVENT_LOAD_H_

// The --slow-log file of issuer_load: the open-loop requests slower than a
// threshold, with the Unix time each was answered, so that
// ledger_log_summary.py --slow can lay them against the flushes and
// compactions in the ledger's RocksDB LOG (whose event times are Unix
// microseconds). Format, one phase after another:
//   # phase <transport> <label> <start unix us> <end unix us> <requests> <slow ms>
//   <transport> <answered unix us> <latency ms>      (one line per slow request)
#ifndef WRIT_BENCH_SLOW_LOG_H_
#define WRIT_BENCH_SLOW_LOG_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/event_load.h"

namespace writ::bench {

// SlowRequest is one request slower than a phase's threshold.
struct SlowRequest {
  LoadClock::time_point answered;
  int64_t latency_ns = 0;
};

// SlowRequests returns the requests of `tally` slower than `over_ns`, in its
// order (none when over_ns <= 0).
std::vector<SlowRequest> SlowRequests(const LoadTally& tally, int64_t over_ns);

// SlowPhase is what a phase writes to the file.
struct SlowPhase {
  std::string transport;  // "grpc", "http", "inproc"
  std::string label;      // no spaces: "open-loop-6000"
  LoadClock::time_point start, end;
  long requests = 0;
  double slow_ms = 0;
  std::vector<SlowRequest> slow;
};

// AppendSlowPhase writes `phase` to `out`, mapping LoadClock to Unix time
// with `unix_minus_load_us` (UnixMinusLoadClockMicros). Returns false when
// the write fails.
bool AppendSlowPhase(std::FILE* out, const SlowPhase& phase, int64_t unix_minus_load_us);

// UnixMinusLoadClockMicros is Unix time minus LoadClock time, now, in
// microseconds: one reading of each clock, for every time of a phase.
int64_t UnixMinusLoadClockMicros();

}  // namespace writ::bench

#endif  // WRIT_BENCH_SLOW_LOG_H_

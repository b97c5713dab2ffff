#include "bench/slow_log.h"

#include <chrono>
#include <cstdlib>

namespace writ::bench {
namespace {

int64_t Micros(LoadClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::vector<SlowRequest> SlowRequests(const LoadTally& tally, int64_t over_ns) {
  if (tally.answered_ns.size() != tally.latency_ns.size()) {
    std::fprintf(stderr, "slow_log: a tally with %zu answer times for %zu latencies\n",
                 tally.answered_ns.size(), tally.latency_ns.size());
    std::abort();  // LoadTally::Record keeps them paired: a bug in the generator
  }
  std::vector<SlowRequest> slow;
  for (size_t i = 0; over_ns > 0 && i < tally.latency_ns.size(); ++i) {
    if (tally.latency_ns[i] > over_ns) {
      slow.push_back(
          {LoadClock::time_point(LoadClock::duration(tally.answered_ns[i])), tally.latency_ns[i]});
    }
  }
  return slow;
}

int64_t UnixMinusLoadClockMicros() {
  const auto unix_now = std::chrono::system_clock::now().time_since_epoch();
  const auto load_now = LoadClock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(unix_now).count() -
         std::chrono::duration_cast<std::chrono::microseconds>(load_now).count();
}

bool AppendSlowPhase(std::FILE* out, const SlowPhase& phase, int64_t unix_minus_load_us) {
  std::fprintf(out, "# phase %s %s %lld %lld %ld %g\n", phase.transport.c_str(),
               phase.label.c_str(),
               static_cast<long long>(Micros(phase.start) + unix_minus_load_us),
               static_cast<long long>(Micros(phase.end) + unix_minus_load_us), phase.requests,
               phase.slow_ms);
  for (const SlowRequest& s : phase.slow) {
    std::fprintf(out, "%s %lld %.3f\n", phase.transport.c_str(),
                 static_cast<long long>(Micros(s.answered) + unix_minus_load_us),
                 s.latency_ns / 1e6);
  }
  return std::fflush(out) == 0 && !std::ferror(out);
}

}  // namespace writ::bench

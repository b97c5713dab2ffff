// Small helpers the benchmark programs share.
#ifndef WRIT_BENCH_BENCH_UTIL_H_
#define WRIT_BENCH_BENCH_UTIL_H_

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace writ::bench {

// Check returns the value of `v`, or prints `what` and the error and exits:
// a benchmark whose setup fails has nothing to measure.
template <typename T>
T Check(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(v.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(v);
}

// Rate runs `op` `warmup` times, then repeatedly (in batches of `batch`) for
// about `seconds`, and returns operations/s. An `op` returning false aborts:
// a failing operation must never be counted.
inline double Rate(double seconds, const std::function<bool()>& op, int warmup = 50,
                   int batch = 20) {
  using SteadyClock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i) {
    if (!op()) std::abort();
  }
  long n = 0;
  const auto start = SteadyClock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  auto now = start;
  while (now < deadline) {
    for (int i = 0; i < batch; ++i) {
      if (!op()) std::abort();
    }
    n += batch;
    now = SteadyClock::now();
  }
  return n / std::chrono::duration<double>(now - start).count();
}

}  // namespace writ::bench

#endif  // WRIT_BENCH_BENCH_UTIL_H_

// Test helpers shared by the HTTP and raw gRPC load drivers' tests: what a
// phase's start lags (LoadTally::start_lag_ns, generator_lag_ns) should be.
#ifndef WRIT_BENCH_START_LAG_EXPECT_H_
#define WRIT_BENCH_START_LAG_EXPECT_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "bench/event_load.h"

namespace writ::bench {

// MedianNs returns the middle value of `v` (not empty).
inline int64_t MedianNs(std::vector<int64_t> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// ExpectOneConnectionBacklog checks the start lags of 40 requests due every
// 5 ms at one connection answering every 10 ms: request i starts once i
// answers are in, ~i * 5 ms late, and nearly all of that is the wait for the
// connection, not the load generator's own delay.
inline void ExpectOneConnectionBacklog(const LoadTally& t) {
  ASSERT_EQ(t.start_lag_ns.size(), 40u);
  EXPECT_GT(MedianNs(t.start_lag_ns), 50'000'000);
  EXPECT_GT(t.start_lag_ns.back(), 150'000'000);
  EXPECT_GE(t.queued_starts, 30);
  ASSERT_EQ(t.generator_lag_ns.size(), 40u);
  EXPECT_LT(MedianNs(t.generator_lag_ns), MedianNs(t.start_lag_ns) / 2);
}

}  // namespace writ::bench

#endif  // WRIT_BENCH_START_LAG_EXPECT_H_

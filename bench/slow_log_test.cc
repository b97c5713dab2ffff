// Tests of the --slow-log file: which requests it keeps and the exact lines
// ledger_log_summary.py reads (its test parses the same sample).
#include "bench/slow_log.h"

#include <chrono>
#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace writ::bench {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

LoadClock::time_point At(microseconds us) { return LoadClock::time_point(us); }

TEST(SlowRequestsTest, KeepsThoseOverTheThresholdInOrderWithTheirAnswerTimes) {
  LoadTally tally;
  tally.Record(true, "", At(microseconds(1000)), At(microseconds(3500)));           // 2.5 ms
  tally.Record(false, "http:503", At(microseconds(2000)), At(microseconds(9000)));  // 7 ms
  tally.Record(true, "", At(microseconds(4000)), At(microseconds(9000)));   // 5 ms: not over
  tally.Record(true, "", At(microseconds(5000)), At(microseconds(11001)));  // 6.001 ms
  const std::vector<SlowRequest> slow = SlowRequests(tally, 5'000'000);
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_EQ(slow[0].answered, At(microseconds(9000)));
  EXPECT_EQ(slow[0].latency_ns, 7'000'000);
  EXPECT_EQ(slow[1].answered, At(microseconds(11001)));
  EXPECT_EQ(slow[1].latency_ns, 6'001'000);
  EXPECT_TRUE(SlowRequests(tally, 0).empty());  // no threshold: none
}

TEST(SlowRequestsTest, MergeKeepsAnswerTimesWithTheirLatencies) {
  LoadTally a, b;
  a.Record(true, "", At(microseconds(0)), At(microseconds(8000)));
  b.Record(true, "", At(microseconds(100)), At(microseconds(200)));
  b.Record(true, "", At(microseconds(1000)), At(microseconds(7000)));
  a.Merge(std::move(b));
  const std::vector<SlowRequest> slow = SlowRequests(a, 5'000'000);
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_EQ(slow[0].answered - milliseconds(8), At(microseconds(0)));
  EXPECT_EQ(slow[1].answered - milliseconds(6), At(microseconds(1000)));
}

TEST(SlowRequestsDeathTest, UnpairedTimesAreABug) {
  LoadTally tally;
  tally.latency_ns.push_back(9'000'000);
  EXPECT_DEATH(SlowRequests(tally, 1), "1 latencies");
}

std::string Written(const SlowPhase& phase, int64_t offset_us) {
  std::FILE* f = std::tmpfile();
  EXPECT_NE(f, nullptr);
  EXPECT_TRUE(AppendSlowPhase(f, phase, offset_us));
  std::rewind(f);
  std::string text;
  char buf[256];
  while (std::fgets(buf, sizeof(buf), f) != nullptr) text += buf;
  std::fclose(f);
  return text;
}

TEST(AppendSlowPhaseTest, WritesThePhaseLineThenOneLinePerRequestInUnixTime) {
  SlowPhase phase{"http",
                  "open-loop-6000",
                  At(microseconds(1000)),
                  At(microseconds(13000)),
                  72000,
                  5,
                  {{At(microseconds(5000)), 2'500'000}, {At(microseconds(9000)), 7'250'000}}};
  // The sample ledger_log_summary_test.py reads, shifted by 1 s of offset.
  EXPECT_EQ(Written(phase, 0),
            "# phase http open-loop-6000 1000 13000 72000 5\n"
            "http 5000 2.500\n"
            "http 9000 7.250\n");
  EXPECT_EQ(Written(phase, 1'000'000),
            "# phase http open-loop-6000 1001000 1013000 72000 5\n"
            "http 1005000 2.500\n"
            "http 1009000 7.250\n");
}

TEST(AppendSlowPhaseTest, AFailedWriteIsReported) {
  std::FILE* full = std::fopen("/dev/full", "w");
  ASSERT_NE(full, nullptr);
  SlowPhase phase{"grpc", "open-loop-1", At(microseconds(0)), At(microseconds(1)), 1, 5, {}};
  EXPECT_FALSE(AppendSlowPhase(full, phase, 0));
  std::fclose(full);
}

TEST(UnixMinusLoadClockTest, MapsNowToNow) {
  const int64_t offset = UnixMinusLoadClockMicros();
  const int64_t load_now =
      std::chrono::duration_cast<microseconds>(LoadClock::now().time_since_epoch()).count();
  const int64_t unix_now =
      std::chrono::duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(load_now + offset), static_cast<double>(unix_now), 50'000);
}

}  // namespace
}  // namespace writ::bench

#include "issuer/src/attest/replay_cache.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/status_test_util.h"

namespace writ::issuer {
namespace {

class ReplayCacheTest : public ::testing::Test {
 protected:
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
};

TEST_F(ReplayCacheTest, RefusesSecondUseUntilForgetTime) {
  ReplayCache cache(&clock_);
  const absl::Time forget = clock_.Now() + absl::Minutes(5);
  ASSERT_OK(cache.CheckAndRemember("github", "jti-1", forget));
  const absl::Status replay = cache.CheckAndRemember("github", "jti-1", forget);
  EXPECT_EQ(replay.code(), absl::StatusCode::kUnauthenticated) << replay;
  EXPECT_NE(replay.message().find("already used"), absl::string_view::npos);
  // The same jti from another issuer is another token.
  EXPECT_OK(cache.CheckAndRemember("gitlab", "jti-1", forget));
  // Issuer and jti are not simply concatenated.
  EXPECT_OK(cache.CheckAndRemember("githubj", "ti-1", forget));

  clock_.Set(forget - absl::Seconds(1));
  EXPECT_FALSE(cache.CheckAndRemember("github", "jti-1", forget).ok());
  clock_.Set(forget);
  EXPECT_OK(cache.CheckAndRemember("github", "jti-1", forget + absl::Minutes(5)));
}

TEST_F(ReplayCacheTest, RefusesWhenFullInsteadOfForgetting) {
  ReplayCacheOptions options;
  options.max_entries = 8;
  options.shards = 1;
  ReplayCache cache(&clock_, options);
  const absl::Time forget = clock_.Now() + absl::Minutes(5);
  for (int i = 0; i < 8; ++i) ASSERT_OK(cache.CheckAndRemember("i", absl::StrCat(i), forget));
  const absl::Status full = cache.CheckAndRemember("i", "new", forget);
  EXPECT_EQ(full.code(), absl::StatusCode::kUnavailable) << full;
  // Every remembered jti is still refused: nothing was forgotten.
  for (int i = 0; i < 8; ++i)
    EXPECT_FALSE(cache.CheckAndRemember("i", absl::StrCat(i), forget).ok());
  EXPECT_EQ(cache.size(), 8u);

  clock_.Set(forget);  // all expire: the next insert purges them
  EXPECT_OK(cache.CheckAndRemember("i", "new", forget + absl::Minutes(5)));
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(ReplayCacheTest, PurgeKeepsUnexpiredEntries) {
  ReplayCacheOptions options;
  options.max_entries = 4;
  options.shards = 1;
  ReplayCache cache(&clock_, options);
  const absl::Time now = clock_.Now();
  ASSERT_OK(cache.CheckAndRemember("i", "short-1", now + absl::Seconds(10)));
  ASSERT_OK(cache.CheckAndRemember("i", "short-2", now + absl::Seconds(10)));
  ASSERT_OK(cache.CheckAndRemember("i", "long-1", now + absl::Hours(1)));
  ASSERT_OK(cache.CheckAndRemember("i", "long-2", now + absl::Hours(1)));
  clock_.Advance(absl::Seconds(10));
  ASSERT_OK(cache.CheckAndRemember("i", "new-1", now + absl::Hours(1)));
  ASSERT_OK(cache.CheckAndRemember("i", "new-2", now + absl::Hours(1)));
  EXPECT_EQ(cache.CheckAndRemember("i", "new-3", now + absl::Hours(1)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(cache.CheckAndRemember("i", "long-1", now + absl::Hours(1)).ok());
}

TEST_F(ReplayCacheTest, ExactlyOneOfConcurrentUsesWins) {
  ReplayCache cache(&clock_);
  const absl::Time forget = clock_.Now() + absl::Minutes(5);
  std::atomic<int> accepted{0};
  std::atomic<int> distinct_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      if (cache.CheckAndRemember("github", "shared", forget).ok()) ++accepted;
      for (int i = 0; i < 500; ++i) {
        if (cache.CheckAndRemember("github", absl::StrCat(t, "-", i), forget).ok()) ++distinct_ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(distinct_ok.load(), 8 * 500);
  EXPECT_EQ(cache.size(), 8u * 500 + 1);
}

}  // namespace
}  // namespace writ::issuer

#include "writ/client/token_cache.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_test_util.h"

namespace writ {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Every wait in these tests is bounded by this much real time, so a broken
// cache fails a test instead of hanging it. Nothing sleeps for it when the
// cache works.
constexpr absl::Duration kTestDeadline = absl::Seconds(10);

// FakeIssuer is a TokenFetch that mints "token-<n>" tokens living
// `lifetime` from the FakeClock's now, counts calls, and can fail or hold
// calls (for an audience, or all) until released. Thread-safe.
class FakeIssuer {
 public:
  explicit FakeIssuer(FakeClock* clock) : clock_(clock) {}

  TokenFetch fetch() {
    return [this](const TokenRequest& request) { return Fetch(request); };
  }

  absl::StatusOr<Token> Fetch(const TokenRequest& request) {
    absl::MutexLock lock(&mu_);
    const int n = ++calls_;
    ++calls_by_audience_[request.audience];
    last_request_ = request;
    cv_.SignalAll();
    const absl::Time deadline = absl::Now() + kTestDeadline;
    while ((hold_all_ || held_.count(request.audience) > 0) && absl::Now() < deadline) {
      cv_.WaitWithDeadline(&mu_, deadline);
    }
    if (!status_.ok()) return status_;
    Token token;
    token.access_token = absl::StrCat("token-", n);
    token.token_type = "Bearer";
    token.scopes = request.scopes;
    token.issued_at = clock_->Now();
    token.expires_at = token.issued_at + lifetime_;
    audience_of_[token.access_token] = request.audience;
    return token;
  }

  void Hold(const std::string& audience) {
    absl::MutexLock lock(&mu_);
    held_.insert(audience);
  }
  void HoldAll() {
    absl::MutexLock lock(&mu_);
    hold_all_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_.clear();
    hold_all_ = false;
    cv_.SignalAll();
  }
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
  }
  void Succeed() { Fail(absl::OkStatus()); }
  void set_lifetime(absl::Duration lifetime) {
    absl::MutexLock lock(&mu_);
    lifetime_ = lifetime;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  int calls(const std::string& audience) {
    absl::MutexLock lock(&mu_);
    return calls_by_audience_[audience];
  }
  // audience_of returns the audience a token was minted for.
  std::string audience_of(const std::string& access_token) {
    absl::MutexLock lock(&mu_);
    return audience_of_[access_token];
  }
  TokenRequest last_request() {
    absl::MutexLock lock(&mu_);
    return last_request_;
  }
  // WaitForCalls returns whether `n` calls have started within the deadline.
  bool WaitForCalls(int n) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + kTestDeadline;
    while (calls_ < n && absl::Now() < deadline) cv_.WaitWithDeadline(&mu_, deadline);
    return calls_ >= n;
  }

 private:
  FakeClock* const clock_;
  absl::Mutex mu_;
  absl::CondVar cv_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> calls_by_audience_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> audience_of_ ABSL_GUARDED_BY(mu_);
  TokenRequest last_request_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> held_ ABSL_GUARDED_BY(mu_);
  bool hold_all_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  absl::Duration lifetime_ ABSL_GUARDED_BY(mu_) = absl::Minutes(30);
};

// Eventually polls `done` until it is true or the deadline passes.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + kTestDeadline;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TokenRequest Request(std::string audience, std::vector<std::string> scopes = {"read"}) {
  TokenRequest request;
  request.audience = std::move(audience);
  request.scopes = std::move(scopes);
  return request;
}

const absl::Status kRefused =
    absl::PermissionDeniedError("writ refused: invalid_scope: deploy:write is not granted");

class TokenCacheTest : public ::testing::Test {
 protected:
  // Options without jitter (refresh exactly at 2/3) on the fake clock.
  TokenCacheOptions Options(bool background) {
    TokenCacheOptions options;
    options.clock = &clock_;
    options.background_refresh = background;
    options.jitter = 0;
    return options;
  }
  std::unique_ptr<TokenCache> NewCache(const TokenCacheOptions& options) {
    auto cache = TokenCache::New(issuer_.fetch(), options);
    EXPECT_OK(cache);
    return cache.ok() ? std::move(cache).value() : nullptr;
  }
  // GetToken returns the access token Get returned, or "error: <status>".
  static std::string GetToken(TokenCache& cache, const TokenRequest& request) {
    absl::StatusOr<Token> token = cache.Get(request);
    return token.ok() ? token->access_token : absl::StrCat("error: ", token.status().ToString());
  }
  void SetTime(absl::Duration since_t0) { clock_.Set(t0_ + since_t0); }

  const absl::Time t0_ = absl::FromUnixSeconds(1700000000);
  FakeClock clock_{t0_};
  FakeIssuer issuer_{&clock_};
};

// ---- Keys ----

TEST(TokenRequestKeyTest, IgnoresScopeOrder) {
  EXPECT_EQ(Request("aud", {"a", "b", "c"}).Key(), Request("aud", {"c", "a", "b"}).Key());
}

TEST(TokenRequestKeyTest, SeparatesEveryField) {
  const TokenRequest base = Request("https://rp.example", {"read"});
  std::set<std::string> keys = {base.Key()};
  TokenRequest other = base;
  other.audience = "https://other.example";
  keys.insert(other.Key());
  other = base;
  other.scopes = {"write"};
  keys.insert(other.Key());
  other = base;
  other.scopes = {"read", "read"};  // A scope named twice counts twice.
  keys.insert(other.Key());
  other = base;
  other.scopes = {};
  keys.insert(other.Key());
  other = base;
  other.lifetime = absl::ZeroDuration();  // Set to zero differs from unset.
  keys.insert(other.Key());
  other.lifetime = absl::Minutes(5);
  keys.insert(other.Key());
  other = base;
  other.actor_token = "actor-a";
  keys.insert(other.Key());
  other.actor_token = "actor-b";
  keys.insert(other.Key());
  EXPECT_EQ(keys.size(), 9u);
  // The same fields give the same key.
  TokenRequest same = base;
  EXPECT_EQ(same.Key(), base.Key());
}

TEST(TokenRequestKeyTest, FieldBoundariesCannotBeForged) {
  EXPECT_NE(Request("ab", {"c"}).Key(), Request("a", {"bc"}).Key());
  EXPECT_NE(Request("a", {"b c"}).Key(), Request("a", {"b", "c"}).Key());
  EXPECT_NE(Request("a", {"b", ""}).Key(), Request("a", {"b"}).Key());
  EXPECT_NE(Request("a|1|1:b", {}).Key(), Request("a", {"b"}).Key());
  EXPECT_NE(Request("1:a", {}).Key(), Request("", {"a"}).Key());
}

TEST(TokenRequestKeyTest, HoldsNoActorToken) {
  TokenRequest request = Request("aud");
  request.actor_token = "eyJhbGciOiJFUzI1NiJ9.secret-actor-token.sig";
  EXPECT_THAT(request.Key(), Not(HasSubstr("secret-actor-token")));
}

// ---- Hits, keys, errors ----

TEST_F(TokenCacheTest, SecondGetIsAHit) {
  auto cache = NewCache(Options(false));
  ASSERT_OK_AND_ASSIGN(Token first, cache->Get(Request("aud")));
  clock_.Advance(absl::Minutes(5));
  ASSERT_OK_AND_ASSIGN(Token second, cache->Get(Request("aud")));
  EXPECT_EQ(first.access_token, "token-1");
  EXPECT_EQ(second.access_token, "token-1");
  EXPECT_EQ(second.expires_at, t0_ + absl::Minutes(30));
  EXPECT_EQ(issuer_.calls(), 1);
  const TokenCache::Stats stats = cache->stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.fetches, 1u);
  EXPECT_EQ(stats.entries, 1u);
}

TEST_F(TokenCacheTest, RequestsShareATokenExactlyWhenTheirKeysMatch) {
  auto cache = NewCache(Options(false));
  EXPECT_EQ(GetToken(*cache, Request("aud", {"a", "b"})), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("aud", {"b", "a"})), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("other", {"a", "b"})), "token-2");
  EXPECT_EQ(GetToken(*cache, Request("aud", {"a"})), "token-3");
  TokenRequest with_lifetime = Request("aud", {"a", "b"});
  with_lifetime.lifetime = absl::Minutes(5);
  EXPECT_EQ(GetToken(*cache, with_lifetime), "token-4");
  TokenRequest with_actor = Request("aud", {"a", "b"});
  with_actor.actor_token = "actor";
  EXPECT_EQ(GetToken(*cache, with_actor), "token-5");
  EXPECT_EQ(GetToken(*cache, with_actor), "token-5");
  EXPECT_EQ(issuer_.calls(), 5);
  EXPECT_EQ(issuer_.last_request().actor_token, "actor");
}

TEST_F(TokenCacheTest, FetchErrorIsReturnedUnchangedAndNotCached) {
  auto cache = NewCache(Options(false));
  issuer_.Fail(kRefused);
  absl::StatusOr<Token> token = cache->Get(Request("aud"));
  EXPECT_EQ(token.status(), kRefused);
  EXPECT_EQ(cache->stats().entries, 0u);
  issuer_.Succeed();
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-2");
  EXPECT_EQ(cache->stats().failures, 1u);
}

TEST_F(TokenCacheTest, ShortLivedTokenIsReturnedButNotReused) {
  issuer_.set_lifetime(absl::Seconds(20));  // Less than min_remaining (30 s).
  auto cache = NewCache(Options(false));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-2");
  EXPECT_EQ(cache->stats().hits, 0u);
}

TEST_F(TokenCacheTest, ShortLivedTokenIsNotRefreshedInTheBackground) {
  issuer_.set_lifetime(absl::Seconds(20));  // Less than min_remaining (30 s).
  TokenCacheOptions options = Options(true);
  options.drop_idle_keys = false;
  auto cache = NewCache(options);
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  for (int i = 0; i < 5; ++i) {
    cache->RunDueRefreshesForTesting();
    SetTime(absl::Seconds(i));
  }
  EXPECT_EQ(issuer_.calls(), 1);
  EXPECT_EQ(cache->stats().background_refreshes, 0u);
}

// ---- Refresh points ----

TEST_F(TokenCacheTest, RefreshPointsSpreadWithinJitter) {
  TokenCacheOptions options = Options(false);
  options.jitter = 0.05;
  auto cache = NewCache(options);
  constexpr int kKeys = 200;
  const absl::Duration lifetime = absl::Minutes(30);
  for (int i = 0; i < kKeys; ++i) ASSERT_OK(cache->Get(Request(absl::StrCat("aud-", i))));
  ASSERT_EQ(issuer_.calls(), kKeys);
  auto refreshed_by = [&](absl::Duration since_t0) {
    SetTime(since_t0);
    for (int i = 0; i < kKeys; ++i) EXPECT_OK(cache->Get(Request(absl::StrCat("aud-", i))));
    return issuer_.calls() - kKeys;
  };
  // Before 2/3 - j: no key refreshed. At 2/3: some, not all. At 2/3 + j: all.
  EXPECT_EQ(refreshed_by(lifetime * (2.0 / 3 - 0.05) - absl::Nanoseconds(1)), 0);
  const int at_two_thirds = refreshed_by(lifetime * (2.0 / 3));
  EXPECT_GT(at_two_thirds, 0);
  EXPECT_LT(at_two_thirds, kKeys);
  EXPECT_EQ(refreshed_by(lifetime * (2.0 / 3 + 0.05)), kKeys);
}

TEST_F(TokenCacheTest, RefreshesExactlyAtTwoThirdsWithoutJitter) {
  auto cache = NewCache(Options(false));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(20) - absl::Nanoseconds(1));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(20));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-2");
}

TEST_F(TokenCacheTest, RefreshPointLeavesMinRemaining) {
  issuer_.set_lifetime(absl::Seconds(60));  // 2/3 would leave only 20 s.
  auto cache = NewCache(Options(false));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Seconds(30) - absl::Nanoseconds(1));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Seconds(30));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-2");
}

TEST_F(TokenCacheTest, FailedInlineRefreshServesOldTokenAndBacksOff) {
  auto cache = NewCache(Options(false));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  issuer_.Fail(kRefused);
  SetTime(absl::Minutes(20));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  EXPECT_EQ(issuer_.calls(), 2);
  clock_.Advance(absl::Seconds(1) - absl::Nanoseconds(1));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  EXPECT_EQ(issuer_.calls(), 2);  // Within the 1 s backoff.
  clock_.Advance(absl::Nanoseconds(1));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  EXPECT_EQ(issuer_.calls(), 3);
  EXPECT_EQ(cache->stats().failures, 2u);
}

// ---- Background refresh ----

TEST_F(TokenCacheTest, BackgroundRefreshReplacesTokenWithoutBlockingGet) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(10));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");  // Asked for: not idle.
  issuer_.HoldAll();
  SetTime(absl::Minutes(20));
  cache->WakeRefresherForTesting();
  ASSERT_TRUE(issuer_.WaitForCalls(2));
  // The refresh is held inside the fetch; Get still answers at once.
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  issuer_.Release();
  ASSERT_TRUE(Eventually([&] { return cache->stats().background_refreshes == 1; }));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-2");
  EXPECT_EQ(issuer_.calls(), 2);
  EXPECT_EQ(issuer_.last_request().audience, "aud");
  EXPECT_EQ(cache->stats().waits, 0u);
}

TEST_F(TokenCacheTest, FailedBackgroundRefreshServesOldTokenUntilMinRemaining) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(10));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  issuer_.Fail(kRefused);
  SetTime(absl::Minutes(20));
  cache->RunDueRefreshesForTesting();
  EXPECT_EQ(issuer_.calls(), 2);
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  // Retries back off 1 s, 2 s, 4 s ... up to 30 s.
  int calls = 2;
  for (int seconds : {1, 2, 4, 8, 16, 30, 30}) {
    clock_.Advance(absl::Seconds(seconds) - absl::Milliseconds(1));
    cache->RunDueRefreshesForTesting();
    EXPECT_EQ(issuer_.calls(), calls) << "retried before " << seconds << " s";
    clock_.Advance(absl::Milliseconds(1));
    cache->RunDueRefreshesForTesting();
    EXPECT_EQ(issuer_.calls(), ++calls) << "not retried after " << seconds << " s";
  }
  // Exactly min_remaining left: still served.
  SetTime(absl::Minutes(30) - absl::Seconds(30));
  cache->RunDueRefreshesForTesting();
  calls = issuer_.calls();
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  // Less left: the Get fetches and gets the issuer's error as it was.
  clock_.Advance(absl::Nanoseconds(1));
  cache->RunDueRefreshesForTesting();
  EXPECT_EQ(issuer_.calls(), calls);
  EXPECT_EQ(cache->Get(Request("aud")).status(), kRefused);
  EXPECT_EQ(issuer_.calls(), calls + 1);
  issuer_.Succeed();
  EXPECT_EQ(GetToken(*cache, Request("aud")), absl::StrCat("token-", calls + 2));
}

TEST_F(TokenCacheTest, GetJoinsBackgroundRefreshWhenTokenRunsOut) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(10));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  issuer_.HoldAll();
  SetTime(absl::Minutes(20));
  cache->WakeRefresherForTesting();
  ASSERT_TRUE(issuer_.WaitForCalls(2));
  SetTime(absl::Minutes(30) - absl::Seconds(29));  // Below min_remaining.
  std::string got;
  std::thread getter([&] { got = GetToken(*cache, Request("aud")); });
  EXPECT_TRUE(Eventually([&] { return cache->stats().waits == 1; }));
  issuer_.Release();
  getter.join();
  EXPECT_EQ(got, "token-2");
  EXPECT_EQ(issuer_.calls(), 2);
}

TEST_F(TokenCacheTest, IdleKeyIsNotRefreshedAndIsDroppedAfterExpiry) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(25));
  cache->RunDueRefreshesForTesting();
  EXPECT_EQ(issuer_.calls(), 1);
  EXPECT_EQ(cache->stats().entries, 1u);
  SetTime(absl::Minutes(30));
  cache->RunDueRefreshesForTesting();
  EXPECT_EQ(cache->stats().entries, 0u);
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-2");
}

TEST_F(TokenCacheTest, UsedKeyIsRefreshedUntilItGoesIdle) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(1));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(20));
  cache->RunDueRefreshesForTesting();
  EXPECT_EQ(issuer_.calls(), 2);
  // Nobody asked for token-2: it is not refreshed at its own 2/3.
  SetTime(absl::Minutes(45));
  cache->RunDueRefreshesForTesting();
  EXPECT_EQ(issuer_.calls(), 2);
  EXPECT_EQ(cache->stats().background_refreshes, 1u);
}

TEST_F(TokenCacheTest, KeysAreKeptFreshWhenIdleKeysAreNotDropped) {
  TokenCacheOptions options = Options(true);
  options.drop_idle_keys = false;
  auto cache = NewCache(options);
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  for (int refresh = 1; refresh <= 3; ++refresh) {
    SetTime(absl::Minutes(20) * refresh);
    cache->RunDueRefreshesForTesting();
    EXPECT_EQ(issuer_.calls(), 1 + refresh);
  }
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-4");
}

TEST_F(TokenCacheTest, EachKeyIsRefreshedAtItsOwnPoint) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("slow")), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("slow")), "token-1");
  issuer_.set_lifetime(absl::Minutes(3));
  EXPECT_EQ(GetToken(*cache, Request("fast")), "token-2");
  EXPECT_EQ(GetToken(*cache, Request("fast")), "token-2");
  SetTime(absl::Minutes(2));
  cache->RunDueRefreshesForTesting();
  EXPECT_EQ(issuer_.calls("fast"), 2);
  EXPECT_EQ(issuer_.calls("slow"), 1);
}

// ---- Concurrency ----

TEST_F(TokenCacheTest, ConcurrentGetsForAColdKeyShareOneFetch) {
  auto cache = NewCache(Options(false));
  issuer_.HoldAll();
  constexpr int kThreads = 8;
  std::vector<std::string> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { got[i] = GetToken(*cache, Request("aud")); });
  }
  EXPECT_TRUE(Eventually([&] { return cache->stats().waits == kThreads - 1; }));
  issuer_.Release();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(issuer_.calls(), 1);
  for (const std::string& token : got) EXPECT_EQ(token, "token-1");
}

TEST_F(TokenCacheTest, ConcurrentGetsForAColdKeyShareOneError) {
  auto cache = NewCache(Options(false));
  issuer_.Fail(kRefused);
  issuer_.HoldAll();
  constexpr int kThreads = 8;
  std::vector<absl::Status> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { got[i] = cache->Get(Request("aud")).status(); });
  }
  EXPECT_TRUE(Eventually([&] { return cache->stats().waits == kThreads - 1; }));
  issuer_.Release();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(issuer_.calls(), 1);
  for (const absl::Status& status : got) EXPECT_EQ(status, kRefused);
  EXPECT_EQ(cache->stats().failures, 1u);
}

TEST_F(TokenCacheTest, SlowKeyDoesNotBlockAnother) {
  auto cache = NewCache(Options(false));
  issuer_.Hold("slow");
  std::string slow;
  std::thread slow_getter([&] { slow = GetToken(*cache, Request("slow")); });
  ASSERT_TRUE(issuer_.WaitForCalls(1));
  EXPECT_EQ(GetToken(*cache, Request("fast")), "token-2");  // Returns while "slow" is held.
  issuer_.Release();
  slow_getter.join();
  EXPECT_EQ(slow, "token-1");
}

TEST_F(TokenCacheTest, ManyThreadsOnFewKeysStayConsistent) {
  TokenCacheOptions options = Options(true);
  options.max_entries = 4;
  auto cache = NewCache(options);
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop) {
      clock_.Advance(absl::Seconds(7));
      cache->WakeRefresherForTesting();
      absl::SleepFor(absl::Microseconds(100));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const TokenRequest request = Request(absl::StrCat("aud-", (t + i) % 7));
        absl::StatusOr<Token> token = cache->Get(request);
        EXPECT_OK(token);
        if (token.ok()) {
          EXPECT_EQ(issuer_.audience_of(token->access_token), request.audience);
        }
        if (i % 50 == 0) cache->Invalidate(request);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  stop = true;
  ticker.join();
  const TokenCache::Stats stats = cache->stats();
  EXPECT_LE(stats.entries, 4u);
  EXPECT_EQ(stats.fetches, static_cast<uint64_t>(issuer_.calls()));
  EXPECT_EQ(stats.failures, 0u);
}

// ---- Invalidate and eviction ----

TEST_F(TokenCacheTest, InvalidateMakesTheNextGetFetch) {
  auto cache = NewCache(Options(false));
  EXPECT_EQ(GetToken(*cache, Request("aud", {"a", "b"})), "token-1");
  cache->Invalidate(Request("aud", {"b", "a"}));  // Same key.
  EXPECT_EQ(cache->stats().entries, 0u);
  EXPECT_EQ(GetToken(*cache, Request("aud", {"a", "b"})), "token-2");
  cache->Invalidate(Request("never-asked"));  // Nothing to forget.
  EXPECT_EQ(GetToken(*cache, Request("aud", {"a", "b"})), "token-2");
}

TEST_F(TokenCacheTest, InvalidateDuringAFetchKeepsItsToken) {
  auto cache = NewCache(Options(false));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(20));
  issuer_.HoldAll();
  std::string refreshed;
  std::thread refresher([&] { refreshed = GetToken(*cache, Request("aud")); });
  ASSERT_TRUE(issuer_.WaitForCalls(2));
  cache->Invalidate(Request("aud"));
  std::string waiter;
  std::thread waiting([&] { waiter = GetToken(*cache, Request("aud")); });
  EXPECT_TRUE(Eventually([&] { return cache->stats().waits == 1; }));  // Not token-1.
  issuer_.Release();
  refresher.join();
  waiting.join();
  EXPECT_EQ(refreshed, "token-2");
  EXPECT_EQ(waiter, "token-2");
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-2");
  EXPECT_EQ(issuer_.calls(), 2);
}

TEST_F(TokenCacheTest, EvictsTheLeastRecentlyUsedKeyPastMaxEntries) {
  TokenCacheOptions options = Options(false);
  options.max_entries = 2;
  auto cache = NewCache(options);
  EXPECT_EQ(GetToken(*cache, Request("a")), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("b")), "token-2");
  EXPECT_EQ(GetToken(*cache, Request("a")), "token-1");  // "b" is now the oldest.
  EXPECT_EQ(GetToken(*cache, Request("c")), "token-3");  // Drops "b".
  EXPECT_EQ(cache->stats().entries, 2u);
  EXPECT_EQ(GetToken(*cache, Request("a")), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("b")), "token-4");  // Drops "c".
  EXPECT_EQ(GetToken(*cache, Request("a")), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("c")), "token-5");
  EXPECT_EQ(issuer_.calls(), 5);
}

// ---- Lifetime of the cache ----

TEST_F(TokenCacheTest, DestructorWaitsForTheRefreshInFlightAndReturns) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  SetTime(absl::Minutes(10));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  issuer_.HoldAll();
  SetTime(absl::Minutes(20));
  cache->WakeRefresherForTesting();
  ASSERT_TRUE(issuer_.WaitForCalls(2));
  absl::Notification destroyed;
  std::thread destroyer([&] {
    cache.reset();
    destroyed.Notify();
  });
  // It cannot return while the refresh it must wait for is held.
  EXPECT_FALSE(destroyed.WaitForNotificationWithTimeout(absl::Milliseconds(50)));
  issuer_.Release();
  EXPECT_TRUE(destroyed.WaitForNotificationWithTimeout(kTestDeadline));
  destroyer.join();
  EXPECT_EQ(issuer_.calls(), 2);  // Nothing started after the destructor.
}

TEST_F(TokenCacheTest, DestructorWakesASleepingRefresher) {
  auto cache = NewCache(Options(true));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  cache->RunDueRefreshesForTesting();  // Asleep until the 20 min refresh point.
  const absl::Time start = absl::Now();
  cache.reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// ---- Construction ----

TEST_F(TokenCacheTest, NewRejectsOutOfRangeOptions) {
  struct Case {
    std::string field;
    std::function<void(TokenCacheOptions&)> set;
  };
  const std::vector<Case> cases = {
      {"refresh_at", [](TokenCacheOptions& o) { o.refresh_at = 0; }},
      {"refresh_at", [](TokenCacheOptions& o) { o.refresh_at = 1; }},
      {"refresh_at", [](TokenCacheOptions& o) { o.refresh_at = -0.5; }},
      {"refresh_at", [](TokenCacheOptions& o) { o.refresh_at = std::nan(""); }},
      {"jitter", [](TokenCacheOptions& o) { o.jitter = -0.01; }},
      {"jitter", [](TokenCacheOptions& o) { o.jitter = std::nan(""); }},
      {"jitter",
       [](TokenCacheOptions& o) {
         o.refresh_at = 0.1;
         o.jitter = 0.11;
       }},
      {"jitter",
       [](TokenCacheOptions& o) {
         o.refresh_at = 0.9;
         o.jitter = 0.11;
       }},
      {"min_remaining", [](TokenCacheOptions& o) { o.min_remaining = absl::Seconds(-1); }},
      {"min_remaining", [](TokenCacheOptions& o) { o.min_remaining = absl::InfiniteDuration(); }},
      {"max_entries", [](TokenCacheOptions& o) { o.max_entries = 0; }},
  };
  for (const Case& c : cases) {
    TokenCacheOptions options = Options(true);
    c.set(options);
    auto cache = TokenCache::New(issuer_.fetch(), options);
    EXPECT_EQ(cache.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(cache.status().message(), HasSubstr(c.field));
  }
  // The edges of the ranges are accepted.
  TokenCacheOptions edges = Options(true);
  edges.refresh_at = 0.5;
  edges.jitter = 0.5;
  edges.min_remaining = absl::ZeroDuration();
  edges.max_entries = 1;
  EXPECT_OK(TokenCache::New(issuer_.fetch(), edges));
}

TEST_F(TokenCacheTest, NewRejectsAMissingFetchOrClient) {
  auto no_fetch = TokenCache::New(TokenFetch(), Options(true));
  EXPECT_EQ(no_fetch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_fetch.status().message(), HasSubstr("fetch"));
  auto no_client = TokenCache::New(static_cast<Client*>(nullptr), Options(true));
  EXPECT_EQ(no_client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_client.status().message(), HasSubstr("client"));
}

// FakeClient answers ExchangeToken from a FakeIssuer; nothing else is used.
class FakeClient : public Client {
 public:
  explicit FakeClient(FakeIssuer* issuer) : issuer_(issuer) {}
  absl::StatusOr<Token> ExchangeToken(const TokenRequest& request) override {
    return issuer_->Fetch(request);
  }
  absl::StatusOr<X509SvidReply> MintX509Svid(absl::string_view,
                                             std::optional<absl::Duration>) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::StatusOr<SshCertificateReply> MintSshCertificate(absl::string_view,
                                                         const std::vector<std::string>&,
                                                         std::optional<absl::Duration>) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::StatusOr<std::string> FetchBundlePem() override {
    return absl::UnimplementedError("not in this test");
  }
  const std::string& issuer_url() const override { return url_; }

 private:
  FakeIssuer* const issuer_;
  const std::string url_ = "https://writ.example";
};

TEST_F(TokenCacheTest, NewWithAClientExchangesThroughIt) {
  FakeClient client(&issuer_);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TokenCache> cache, TokenCache::New(&client, Options(false)));
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  EXPECT_EQ(GetToken(*cache, Request("aud")), "token-1");
  issuer_.Fail(kRefused);
  EXPECT_EQ(cache->Get(Request("other")).status(), kRefused);
  EXPECT_EQ(issuer_.calls(), 2);
}

}  // namespace
}  // namespace writ

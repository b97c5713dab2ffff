#include "writ/net/jwks_source.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/keys.h"

namespace writ {
namespace {

using ::testing::HasSubstr;

constexpr char kIssuer[] = "https://ci.example";
constexpr char kDiscovery[] = "https://ci.example/.well-known/openid-configuration";
constexpr char kJwksUri[] = "https://ci.example/keys";

// Jwks returns a JWKS with one fresh P-256 key under `kid`.
std::string Jwks(absl::string_view kid) {
  auto key = GenerateKey(KeySpec::kEcP256);
  EXPECT_TRUE(key.ok());
  auto jwk = PublicJwk::FromKey(key->get(), JwsAlgorithm::kEs256, kid);
  EXPECT_TRUE(jwk.ok());
  return absl::StrCat("{\"keys\":[", jwk->ToJson(), "]}");
}

std::string Discovery(absl::string_view issuer, absl::string_view jwks_uri) {
  return absl::StrCat(R"({"issuer":")", issuer, R"(","jwks_uri":")", jwks_uri, R"("})");
}

// ScriptedFetcher answers from a URL -> response table and counts requests.
// When `gate` is set, every Get waits on it first. Thread-safe.
class ScriptedFetcher : public HttpFetcher {
 public:
  absl::StatusOr<HttpResponse> Fetch(const HttpRequest& request, const FetchLimits&) override {
    const absl::string_view url = request.url;
    {
      absl::MutexLock lock(&mu_);
      ++counts_[std::string(url)];
    }
    if (gate_ != nullptr) {
      if (!entered_.HasBeenNotified()) entered_.Notify();
      gate_->WaitForNotificationWithTimeout(absl::Seconds(10));
    }
    absl::MutexLock lock(&mu_);
    auto it = table_.find(std::string(url));
    if (it == table_.end()) return absl::UnavailableError(absl::StrCat("no route to ", url));
    return it->second;
  }
  void Set(absl::string_view url, long status, std::string body) {
    absl::MutexLock lock(&mu_);
    table_[std::string(url)] = HttpResponse{status, std::move(body)};
  }
  void Remove(absl::string_view url) {
    absl::MutexLock lock(&mu_);
    table_.erase(std::string(url));
  }
  int count(absl::string_view url) {
    absl::MutexLock lock(&mu_);
    return counts_[std::string(url)];
  }
  absl::Notification* gate_ = nullptr;
  absl::Notification entered_;

 private:
  absl::Mutex mu_;
  std::map<std::string, HttpResponse> table_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

class JwksSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.label = "trusted issuer \"ci\"";
    config_.issuer = kIssuer;
    fetcher_.Set(kDiscovery, 200, Discovery(kIssuer, kJwksUri));
    fetcher_.Set(kJwksUri, 200, Jwks("k1"));
  }
  std::unique_ptr<JwksSource> NewKeys() {
    auto keys = JwksSource::New(config_, &fetcher_, &clock_);
    EXPECT_TRUE(keys.ok()) << keys.status();
    return keys.ok() ? *std::move(keys) : nullptr;
  }
  void ExpectUnavailable(JwksSource& keys, absl::string_view part) {
    auto got = keys.Keys();
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string(part)));
  }

  JwksSourceOptions config_;
  ScriptedFetcher fetcher_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
};

TEST_F(JwksSourceTest, DiscoversThenCachesForTtl) {
  auto keys = NewKeys();
  ASSERT_OK_AND_ASSIGN(auto set, keys->Keys());
  EXPECT_NE(set->Find("k1"), nullptr);
  clock_.Advance(config_.jwks_ttl - absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(auto same, keys->Keys());
  EXPECT_EQ(same, set);
  EXPECT_EQ(fetcher_.count(kDiscovery), 1);
  EXPECT_EQ(fetcher_.count(kJwksUri), 1);
  // After the TTL both discovery and the JWKS are fetched again.
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(auto fresh, keys->Keys());
  EXPECT_NE(fresh, set);
  EXPECT_EQ(fetcher_.count(kDiscovery), 2);
  EXPECT_EQ(fetcher_.count(kJwksUri), 2);
}

TEST_F(JwksSourceTest, IssuerWithTrailingSlashDiscoversWithoutDoubleSlash) {
  config_.issuer = "https://ci.example/";
  fetcher_.Set(kDiscovery, 200, Discovery("https://ci.example/", kJwksUri));
  auto keys = NewKeys();
  ASSERT_OK(keys->Keys());
  EXPECT_EQ(fetcher_.count(kDiscovery), 1);
}

TEST_F(JwksSourceTest, RefusesBadDiscoveryDocuments) {
  struct Case {
    long status;
    std::string body;
    const char* message;
  } cases[] = {
      {200, Discovery("https://ci.example/other", kJwksUri), "names issuer"},
      {200, Discovery(kIssuer, "http://keys.example/jwks"), "unacceptable jwks_uri"},
      {200, Discovery(kIssuer, "http://127.0.0.1:9000/admin"), "loopback host"},
      {200, Discovery(kIssuer, "https://localhost/keys"), "loopback host"},
      {200, R"({"issuer":"https://ci.example"})", "no \"jwks_uri\""},
      {200, R"({"jwks_uri":"https://ci.example/keys"})", "no \"issuer\""},
      {200, "<html>", "not a JSON object"},
      {500, "", "HTTP 500"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    fetcher_.Set(kDiscovery, c.status, c.body);
    auto keys = NewKeys();
    ExpectUnavailable(*keys, c.message);
    ExpectUnavailable(*keys, "keys of trusted issuer \"ci\"");
  }
  EXPECT_EQ(fetcher_.count(kJwksUri), 0);
}

TEST_F(JwksSourceTest, BadJwksKeepsLastGoodKeysWithinStaleBound) {
  auto keys = NewKeys();
  ASSERT_OK_AND_ASSIGN(auto good, keys->Keys());
  fetcher_.Set(kJwksUri, 200, R"({"keys":[]})");
  clock_.Advance(config_.jwks_ttl);
  ASSERT_OK_AND_ASSIGN(auto stale, keys->Keys());
  EXPECT_EQ(stale, good);
  EXPECT_THAT(keys->State().last_error, HasSubstr("no usable verification key"));
  fetcher_.Set(kJwksUri, 200, "not json");
  clock_.Advance(config_.refresh_cooldown);
  ASSERT_OK_AND_ASSIGN(stale, keys->Keys());
  EXPECT_EQ(stale, good);
  EXPECT_THAT(keys->State().last_error, HasSubstr("is invalid"));
}

TEST_F(JwksSourceTest, FailedFetchIsRetriedOnlyAfterCooldown) {
  fetcher_.Set(kDiscovery, 503, "");
  auto keys = NewKeys();
  for (int i = 0; i < 10; ++i) ExpectUnavailable(*keys, "HTTP 503");
  EXPECT_EQ(fetcher_.count(kDiscovery), 1);
  clock_.Advance(config_.refresh_cooldown - absl::Seconds(1));
  ExpectUnavailable(*keys, "HTTP 503");
  EXPECT_EQ(fetcher_.count(kDiscovery), 1);
  fetcher_.Set(kDiscovery, 200, Discovery(kIssuer, kJwksUri));
  clock_.Advance(absl::Seconds(1));
  ASSERT_OK(keys->Keys());
  EXPECT_EQ(fetcher_.count(kDiscovery), 2);
}

TEST_F(JwksSourceTest, UnknownKidRefreshIsLimitedByCooldown) {
  auto keys = NewKeys();
  ASSERT_OK_AND_ASSIGN(auto first, keys->Keys());
  fetcher_.Set(kJwksUri, 200, Jwks("k2"));
  ASSERT_OK_AND_ASSIGN(auto second, keys->KeysAfterUnknownKid(first));
  EXPECT_NE(second->Find("k2"), nullptr);
  EXPECT_EQ(fetcher_.count(kJwksUri), 2);
  EXPECT_EQ(fetcher_.count(kDiscovery), 1);
  // A caller still holding the old set gets the new one without a fetch.
  ASSERT_OK_AND_ASSIGN(auto again, keys->KeysAfterUnknownKid(first));
  EXPECT_EQ(again, second);
  // Within the cooldown no further fetch.
  auto refused = keys->KeysAfterUnknownKid(second);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("refresh_cooldown"));
  EXPECT_EQ(fetcher_.count(kJwksUri), 2);
  clock_.Advance(config_.refresh_cooldown);
  ASSERT_OK(keys->KeysAfterUnknownKid(second));
  EXPECT_EQ(fetcher_.count(kJwksUri), 3);
}

TEST_F(JwksSourceTest, UnknownKidRefreshFailureIsUnavailable) {
  auto keys = NewKeys();
  ASSERT_OK_AND_ASSIGN(auto first, keys->Keys());
  fetcher_.Set(kJwksUri, 502, "");
  auto got = keys->KeysAfterUnknownKid(first);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  ASSERT_OK_AND_ASSIGN(auto still, keys->Keys());  // fresh keys are untouched
  EXPECT_EQ(still, first);
}

TEST_F(JwksSourceTest, StaticJwksNeverFetches) {
  config_.static_jwks = Jwks("s1");
  auto keys = JwksSource::New(config_, nullptr, &clock_);
  ASSERT_OK(keys);
  clock_.Advance(absl::Hours(100));
  ASSERT_OK_AND_ASSIGN(auto set, (*keys)->Keys());
  EXPECT_NE(set->Find("s1"), nullptr);
  EXPECT_EQ((*keys)->KeysAfterUnknownKid(set).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE((*keys)->State().ready);
  EXPECT_EQ((*keys)->State().source, "static_jwks");
}

TEST_F(JwksSourceTest, ConfiguredJwksUriSkipsDiscovery) {
  config_.jwks_uri = kJwksUri;
  auto keys = NewKeys();
  ASSERT_OK(keys->Keys());
  EXPECT_EQ(fetcher_.count(kDiscovery), 0);
  EXPECT_EQ(fetcher_.count(kJwksUri), 1);
}

TEST_F(JwksSourceTest, ConcurrentColdCallersShareOneFetchAndStateNeverBlocks) {
  absl::Notification gate;
  fetcher_.gate_ = &gate;
  auto keys = NewKeys();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (keys->Keys().ok()) ++ok;
    });
  }
  fetcher_.entered_.WaitForNotification();
  const JwksSourceState during = keys->State();  // the fetch is in flight
  EXPECT_FALSE(during.ready);
  EXPECT_EQ(during.fetches, 1u);
  gate.Notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(fetcher_.count(kDiscovery), 1);
  EXPECT_EQ(fetcher_.count(kJwksUri), 1);
}

TEST_F(JwksSourceTest, AtMostSixteenCallersWaitForASlowFetch) {
  absl::Notification gate;
  fetcher_.gate_ = &gate;
  auto keys = NewKeys();
  std::atomic<int> ok{0}, unavailable{0};
  auto call = [&] {
    absl::StatusOr<std::shared_ptr<const JwkSet>> k = keys->Keys();
    if (k.ok()) ++ok;
    if (k.status().code() == absl::StatusCode::kUnavailable) ++unavailable;
  };
  std::vector<std::thread> threads;
  threads.emplace_back(call);
  fetcher_.entered_.WaitForNotification();  // the first caller is fetching
  for (int i = 0; i < 39; ++i) threads.emplace_back(call);
  // 16 wait for the fetch; the other 23 are answered at once, while the
  // fetch is still held at the gate.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (unavailable.load() < 23 && absl::Now() < deadline) std::this_thread::yield();
  EXPECT_EQ(unavailable.load(), 23);
  gate.Notify();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 17);
  EXPECT_EQ(unavailable.load(), 23);
}

TEST_F(JwksSourceTest, StaleKeysServeWhileAnotherCallerRefreshes) {
  auto keys = NewKeys();
  ASSERT_OK_AND_ASSIGN(auto good, keys->Keys());
  clock_.Advance(config_.jwks_ttl);
  absl::Notification gate;
  fetcher_.gate_ = &gate;
  std::thread refresher([&] { EXPECT_OK(keys->Keys()); });
  fetcher_.entered_.WaitForNotification();
  // The refresh is stuck; this caller is not.
  ASSERT_OK_AND_ASSIGN(auto stale, keys->Keys());
  EXPECT_EQ(stale, good);
  gate.Notify();
  refresher.join();
}

TEST_F(JwksSourceTest, NotNowNeverFetchesAndChangesNothing) {
  auto keys = NewKeys();
  auto cold = keys->Keys(KeyFetch::kNotNow);  // nothing held yet
  EXPECT_EQ(cold.status().code(), absl::StatusCode::kAborted) << cold.status();
  EXPECT_THAT(std::string(cold.status().message()), HasSubstr("must be fetched first"));
  EXPECT_EQ(fetcher_.count(kDiscovery), 0);
  EXPECT_EQ(keys->State().fetches, 0u);
  ASSERT_OK_AND_ASSIGN(auto first, keys->Keys());
  // Fresh keys are answered as usual.
  ASSERT_OK_AND_ASSIGN(auto held, keys->Keys(KeyFetch::kNotNow));
  EXPECT_EQ(held, first);
  // An unknown kid would fetch: refused, and the cooldown is not spent, so
  // the caller that may fetch does.
  fetcher_.Set(kJwksUri, 200, Jwks("k2"));
  auto unknown = keys->KeysAfterUnknownKid(first, KeyFetch::kNotNow);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kAborted) << unknown.status();
  ASSERT_OK_AND_ASSIGN(auto second, keys->KeysAfterUnknownKid(first));
  EXPECT_NE(second->Find("k2"), nullptr);
  EXPECT_EQ(fetcher_.count(kJwksUri), 2);
  // Within the cooldown the answer needs no fetch: kNotFound, as without kNotNow.
  EXPECT_EQ(keys->KeysAfterUnknownKid(second, KeyFetch::kNotNow).status().code(),
            absl::StatusCode::kNotFound);
  // Past the TTL the keys must be refreshed: refused again.
  clock_.Advance(config_.jwks_ttl);
  EXPECT_EQ(keys->Keys(KeyFetch::kNotNow).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(fetcher_.count(kJwksUri), 2);
}

TEST_F(JwksSourceTest, NotNowServesStaleKeysWhileAnotherCallerRefreshes) {
  auto keys = NewKeys();
  ASSERT_OK_AND_ASSIGN(auto good, keys->Keys());
  clock_.Advance(config_.jwks_ttl);
  absl::Notification gate;
  fetcher_.gate_ = &gate;
  std::thread refresher([&] { EXPECT_OK(keys->Keys()); });
  fetcher_.entered_.WaitForNotification();
  ASSERT_OK_AND_ASSIGN(auto stale, keys->Keys(KeyFetch::kNotNow));
  EXPECT_EQ(stale, good);
  // A refresh for an unknown kid would wait for that fetch: refused.
  EXPECT_EQ(keys->KeysAfterUnknownKid(good, KeyFetch::kNotNow).status().code(),
            absl::StatusCode::kAborted);
  gate.Notify();
  refresher.join();
}

TEST_F(JwksSourceTest, NotNowAnswersAFailureInsideTheCooldownInline) {
  fetcher_.Set(kJwksUri, 502, "");
  auto keys = NewKeys();
  EXPECT_EQ(keys->Keys().status().code(), absl::StatusCode::kUnavailable);
  // Within the cooldown there is nothing to fetch: the same kUnavailable at
  // once, not a move to a thread that may fetch.
  auto got = keys->Keys(KeyFetch::kNotNow);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
  EXPECT_EQ(fetcher_.count(kJwksUri), 1);
}

TEST_F(JwksSourceTest, NotNowDuringAColdFetchAbortsUntilTheWaitersAreFull) {
  config_.max_fetch_waiters = 1;
  absl::Notification gate;
  fetcher_.gate_ = &gate;
  auto keys = NewKeys();
  std::thread fetcher([&] { EXPECT_OK(keys->Keys()); });
  fetcher_.entered_.WaitForNotification();
  // No keys held and a fetch in flight: a caller that may wait would wait.
  EXPECT_EQ(keys->Keys(KeyFetch::kNotNow).status().code(), absl::StatusCode::kAborted);
  std::thread waiter([&] { EXPECT_OK(keys->Keys()); });
  // Once max_fetch_waiters wait, kNotNow says "try again" itself.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusCode code = absl::StatusCode::kAborted;
  while (code == absl::StatusCode::kAborted && absl::Now() < deadline) {
    code = keys->Keys(KeyFetch::kNotNow).status().code();
    if (code == absl::StatusCode::kAborted) std::this_thread::yield();
  }
  EXPECT_EQ(code, absl::StatusCode::kUnavailable);
  auto busy = keys->Keys(KeyFetch::kNotNow);
  EXPECT_THAT(std::string(busy.status().message()), HasSubstr("being fetched; try again"));
  EXPECT_EQ(keys->Keys().status().code(), absl::StatusCode::kUnavailable);  // a second waiter
  gate.Notify();
  fetcher.join();
  waiter.join();
  EXPECT_EQ(fetcher_.count(kJwksUri), 1);
}

TEST_F(JwksSourceTest, NegativeMaxFetchWaitersIsRefused) {
  config_.max_fetch_waiters = -1;
  auto keys = JwksSource::New(config_, &fetcher_, &clock_);
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(keys.status().message()), HasSubstr("max_fetch_waiters"));
}

}  // namespace
}  // namespace writ

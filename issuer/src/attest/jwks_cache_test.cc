#include "issuer/src/attest/jwks_cache.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/keys.h"

namespace writ::issuer {
namespace {

constexpr char kIssuer[] = "https://ci.example";
constexpr char kJwksUri[] = "https://ci.example/keys";

std::string Jwks(absl::string_view kid) {
  auto key = GenerateKey(KeySpec::kEcP256);
  EXPECT_TRUE(key.ok());
  auto jwk = PublicJwk::FromKey(key->get(), JwsAlgorithm::kEs256, kid);
  EXPECT_TRUE(jwk.ok());
  return absl::StrCat("{\"keys\":[", jwk->ToJson(), "]}");
}

// CountingFetcher serves one JWKS and counts requests per URL.
class CountingFetcher : public HttpFetcher {
 public:
  absl::StatusOr<HttpResponse> Fetch(const HttpRequest& request, const FetchLimits&) override {
    absl::MutexLock lock(&mu_);
    ++counts_[request.url];
    if (request.url != kJwksUri) return absl::UnavailableError("no route");
    return HttpResponse{200, jwks_};
  }
  int count(const std::string& url) {
    absl::MutexLock lock(&mu_);
    return counts_[url];
  }

 private:
  absl::Mutex mu_;
  const std::string jwks_ = Jwks("k1");
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

class JwksCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.name = "ci";
    config_.issuer = kIssuer;
    config_.jwks_uri = kJwksUri;
    config_.audiences = {"writ"};
  }
  TrustedIssuerConfig config_;
  CountingFetcher fetcher_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
};

TEST_F(JwksCacheTest, KeySourceOptionsLabelTheIssuerByName) {
  const JwksSourceOptions o = KeySourceOptions(config_);
  EXPECT_EQ(o.label, "trusted issuer \"ci\"");
  EXPECT_EQ(o.jwks_uri, kJwksUri);
  EXPECT_EQ(o.jwks_ttl, config_.jwks_ttl);
}

TEST_F(JwksCacheTest, FewCallersWaitForOneIssuersFetch) {
  // Each waiter holds a work-pool thread; the pool is shared by all issuers.
  EXPECT_EQ(KeySourceOptions(config_).max_fetch_waiters, kMaxFetchWaitersPerIssuer);
  EXPECT_LT(kMaxFetchWaitersPerIssuer + 1, 8);  // the smallest default pool
}

TEST_F(JwksCacheTest, CacheFindsIssuersAndWarmsUp) {
  TrustedIssuerConfig other = config_;
  other.name = "static";
  other.issuer = "https://static.example";
  other.static_jwks = Jwks("s1");
  auto cache = JwksCache::New({config_, other}, &fetcher_, &clock_);
  ASSERT_OK(cache);
  EXPECT_NE((*cache)->Find("ci"), nullptr);
  EXPECT_EQ((*cache)->Find("nope"), nullptr);
  (*cache)->StartWarmUp();
  ASSERT_OK((*cache)->Find("ci")->Keys());
  const auto states = (*cache)->States();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_TRUE(states[0].ready);
  EXPECT_TRUE(states[1].ready);
  EXPECT_EQ(fetcher_.count(kJwksUri), 1);
  EXPECT_EQ(states[0].name, "ci");
  EXPECT_EQ(states[1].issuer, "https://static.example");

  TrustedIssuerConfig dup = config_;
  auto duplicate = JwksCache::New({config_, dup}, &fetcher_, &clock_);
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace writ::issuer

#include "issuer/src/attest/oidc_attestor.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/attest/jwks_cache.h"
#include "tests/testing/status_test_util.h"
#include "tests/testing/test_oidc_provider.h"
#include "writ/net/curl_fetcher.h"

namespace writ::issuer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using writ::test::TestOidcProvider;

constexpr absl::Duration kTtl = absl::Minutes(5);
constexpr absl::Duration kCooldown = absl::Seconds(30);
constexpr absl::Duration kStale = absl::Hours(1);

class OidcAttestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto idp = TestOidcProvider::Start();
    ASSERT_TRUE(idp.ok()) << idp.status();
    idp_ = *std::move(idp);
  }

  TrustedIssuerConfig Config(const TestOidcProvider& idp, absl::string_view name = "test") {
    TrustedIssuerConfig config;
    config.name = std::string(name);
    config.issuer = idp.issuer();
    config.audiences = {"writ"};
    return config;
  }

  std::unique_ptr<OidcAttestor> NewAttestor(std::vector<TrustedIssuerConfig> configs,
                                            HttpFetcher* fetcher = nullptr) {
    auto attestor = OidcAttestor::New(std::move(configs), fetcher ? fetcher : &fetcher_, &clock_);
    EXPECT_TRUE(attestor.ok()) << attestor.status();
    return attestor.ok() ? *std::move(attestor) : nullptr;
  }

  std::string Mint(absl::string_view claims = "{}", JwsAlgorithm alg = JwsAlgorithm::kRs256) {
    auto token = idp_->Mint(clock_.Now(), claims, alg);
    EXPECT_TRUE(token.ok()) << token.status();
    return token.ok() ? *token : "";
  }

  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  CurlFetcher fetcher_;
  std::unique_ptr<TestOidcProvider> idp_;
};

// ExpectCode checks the code and that the message never echoes the token.
void ExpectRefused(const absl::StatusOr<AttestedIdentity>& got, absl::StatusCode code,
                   absl::string_view message_part, absl::string_view token) {
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), code) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string(message_part)));
  for (absl::string_view segment : absl::StrSplit(token, '.')) {
    if (segment.size() >= 8) {
      EXPECT_THAT(std::string(got.status().message()), Not(HasSubstr(std::string(segment))));
    }
  }
}

TEST_F(OidcAttestorTest, AcceptsValidTokenAndReturnsIdentity) {
  auto attestor = NewAttestor({Config(*idp_, "github")});
  const std::string token = Mint(R"({"sub":"repo:acme/app:ref:refs/heads/main",
                                     "repository":"acme/app","jti":"j-1"})");
  ASSERT_OK_AND_ASSIGN(AttestedIdentity id, attestor->Attest(token));
  EXPECT_EQ(id.issuer_name, "github");
  EXPECT_EQ(id.issuer, idp_->issuer());
  EXPECT_EQ(id.subject, "repo:acme/app:ref:refs/heads/main");
  EXPECT_EQ(id.jti, "j-1");
  EXPECT_EQ(id.expires_at, clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(id.claims.GetString("repository"), "acme/app");
  EXPECT_EQ(idp_->discovery_requests(), 1);
  EXPECT_EQ(idp_->jwks_requests(), 1);
  // Warm cache: no more fetches.
  ASSERT_OK(attestor->Attest(Mint()));
  ASSERT_OK(attestor->Attest(Mint("{}", JwsAlgorithm::kEs256)));
  EXPECT_EQ(idp_->jwks_requests(), 1);
}

TEST_F(OidcAttestorTest, AcceptsAnyConfiguredAudienceInAudArray) {
  TrustedIssuerConfig config = Config(*idp_);
  config.audiences = {"other", "writ"};
  auto attestor = NewAttestor({config});
  ASSERT_OK(attestor->Attest(Mint(R"({"aud":["x","writ"]})")));
}

TEST_F(OidcAttestorTest, RejectsWrongAudience) {
  auto attestor = NewAttestor({Config(*idp_)});
  const std::string token = Mint(R"({"aud":"someone-else"})");
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "\"aud\"", token);
}

TEST_F(OidcAttestorTest, RejectsExpiredTokenAtLeewayBoundary) {
  auto attestor = NewAttestor({Config(*idp_)});  // leeway 30 s
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  const std::string expired = Mint(
      absl::StrCat(R"({"iat":)", now - 600, R"(,"nbf":)", now - 600, R"(,"exp":)", now - 30, "}"));
  ExpectRefused(attestor->Attest(expired), absl::StatusCode::kUnauthenticated, "expired", expired);
  const std::string within = Mint(
      absl::StrCat(R"({"iat":)", now - 600, R"(,"nbf":)", now - 600, R"(,"exp":)", now - 29, "}"));
  EXPECT_OK(attestor->Attest(within));
}

TEST_F(OidcAttestorTest, RejectsTokenWithoutExp) {
  auto attestor = NewAttestor({Config(*idp_)});
  const std::string token = Mint(R"({"exp":null})");
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "\"exp\"", token);
}

TEST_F(OidcAttestorTest, RejectsNotYetValidTokenAtLeewayBoundary) {
  auto attestor = NewAttestor({Config(*idp_)});
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  const std::string early = Mint(absl::StrCat(R"({"nbf":)", now + 31, "}"));
  ExpectRefused(attestor->Attest(early), absl::StatusCode::kUnauthenticated, "not valid before",
                early);
  EXPECT_OK(attestor->Attest(Mint(absl::StrCat(R"({"nbf":)", now + 30, "}"))));
  const std::string future_iat = Mint(absl::StrCat(R"({"iat":)", now + 31, "}"));
  ExpectRefused(attestor->Attest(future_iat), absl::StatusCode::kUnauthenticated, "future",
                future_iat);
}

TEST_F(OidcAttestorTest, RejectsBadSignature) {
  auto attestor = NewAttestor({Config(*idp_)});
  std::string token = Mint();
  const size_t sig = token.rfind('.') + 10;
  token[sig] = token[sig] == 'A' ? 'B' : 'A';
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "", token);
}

TEST_F(OidcAttestorTest, RejectsPayloadSwappedUnderSignature) {
  auto attestor = NewAttestor({Config(*idp_)});
  const std::vector<std::string> a = absl::StrSplit(Mint(R"({"sub":"alice"})"), '.');
  const std::vector<std::string> b = absl::StrSplit(Mint(R"({"sub":"mallory"})"), '.');
  const std::string token = absl::StrCat(a[0], ".", b[1], ".", a[2]);
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "", token);
}

TEST_F(OidcAttestorTest, RejectsAlgorithmNotAllowedWithoutFetching) {
  TrustedIssuerConfig config = Config(*idp_);
  config.algorithms = {JwsAlgorithm::kRs256};
  auto attestor = NewAttestor({config});
  const std::string token = Mint("{}", JwsAlgorithm::kEs256);
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "ES256 is not allowed",
                token);
  EXPECT_EQ(idp_->discovery_requests() + idp_->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, RejectsOversizeTokenBeforeParsing) {
  TrustedIssuerConfig config = Config(*idp_);
  config.max_token_bytes = 2048;
  auto attestor = NewAttestor({config});
  const std::string junk(2049, 'a');
  ExpectRefused(attestor->Attest(junk), absl::StatusCode::kInvalidArgument, "2049 bytes", junk);
  const std::string big = Mint(absl::StrCat(R"({"pad":")", std::string(2000, 'x'), "\"}"));
  ExpectRefused(attestor->Attest(big), absl::StatusCode::kInvalidArgument, "limit is 2048", big);
  EXPECT_EQ(idp_->discovery_requests() + idp_->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, PerIssuerTokenLimitAppliesAfterIssuerIsKnown) {
  TrustedIssuerConfig small = Config(*idp_, "small");
  small.max_token_bytes = 1200;
  TrustedIssuerConfig other;
  other.name = "other";
  other.issuer = "https://other.example";
  other.audiences = {"writ"};  // max_token_bytes 16 KiB: the global cap.
  auto attestor = NewAttestor({small, other});
  const std::string big = Mint(absl::StrCat(R"({"pad":")", std::string(1000, 'x'), "\"}"));
  ExpectRefused(attestor->Attest(big), absl::StatusCode::kInvalidArgument, "max_token_bytes", big);
  EXPECT_EQ(idp_->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, RejectsMalformedTokens) {
  auto attestor = NewAttestor({Config(*idp_)});
  for (const std::string& token : {std::string(""), std::string("abc"), std::string("a.b.c"),
                                   std::string("a.b.c.d.e"), absl::StrCat(Mint(), "x.y")}) {
    SCOPED_TRACE(token);
    ExpectRefused(attestor->Attest(token), absl::StatusCode::kInvalidArgument, "malformed", token);
  }
  EXPECT_EQ(idp_->discovery_requests() + idp_->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, UnknownIssuerIsRefusedWithoutAnyFetch) {
  auto other = TestOidcProvider::Start();
  ASSERT_OK(other);
  auto attestor = NewAttestor({Config(*idp_)});
  ASSERT_OK_AND_ASSIGN(std::string token, (*other)->Mint(clock_.Now()));
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated,
                absl::StrCat("token issuer \"", (*other)->issuer(), "\" is not trusted"), token);
  const std::string evil = Mint(R"({"iss":"https://evil.example/\u0001"})");
  ExpectRefused(attestor->Attest(evil), absl::StatusCode::kUnauthenticated, "is not trusted", evil);
  const std::string no_iss = Mint(R"({"iss":null})");
  ExpectRefused(attestor->Attest(no_iss), absl::StatusCode::kUnauthenticated, "no \"iss\"", no_iss);
  EXPECT_EQ(idp_->discovery_requests() + idp_->jwks_requests(), 0);
  EXPECT_EQ((*other)->discovery_requests() + (*other)->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, NoConfiguredIssuerRefusesEveryToken) {
  auto attestor = NewAttestor({});
  const std::string token = Mint();
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "none is configured",
                token);
  EXPECT_EQ(idp_->discovery_requests() + idp_->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, RejectsTokenWithoutSubject) {
  auto attestor = NewAttestor({Config(*idp_)});
  const std::string token = Mint(R"({"sub":null})");
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "\"sub\"", token);
}

TEST_F(OidcAttestorTest, RotatedKeyIsPickedUpWithOneRefresh) {
  auto attestor = NewAttestor({Config(*idp_)});
  ASSERT_OK(attestor->Attest(Mint()));
  ASSERT_OK(idp_->RotateKey());
  ASSERT_OK(attestor->Attest(Mint()));
  EXPECT_EQ(idp_->jwks_requests(), 2);
  EXPECT_EQ(idp_->discovery_requests(), 1);  // the discovered jwks_uri is reused within the TTL
  ASSERT_OK(attestor->Attest(Mint()));
  EXPECT_EQ(idp_->jwks_requests(), 2);
}

TEST_F(OidcAttestorTest, NotNowAttestsWithHeldKeysAndOtherwiseAbortsWithoutFetchOrMemory) {
  TrustedIssuerConfig config = Config(*idp_);
  config.one_time_jti = true;
  auto attestor = NewAttestor({config});
  const std::string token = Mint(R"({"jti":"j-1"})");
  // No keys held yet: refused before anything is fetched or remembered.
  auto cold = attestor->Attest(token, KeyFetch::kNotNow);
  EXPECT_EQ(cold.status().code(), absl::StatusCode::kAborted) << cold.status();
  EXPECT_EQ(idp_->discovery_requests(), 0);
  EXPECT_EQ(idp_->jwks_requests(), 0);
  // So the same one-time token still attests where fetching is allowed.
  ASSERT_OK(attestor->Attest(token));
  EXPECT_EQ(idp_->jwks_requests(), 1);
  // With the keys held, kNotNow verifies everything as usual, replay included.
  ASSERT_OK(attestor->Attest(Mint(R"({"jti":"j-2"})"), KeyFetch::kNotNow));
  ExpectRefused(attestor->Attest(token, KeyFetch::kNotNow), absl::StatusCode::kUnauthenticated, "",
                token);
  // A rotated key (unknown kid) needs a refresh: aborted, nothing fetched.
  ASSERT_OK(idp_->RotateKey());
  const std::string rotated = Mint(R"({"jti":"j-3"})");
  EXPECT_EQ(attestor->Attest(rotated, KeyFetch::kNotNow).status().code(),
            absl::StatusCode::kAborted);
  EXPECT_EQ(idp_->jwks_requests(), 1);
  ASSERT_OK(attestor->Attest(rotated));
  EXPECT_EQ(idp_->jwks_requests(), 2);
}

TEST_F(OidcAttestorTest, UnknownKidIsRefusedAfterOneRefresh) {
  auto attestor = NewAttestor({Config(*idp_)});
  ASSERT_OK_AND_ASSIGN(std::string token, idp_->MintWithUnknownKid(clock_.Now(), "{}", "ghost"));
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated,
                "no key with kid \"ghost\"", token);
  EXPECT_EQ(idp_->jwks_requests(), 2);  // the first load, then one refresh
}

TEST_F(OidcAttestorTest, KidFloodCausesAtMostOneFetchPerCooldown) {
  auto attestor = NewAttestor({Config(*idp_)});
  ASSERT_OK(attestor->Attest(Mint()));
  ASSERT_EQ(idp_->jwks_requests(), 1);
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string token, idp_->MintWithUnknownKid(clock_.Now()));
    auto got = attestor->Attest(token);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated) << got.status();
    clock_.Advance(absl::Milliseconds(100));  // 10 s in all: within the cooldown
  }
  EXPECT_EQ(idp_->jwks_requests(), 2);
  clock_.Advance(kCooldown);
  ASSERT_OK_AND_ASSIGN(std::string token, idp_->MintWithUnknownKid(clock_.Now()));
  EXPECT_FALSE(attestor->Attest(token).ok());
  EXPECT_EQ(idp_->jwks_requests(), 3);
  ASSERT_OK(attestor->Attest(Mint()));  // known kids still verify
}

TEST_F(OidcAttestorTest, StaleKeysServeWhileProviderIsDownUntilTheBound) {
  auto attestor = NewAttestor({Config(*idp_)});
  const absl::Time fetched = clock_.Now();
  ASSERT_OK(attestor->Attest(Mint()));
  idp_->SetDown(true);

  clock_.Set(fetched + kTtl + absl::Seconds(1));
  ASSERT_OK(attestor->Attest(Mint()));  // refresh failed: stale keys
  EXPECT_EQ(idp_->jwks_requests() + idp_->discovery_requests(), 2 + 1);
  auto states = attestor->KeyStates();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_THAT(states[0].last_error, HasSubstr("HTTP 503"));
  EXPECT_TRUE(states[0].ready);

  clock_.Set(fetched + kTtl + kStale - absl::Seconds(1));
  ASSERT_OK(attestor->Attest(Mint()));

  clock_.Set(fetched + kTtl + kStale);
  const std::string token = Mint();
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnavailable, "HTTP 503", token);
  EXPECT_FALSE(attestor->KeyStates()[0].ready);

  idp_->SetDown(false);
  clock_.Advance(kCooldown);
  ASSERT_OK(attestor->Attest(Mint()));
  EXPECT_TRUE(attestor->KeyStates()[0].ready);
  EXPECT_EQ(attestor->KeyStates()[0].last_error, "");
}

TEST_F(OidcAttestorTest, ColdStartWithProviderDownIsUnavailable) {
  auto attestor = NewAttestor({Config(*idp_)});
  idp_->SetDown(true);
  const std::string token = Mint();
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnavailable, "trusted issuer \"test\"",
                token);
  // Retried only after the cooldown, not once per request.
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnavailable, "HTTP 503", token);
  EXPECT_EQ(idp_->discovery_requests(), 1);
  idp_->SetDown(false);
  clock_.Advance(kCooldown);
  ASSERT_OK(attestor->Attest(Mint()));
}

// AttestAtOnce attests every token from its own thread, all released
// together, and returns how many succeeded; every failure must be the "being
// fetched; try again" answer of a caller beyond kMaxFetchWaitersPerIssuer.
int AttestAtOnce(OidcAttestor& attestor, const std::vector<std::string>& tokens) {
  absl::Barrier barrier(static_cast<int>(tokens.size()));
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (const std::string& token : tokens) {
    threads.emplace_back([&] {
      barrier.Block();
      absl::StatusOr<AttestedIdentity> got = attestor.Attest(token);
      if (got.ok()) {
        ++ok;
      } else {
        EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
        EXPECT_THAT(std::string(got.status().message()), HasSubstr("being fetched; try again"));
      }
    });
  }
  for (auto& t : threads) t.join();
  return ok.load();
}

TEST_F(OidcAttestorTest, ConcurrentColdMissesShareOneFetch) {
  auto attestor = NewAttestor({Config(*idp_)});
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) tokens.push_back(Mint());
  // The fetcher and kMaxFetchWaitersPerIssuer waiters get keys at least;
  // callers beyond them during the fetch are told to retry at once.
  EXPECT_GE(AttestAtOnce(*attestor, tokens), 1 + kMaxFetchWaitersPerIssuer);
  EXPECT_EQ(idp_->discovery_requests(), 1);
  EXPECT_EQ(idp_->jwks_requests(), 1);
  for (const std::string& token : tokens) EXPECT_OK(attestor->Attest(token));  // the retries
  EXPECT_EQ(idp_->jwks_requests(), 1);
}

TEST_F(OidcAttestorTest, ConcurrentUnknownKidMissesShareOneRefresh) {
  auto attestor = NewAttestor({Config(*idp_)});
  ASSERT_OK(attestor->Attest(Mint()));
  ASSERT_OK(idp_->RotateKey());
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) tokens.push_back(Mint());
  EXPECT_GE(AttestAtOnce(*attestor, tokens), 1 + kMaxFetchWaitersPerIssuer);
  EXPECT_EQ(idp_->jwks_requests(), 2);
  for (const std::string& token : tokens) EXPECT_OK(attestor->Attest(token));
  EXPECT_EQ(idp_->jwks_requests(), 2);
}

// BlockingFetcher blocks every request for `slow_prefix` URLs until released, and
// passes the others to a real fetcher.
class BlockingFetcher : public HttpFetcher {
 public:
  BlockingFetcher(std::string slow_prefix, HttpFetcher* real)
      : slow_prefix_(std::move(slow_prefix)), real_(real) {}
  absl::StatusOr<HttpResponse> Fetch(const HttpRequest& request,
                                     const FetchLimits& limits) override {
    if (!absl::StartsWith(request.url, slow_prefix_)) return real_->Fetch(request, limits);
    if (!entered_.HasBeenNotified()) entered_.Notify();
    release_.WaitForNotificationWithTimeout(absl::Seconds(10));
    return absl::UnavailableError("request to slow.example timed out");
  }
  absl::Notification entered_;
  absl::Notification release_;

 private:
  const std::string slow_prefix_;
  HttpFetcher* const real_;
};

TEST_F(OidcAttestorTest, SlowIssuerDoesNotBlockAnotherIssuer) {
  BlockingFetcher fetcher("https://slow.example", &fetcher_);
  TrustedIssuerConfig slow;
  slow.name = "slow";
  slow.issuer = "https://slow.example";
  slow.audiences = {"writ"};
  auto attestor = NewAttestor({slow, Config(*idp_)}, &fetcher);
  const std::string slow_token = Mint(R"({"iss":"https://slow.example"})");
  absl::StatusOr<AttestedIdentity> slow_result;
  std::thread stuck([&] { slow_result = attestor->Attest(slow_token); });
  fetcher.entered_.WaitForNotification();

  // The slow issuer's fetch is in flight and holds nothing the others need.
  EXPECT_OK(attestor->Attest(Mint()));
  EXPECT_OK(attestor->Attest(Mint()));
  const auto states = attestor->KeyStates();  // never blocks on a fetch
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].name, "slow");
  EXPECT_FALSE(states[0].ready);
  EXPECT_TRUE(states[1].ready);
  EXPECT_FALSE(fetcher.release_.HasBeenNotified());

  fetcher.release_.Notify();
  stuck.join();
  ASSERT_FALSE(slow_result.ok());
  EXPECT_EQ(slow_result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(slow_result.status().message()), HasSubstr("trusted issuer \"slow\""));
}

TEST_F(OidcAttestorTest, OneTimeJtiRefusesReplayAndMissingJti) {
  TrustedIssuerConfig config = Config(*idp_);
  config.one_time_jti = true;
  auto attestor = NewAttestor({config});
  const std::string token = Mint();
  ASSERT_OK(attestor->Attest(token));
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnauthenticated, "already used", token);
  const std::string no_jti = Mint(R"({"jti":null})");
  ExpectRefused(attestor->Attest(no_jti), absl::StatusCode::kUnauthenticated, "no \"jti\"", no_jti);
  ASSERT_OK(attestor->Attest(Mint()));  // another jti is fine
}

TEST_F(OidcAttestorTest, ReusableTokensAreAcceptedTwiceWhenOneTimeJtiIsOff) {
  auto attestor = NewAttestor({Config(*idp_)});
  const std::string token = Mint();
  ASSERT_OK(attestor->Attest(token));
  ASSERT_OK(attestor->Attest(token));
  ASSERT_OK(attestor->Attest(Mint(R"({"jti":null})")));
}

TEST_F(OidcAttestorTest, RefusesDiscoveryNamingAnotherIssuer) {
  idp_->SetDiscoveryIssuer("https://evil.example");
  auto attestor = NewAttestor({Config(*idp_)});
  const std::string token = Mint();
  ExpectRefused(attestor->Attest(token), absl::StatusCode::kUnavailable,
                "names issuer \"https://evil.example\"", token);
  EXPECT_EQ(idp_->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, ConfiguredJwksUriSkipsDiscovery) {
  TrustedIssuerConfig config = Config(*idp_);
  config.jwks_uri = idp_->jwks_uri();
  auto attestor = NewAttestor({config});
  ASSERT_OK(attestor->Attest(Mint()));
  EXPECT_EQ(idp_->discovery_requests(), 0);
  EXPECT_EQ(idp_->jwks_requests(), 1);
  EXPECT_EQ(attestor->KeyStates()[0].source, "jwks_uri");
}

TEST_F(OidcAttestorTest, StaticJwksNeedsNoFetcher) {
  TrustedIssuerConfig config = Config(*idp_);
  config.static_jwks = idp_->jwks_json();
  auto attestor = OidcAttestor::New({config}, nullptr, &clock_);
  ASSERT_OK(attestor);
  ASSERT_OK((*attestor)->Attest(Mint()));
  EXPECT_EQ(idp_->discovery_requests() + idp_->jwks_requests(), 0);
  ASSERT_OK(idp_->RotateKey());  // static keys never refresh
  const std::string token = Mint();
  ExpectRefused((*attestor)->Attest(token), absl::StatusCode::kUnauthenticated, "static", token);
  EXPECT_EQ(idp_->jwks_requests(), 0);
}

TEST_F(OidcAttestorTest, KeyStatesDescribeEveryIssuer) {
  TrustedIssuerConfig never;
  never.name = "never";
  never.issuer = "https://never.example";
  never.audiences = {"writ"};
  auto attestor = NewAttestor({Config(*idp_, "github"), never});
  ASSERT_OK(attestor->Attest(Mint()));
  const auto states = attestor->KeyStates();
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].name, "github");
  EXPECT_EQ(states[0].issuer, idp_->issuer());
  EXPECT_EQ(states[0].source, "discovery");
  EXPECT_EQ(states[0].jwks_uri, idp_->jwks_uri());
  EXPECT_EQ(states[0].key_count, 2u);
  EXPECT_EQ(states[0].last_fetch, clock_.Now());
  EXPECT_TRUE(states[0].ready);
  EXPECT_EQ(states[1].name, "never");
  EXPECT_EQ(states[1].key_count, 0u);
  EXPECT_EQ(states[1].fetches, 0u);
  EXPECT_FALSE(states[1].ready);
}

TEST_F(OidcAttestorTest, WarmUpFetchesInTheBackground) {
  auto attestor = NewAttestor({Config(*idp_)});
  attestor->StartWarmUp();
  ASSERT_OK(attestor->Attest(Mint()));  // shares or follows the warm-up fetch
  EXPECT_EQ(idp_->jwks_requests(), 1);
}

struct BadConfigCase {
  const char* name;
  void (*mutate)(TrustedIssuerConfig&);
  const char* message;
};

TEST_F(OidcAttestorTest, NewRefusesInvalidConfigurationNamingIssuerAndField) {
  const BadConfigCase cases[] = {
      {"empty name", [](TrustedIssuerConfig& c) { c.name = ""; }, "#1: name"},
      {"empty issuer", [](TrustedIssuerConfig& c) { c.issuer = ""; }, "\"test\": issuer"},
      {"http issuer", [](TrustedIssuerConfig& c) { c.issuer = "http://ci.example"; },
       "\"test\": issuer: URL \"http://ci.example\" must use https"},
      {"ftp issuer", [](TrustedIssuerConfig& c) { c.issuer = "ftp://ci.example"; },
       "\"test\": issuer"},
      {"no audiences", [](TrustedIssuerConfig& c) { c.audiences.clear(); }, "\"test\": audiences"},
      {"empty audience", [](TrustedIssuerConfig& c) { c.audiences = {""}; }, "\"test\": audiences"},
      {"leeway", [](TrustedIssuerConfig& c) { c.leeway = absl::Seconds(61); }, "\"test\": leeway"},
      {"negative leeway", [](TrustedIssuerConfig& c) { c.leeway = absl::Seconds(-1); },
       "\"test\": leeway"},
      {"no algorithms", [](TrustedIssuerConfig& c) { c.algorithms.clear(); },
       "\"test\": algorithms"},
      {"bad static_jwks", [](TrustedIssuerConfig& c) { c.static_jwks = "{\"keys\":1}"; },
       "\"test\": static_jwks"},
      {"empty static_jwks", [](TrustedIssuerConfig& c) { c.static_jwks = "{\"keys\":[]}"; },
       "\"test\": static_jwks"},
      {"http jwks_uri", [](TrustedIssuerConfig& c) { c.jwks_uri = "http://keys.example/jwks"; },
       "\"test\": jwks_uri"},
      {"zero ttl", [](TrustedIssuerConfig& c) { c.jwks_ttl = absl::ZeroDuration(); },
       "\"test\": jwks_ttl"},
      {"zero token size", [](TrustedIssuerConfig& c) { c.max_token_bytes = 0; },
       "\"test\": max_token_bytes"},
  };
  for (const BadConfigCase& c : cases) {
    SCOPED_TRACE(c.name);
    TrustedIssuerConfig config = Config(*idp_);
    c.mutate(config);
    auto attestor = OidcAttestor::New({config}, &fetcher_, &clock_);
    ASSERT_FALSE(attestor.ok());
    EXPECT_EQ(attestor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(attestor.status().message()), HasSubstr(c.message));
  }
  auto duplicate = OidcAttestor::New({Config(*idp_), Config(*idp_)}, &fetcher_, &clock_);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_THAT(std::string(duplicate.status().message()), HasSubstr("name: is used by another"));
  TrustedIssuerConfig same_url = Config(*idp_, "again");
  auto twice = OidcAttestor::New({Config(*idp_), same_url}, &fetcher_, &clock_);
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(std::string(twice.status().message()), HasSubstr("\"again\": issuer"));
  auto no_fetcher = OidcAttestor::New({Config(*idp_)}, nullptr, &clock_);
  ASSERT_FALSE(no_fetcher.ok());
  EXPECT_EQ(no_fetcher.status().code(), absl::StatusCode::kInvalidArgument);
  // Loopback http and https are both fine.
  TrustedIssuerConfig https = Config(*idp_, "https");
  https.issuer = "https://token.actions.githubusercontent.com";
  TrustedIssuerConfig local = Config(*idp_, "local");
  local.issuer = "http://localhost:8080/realms/x";
  EXPECT_OK(OidcAttestor::New({https, local, Config(*idp_)}, &fetcher_, &clock_));
}

}  // namespace
}  // namespace writ::issuer

#include "issuer/src/exchange/token_exchange.h"

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"

namespace writ::issuer {
namespace {

using ::testing::HasSubstr;

class FakeAttestor final : public Attestor {
 public:
  absl::StatusOr<AttestedIdentity> Attest(absl::string_view token, KeyFetch fetch) override {
    auto it = results.find(std::string(token));
    ++calls;
    if (fetch == KeyFetch::kNotNow && needs_fetch.count(std::string(token)) > 0) {
      return absl::AbortedError("the keys must be fetched first");
    }
    if (fetch == KeyFetch::kAllowed) ++fetching_calls;
    if (it == results.end()) return absl::UnauthenticatedError("token issuer \"x\" is not trusted");
    return it->second;
  }
  void Forget(const AttestedIdentity& id) override { forgotten.push_back(id.subject); }
  std::map<std::string, absl::StatusOr<AttestedIdentity>> results;
  std::set<std::string> needs_fetch;  // tokens whose keys are not at hand
  int calls = 0;
  int fetching_calls = 0;  // calls with KeyFetch::kAllowed
  std::vector<std::string> forgotten;
};

class FakePolicy final : public PolicySource {
 public:
  Decision Decide(const AttestedIdentity& id, const PolicyRequest& req) const override {
    last_request = req;
    Decision d = decision;
    if (d.allowed) d.grant->subject = "spiffe://acme.example/" + id.subject;
    return d;
  }
  Explanation Explain(const AttestedIdentity& id, const PolicyRequest& req) const override {
    return {Decide(id, req), {}};
  }
  Decision decision;
  mutable PolicyRequest last_request;
};

class MemoryLedger final : public Ledger {
 public:
  absl::Status Append(const LedgerRecord& r) override {
    absl::MutexLock l(&mu);
    if (fail || fail_appends) return absl::UnavailableError("disk full");
    records.push_back(r);
    return absl::OkStatus();
  }
  absl::StatusOr<LedgerRecord> FindByJti(absl::string_view) const override {
    return absl::NotFoundError("");
  }
  absl::StatusOr<std::vector<LedgerRecord>> Query(const LedgerQuery&) const override {
    return records;
  }
  bool Healthy() const override { return !fail; }
  // With `defer`, AppendAsync keeps the record and its callback in
  // `deferred` until the test answers it.
  void AppendAsync(const LedgerRecord& r, AppendDone done) override {
    if (!defer) return Ledger::AppendAsync(r, std::move(done));
    records.push_back(r);
    deferred.push_back(std::move(done));
  }
  bool defer = false;
  std::vector<AppendDone> deferred;
  mutable absl::Mutex mu;
  bool fail = false;          // unhealthy: every Append fails
  bool fail_appends = false;  // looks healthy, but the next Append fails
  std::vector<LedgerRecord> records;
};

class TestKeys final : public KeyManager {
 public:
  TestKeys() {
    signer_ = std::shared_ptr<const Signer>(
        *PrivateKeySigner::New(*GenerateKey(KeySpec::kEcP256), JwsAlgorithm::kEs256));
  }
  std::shared_ptr<const Signer> JwtSigner() const override { return signer_; }
  std::string PublicJwks() const override {
    return "{\"keys\":[" + signer_->public_jwk().ToJson() + "]}";
  }
  std::shared_ptr<const Signer> signer_;
};

AttestedIdentity Identity(const std::string& sub) {
  AttestedIdentity id;
  id.issuer_name = "github";
  id.issuer = "https://token.actions.githubusercontent.com";
  id.subject = sub;
  id.claims = *JwtClaims::Parse("{\"sub\":\"" + sub + "\"}");
  return id;
}

class TokenExchangeTest : public ::testing::Test {
 protected:
  TokenExchangeTest()
      : clock_(absl::FromUnixSeconds(1'800'000'000)),
        minter_("http://127.0.0.1:8080", &keys_, &clock_),
        exchange_(&attestor_, &policy_, &minter_, &ledger_, &clock_, {absl::Minutes(30), 2}) {
    attestor_.results.emplace("good", Identity("repo:acme/app"));
    attestor_.results.emplace("agent", Identity("agent:bot"));
    attestor_.results.emplace("down", absl::UnavailableError("issuer keys unreachable"));
    policy_.decision.allowed = true;
    policy_.decision.rule = "r1";
    policy_.decision.used_claims = {{"repository", "acme/app"}};
    policy_.decision.grant = Grant{"",
                                   "https://deploy.acme.example",
                                   {"deploy"},
                                   absl::Minutes(5),
                                   {{"repository", "acme/app"}}};
  }

  ExchangeRequest Request(const std::string& token = "good") {
    ExchangeRequest r;
    r.subject_token = token;
    r.subject_token_type = kTokenTypeIdToken;
    r.audiences = {"https://deploy.acme.example"};
    r.scopes = {"deploy"};
    return r;
  }
  ExchangeResult Run(const ExchangeRequest& r) {
    return exchange_.Exchange(r, {"http", "10.0.0.1"});
  }

  FakeClock clock_;
  TestKeys keys_;
  FakeAttestor attestor_;
  FakePolicy policy_;
  MemoryLedger ledger_;
  JwtMinter minter_;
  TokenExchange exchange_;
};

TEST_F(TokenExchangeTest, AllowedRequestIsMintedAndRecordedWithTheTokenHash) {
  ExchangeResult res = Run(Request());
  ASSERT_TRUE(res.status.ok()) << res.status;
  EXPECT_EQ(res.subject, "spiffe://acme.example/repo:acme/app");
  ASSERT_EQ(ledger_.records.size(), 1u);
  const LedgerRecord& rec = ledger_.records[0];
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.request_id, res.request_id);
  EXPECT_EQ(rec.transport, "http");
  EXPECT_EQ(rec.client_address, "10.0.0.1");
  EXPECT_EQ(rec.attested_subject, "repo:acme/app");
  EXPECT_EQ(rec.granted_audience, "https://deploy.acme.example");
  EXPECT_EQ(rec.jti, res.minted.jti);
  EXPECT_EQ(rec.credential_sha256, res.minted.sha256_hex);
  EXPECT_EQ(rec.expires_at, clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(rec.rule, "r1");
  EXPECT_EQ(rec.claims, policy_.decision.used_claims);
  EXPECT_EQ(rec.credential_kind, "jwt");
  EXPECT_EQ(rec.attested_issuer_name, "github");
  EXPECT_EQ(rec.signing_key, keys_.signer_->kid());
  EXPECT_EQ(res.minted.kid, keys_.signer_->kid());
  EXPECT_EQ(policy_.last_request.client_address, "10.0.0.1");
}

TEST_F(TokenExchangeTest, LedgerFailureMeansNoTokenAndUnavailable) {
  ledger_.fail = true;
  ExchangeResult res = Run(Request());
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  EXPECT_TRUE(res.minted.token.empty());
}

TEST_F(TokenExchangeTest, UnhealthyLedgerAnswers503BeforeAttesting) {
  ledger_.fail = true;
  ExchangeResult res = Run(Request());
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(attestor_.calls, 0);
}

TEST_F(TokenExchangeTest, OutageAfterAttestationReleasesTheOneTimeTokens) {
  ledger_.fail_appends = true;
  ExchangeRequest r = Request();
  r.actor_token = "agent";
  r.actor_token_type = kTokenTypeJwt;
  ExchangeResult res = Run(r);
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(res.minted.token.empty());
  EXPECT_EQ(attestor_.forgotten, (std::vector<std::string>{"repo:acme/app", "agent:bot"}));
}

TEST_F(TokenExchangeTest, DenialsDoNotReleaseOneTimeTokens) {
  policy_.decision = Decision{};
  EXPECT_EQ(Run(Request()).status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(attestor_.forgotten.empty());
}

TEST_F(TokenExchangeTest, LedgerFailureOnADenialIsAlsoUnavailable) {
  ledger_.fail = true;
  ExchangeResult res = Run(Request("forged"));
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(TokenExchangeTest, BadAttestationIsInvalidGrantAndRecorded) {
  ExchangeResult res = Run(Request("forged"));
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(res.oauth_error, "invalid_grant");
  ASSERT_EQ(ledger_.records.size(), 1u);
  EXPECT_EQ(ledger_.records[0].decision, "deny");
  EXPECT_EQ(ledger_.records[0].error, "invalid_grant");
  EXPECT_TRUE(ledger_.records[0].jti.empty());
}

TEST_F(TokenExchangeTest, UnreachableIssuerKeysAreTemporarilyUnavailable) {
  ExchangeResult res = Run(Request("down"));
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
}

TEST_F(TokenExchangeTest, PolicyDenialCarriesItsCodeAndIsRecorded) {
  for (auto [code, name] : {std::pair{DenyCode::kAccessDenied, "access_denied"},
                            std::pair{DenyCode::kInvalidScope, "invalid_scope"},
                            std::pair{DenyCode::kInvalidTarget, "invalid_target"}}) {
    policy_.decision = Decision{};
    policy_.decision.deny_code = code;
    policy_.decision.reasons = {"rule r1: scope \"admin\" is not allowed"};
    ledger_.records.clear();
    ExchangeResult res = Run(Request());
    EXPECT_EQ(res.status.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(res.oauth_error, name);
    EXPECT_NE(res.status.message().find("scope \"admin\""), absl::string_view::npos);
    ASSERT_EQ(ledger_.records.size(), 1u);
    EXPECT_EQ(ledger_.records[0].error, name);
    EXPECT_EQ(ledger_.records[0].reasons, policy_.decision.reasons);
  }
}

TEST_F(TokenExchangeTest, MalformedRequestsAreInvalidRequestAndNotRecorded) {
  std::vector<ExchangeRequest> bad;
  bad.push_back(Request(""));
  bad.push_back(Request());
  bad.back().subject_token_type = "urn:ietf:params:oauth:token-type:saml2";
  bad.push_back(Request());
  bad.back().requested_token_type = "urn:ietf:params:oauth:token-type:refresh_token";
  bad.push_back(Request());
  bad.back().actor_token = "agent";
  bad.push_back(Request());
  bad.back().actor_token_type = kTokenTypeJwt;
  bad.push_back(Request());
  bad.back().lifetime = absl::Seconds(-1);
  for (const auto& r : bad) {
    ExchangeResult res = Run(r);
    EXPECT_EQ(res.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(res.oauth_error, "invalid_request") << res.status;
  }
  ExchangeRequest two = Request();
  two.audiences.push_back("https://other.example");
  EXPECT_EQ(Run(two).oauth_error, "invalid_target");
  EXPECT_TRUE(ledger_.records.empty());
}

TEST_F(TokenExchangeTest, ActorTokenBecomesActClaimAndPolicyInput) {
  ExchangeRequest r = Request();
  r.actor_token = "agent";
  r.actor_token_type = kTokenTypeJwt;
  ExchangeResult res = Run(r);
  ASSERT_TRUE(res.status.ok()) << res.status;
  ASSERT_EQ(policy_.last_request.actors.size(), 1u);
  EXPECT_EQ(policy_.last_request.actors[0].subject, "agent:bot");
  auto claims = ParseJwt(res.minted.token);
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->claims.GetStringAt({"act", "sub"}), "agent:bot");
  EXPECT_EQ(ledger_.records[0].actors, std::vector<std::string>{"agent:bot"});
}

TEST_F(TokenExchangeTest, PriorActChainOfTheSubjectTokenIsCarriedAndCounted) {
  AttestedIdentity delegated = Identity("user:alice");
  delegated.claims = *JwtClaims::Parse(
      R"({"sub":"user:alice","act":{"sub":"agent:planner","iss":"https://agents.example"}})");
  attestor_.results.emplace("delegated", delegated);
  ExchangeRequest r = Request("delegated");
  r.actor_token = "agent";
  r.actor_token_type = kTokenTypeJwt;
  ExchangeResult res = Run(r);
  ASSERT_TRUE(res.status.ok()) << res.status;
  ASSERT_EQ(policy_.last_request.actors.size(), 2u);
  EXPECT_EQ(policy_.last_request.actors[1].subject, "agent:planner");
  auto jwt = ParseJwt(res.minted.token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->claims.GetStringAt({"act", "sub"}), "agent:bot");
  EXPECT_EQ(jwt->claims.GetStringAt({"act", "act", "sub"}), "agent:planner");
  EXPECT_EQ(jwt->claims.GetStringAt({"act", "act", "iss"}), "https://agents.example");
  EXPECT_EQ(ledger_.records.back().actors,
            (std::vector<std::string>{"agent:bot", "agent:planner"}));

  // A third actor is over this exchange's cap of 2.
  AttestedIdentity deeper = Identity("user:alice");
  deeper.claims =
      *JwtClaims::Parse(R"({"sub":"user:alice","act":{"sub":"agent:a","act":{"sub":"agent:b"}}})");
  attestor_.results.emplace("deeper", deeper);
  r.subject_token = "deeper";
  res = Run(r);
  EXPECT_EQ(res.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(res.oauth_error, "access_denied");
  EXPECT_NE(res.status.message().find("3 actors"), absl::string_view::npos) << res.status;
  EXPECT_EQ(ledger_.records.back().error, "access_denied");
}

TEST_F(TokenExchangeTest, BadActorTokenIsInvalidGrant) {
  ExchangeRequest r = Request();
  r.actor_token = "forged";
  r.actor_token_type = kTokenTypeJwt;
  ExchangeResult res = Run(r);
  EXPECT_EQ(res.oauth_error, "invalid_grant");
  EXPECT_NE(res.status.message().find("actor_token"), absl::string_view::npos);
}

TEST_F(TokenExchangeTest, GlobalMaximumCapsTheGrantedLifetime) {
  policy_.decision.grant->lifetime = absl::Hours(5);
  ExchangeResult res = Run(Request());
  ASSERT_TRUE(res.status.ok());
  EXPECT_EQ(res.minted.expires_at - clock_.Now(), absl::Minutes(30));
}

TEST_F(TokenExchangeTest, ExchangeAsyncAnswersOnlyOnceTheLedgerHasTheRecord) {
  ledger_.defer = true;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeAsync(Request(), {"grpc", "10.0.0.2"},
                          [&](ExchangeResult r) { got = std::move(r); });
  EXPECT_FALSE(got.has_value());  // minted, but not answered before it is recorded
  ASSERT_EQ(ledger_.records.size(), 1u);
  ASSERT_EQ(ledger_.deferred.size(), 1u);
  std::move(ledger_.deferred[0])(absl::OkStatus());
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->status.ok()) << got->status;
  EXPECT_FALSE(got->minted.token.empty());
  EXPECT_EQ(ledger_.records[0].jti, got->minted.jti);
  EXPECT_EQ(ledger_.records[0].request_id, got->request_id);
  EXPECT_TRUE(attestor_.forgotten.empty());
}

TEST_F(TokenExchangeTest, ExchangeAsyncWhoseRecordFailsAnswersUnavailableWithoutAToken) {
  ledger_.defer = true;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeAsync(Request(), {"grpc", "10.0.0.2"},
                          [&](ExchangeResult r) { got = std::move(r); });
  ASSERT_EQ(ledger_.deferred.size(), 1u);
  std::move(ledger_.deferred[0])(absl::UnavailableError("disk full"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(got->status.message()), HasSubstr("disk full"));
  EXPECT_EQ(got->oauth_error, "temporarily_unavailable");
  EXPECT_TRUE(got->minted.token.empty());
  EXPECT_TRUE(got->minted.jti.empty());
  EXPECT_EQ(attestor_.forgotten, (std::vector<std::string>{"repo:acme/app"}));
}

TEST_F(TokenExchangeTest, ExchangeAsyncAnswersAMalformedRequestInlineWithoutARecord) {
  ledger_.defer = true;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeAsync(Request(""), {"grpc", "10.0.0.2"},
                          [&](ExchangeResult r) { got = std::move(r); });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ledger_.records.empty());
  EXPECT_TRUE(ledger_.deferred.empty());
}

// An Offload that keeps the task for the test to run, or refuses it.
struct HeldOffload {
  bool accept = true;
  std::vector<absl::AnyInvocable<void() &&>> tasks;
  bool operator()(absl::AnyInvocable<void() &&> task) {
    if (!accept) return false;
    tasks.push_back(std::move(task));
    return true;
  }
};

TEST_F(TokenExchangeTest, NonBlockingExchangeRunsInlineWhenTheKeysAreAtHand) {
  HeldOffload offload;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeNonBlocking(
      Request(), {"http", "10.0.0.3"}, [&](ExchangeResult r) { got = std::move(r); },
      std::ref(offload));
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->status.ok()) << got->status;
  EXPECT_TRUE(offload.tasks.empty());
  EXPECT_EQ(attestor_.fetching_calls, 0);
  ASSERT_EQ(ledger_.records.size(), 1u);
  EXPECT_EQ(ledger_.records[0].decision, "allow");
}

TEST_F(TokenExchangeTest, NonBlockingExchangeMovesToTheOffloadWhenKeysMustBeFetched) {
  attestor_.needs_fetch.insert("good");
  HeldOffload offload;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeNonBlocking(
      Request(), {"http", "10.0.0.3"}, [&](ExchangeResult r) { got = std::move(r); },
      std::ref(offload));
  // Nothing answered or recorded yet: the exchange waits for a thread that may fetch.
  EXPECT_FALSE(got.has_value());
  EXPECT_TRUE(ledger_.records.empty());
  ASSERT_EQ(offload.tasks.size(), 1u);
  std::move(offload.tasks[0])();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->status.ok()) << got->status;
  EXPECT_EQ(attestor_.fetching_calls, 1);
  ASSERT_EQ(ledger_.records.size(), 1u);
  EXPECT_EQ(ledger_.records[0].request_id, got->request_id);
  EXPECT_EQ(ledger_.records[0].client_address, "10.0.0.3");
  EXPECT_EQ(ledger_.records[0].jti, got->minted.jti);
}

TEST_F(TokenExchangeTest, NonBlockingExchangeReleasesTheSubjectWhenTheActorsKeysMustBeFetched) {
  attestor_.needs_fetch.insert("agent");
  ExchangeRequest r = Request();
  r.actor_token = "agent";
  r.actor_token_type = kTokenTypeJwt;
  HeldOffload offload;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeNonBlocking(
      r, {"http", "10.0.0.3"}, [&](ExchangeResult res) { got = std::move(res); },
      std::ref(offload));
  EXPECT_FALSE(got.has_value());
  // The subject's one-time jti is released, so attesting it again there is no replay.
  EXPECT_EQ(attestor_.forgotten, (std::vector<std::string>{"repo:acme/app"}));
  ASSERT_EQ(offload.tasks.size(), 1u);
  std::move(offload.tasks[0])();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->status.ok()) << got->status;
  EXPECT_EQ(attestor_.fetching_calls, 2);  // subject and actor, again
  ASSERT_EQ(ledger_.records.size(), 1u);
  EXPECT_EQ(ledger_.records[0].actors, (std::vector<std::string>{"agent:bot"}));
}

TEST_F(TokenExchangeTest, NonBlockingExchangeAnswersBusyWithoutARecordWhenTheOffloadRefuses) {
  attestor_.needs_fetch.insert("good");
  HeldOffload offload;
  offload.accept = false;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeNonBlocking(
      Request(), {"http", "10.0.0.3"}, [&](ExchangeResult r) { got = std::move(r); },
      std::ref(offload));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(got->oauth_error, "temporarily_unavailable");
  EXPECT_TRUE(got->request_id.empty());  // no record for it to name
  EXPECT_TRUE(got->minted.token.empty());
  EXPECT_TRUE(ledger_.records.empty());
}

TEST_F(TokenExchangeTest, NonBlockingExchangeStillRecordsAnOutageWithoutFetching) {
  // "down" fails with kUnavailable (no keys, fetch on cooldown): that is an
  // answer, not a reason to move.
  HeldOffload offload;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeNonBlocking(
      Request("down"), {"http", "10.0.0.3"}, [&](ExchangeResult r) { got = std::move(r); },
      std::ref(offload));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->oauth_error, "temporarily_unavailable");
  EXPECT_TRUE(offload.tasks.empty());
  ASSERT_EQ(ledger_.records.size(), 1u);
  EXPECT_EQ(ledger_.records[0].decision, "deny");
}

TEST_F(TokenExchangeTest, NonBlockingExchangeWhoseActorMustWaitAndIsRefusedReleasesTheSubject) {
  attestor_.needs_fetch.insert("agent");
  ExchangeRequest r = Request();
  r.actor_token = "agent";
  r.actor_token_type = kTokenTypeJwt;
  HeldOffload offload;
  offload.accept = false;
  std::optional<ExchangeResult> got;
  exchange_.ExchangeNonBlocking(
      r, {"grpc", "10.0.0.3"}, [&](ExchangeResult res) { got = std::move(res); },
      std::ref(offload));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(got->oauth_error, "temporarily_unavailable");
  EXPECT_TRUE(got->request_id.empty());
  EXPECT_EQ(attestor_.forgotten, (std::vector<std::string>{"repo:acme/app"}));
  EXPECT_TRUE(ledger_.records.empty());
}

TEST_F(TokenExchangeTest, AnAbortedAttestationWithoutAnOffloadIsAnOutage) {
  // kAborted only comes with KeyFetch::kNotNow; should it reach a plain
  // exchange, it is our outage (503), never the caller's bad grant.
  attestor_.results.emplace("aborted", absl::AbortedError("keys must be fetched first"));
  ExchangeResult res = Run(Request("aborted"));
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  ASSERT_EQ(ledger_.records.size(), 1u);
  EXPECT_EQ(ledger_.records[0].decision, "deny");
}

}  // namespace
}  // namespace writ::issuer

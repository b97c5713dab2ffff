// End-to-end tests of writ-issuer over real HTTP: a TestOidcProvider on
// loopback attests, the in-process IssuerServer decides, mints and records.
// Every case also checks what the ledger says about it.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/issuer_fixture.h"
#include "tests/testing/status_test_util.h"
#include "writ/base/base64url.h"

namespace writ::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class IssuerHttpTest : public IssuerFixture {};

TEST_F(IssuerHttpTest, AllowedExchangeMintsVerifiableTokenAndRecordsIt) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r =
      Exchange(MintCi(), kDeployAudience, "deploy:write", {{"requested_lifetime", "600"}});
  ASSERT_EQ(r.status, 200) << r.body << r.error;
  EXPECT_EQ(r.headers["cache-control"], "no-store");
  EXPECT_EQ(JsonString(r.body, "issued_token_type"),
            "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(JsonString(r.body, "token_type"), "Bearer");
  EXPECT_EQ(JsonInt(r.body, "expires_in"), 600);
  EXPECT_EQ(JsonString(r.body, "scope"), "deploy:write");
  std::optional<std::string> token = JsonString(r.body, "access_token");
  ASSERT_TRUE(token.has_value()) << r.body;

  ASSERT_OK_AND_ASSIGN(VerifiedJwt jwt, VerifyIssued(*token, kDeployAudience));
  EXPECT_EQ(jwt.jws.type(), "at+jwt");
  EXPECT_EQ(jwt.jws.algorithm(), JwsAlgorithm::kEs256);
  const JwtClaims& c = jwt.claims;
  EXPECT_EQ(c.issuer(), server_->issuer_url());
  EXPECT_EQ(c.subject(), kGrantedSubject);
  EXPECT_THAT(c.audiences(), ElementsAre(kDeployAudience));
  EXPECT_EQ(c.GetString("scope"), "deploy:write");
  ASSERT_TRUE(c.expires_at().has_value() && c.issued_at().has_value());
  EXPECT_EQ(*c.expires_at() - *c.issued_at(), absl::Seconds(600));
  EXPECT_EQ(c.GetString("client_id"), absl::StrCat("ci:", kCiSubject));
  EXPECT_EQ(c.GetStringAt({"attest", "iss"}), ci_idp_->issuer());
  EXPECT_EQ(c.GetStringAt({"attest", "sub"}), kCiSubject);
  EXPECT_EQ(c.GetStringAt({"attest", "claims", "repository"}), "acme/app");
  EXPECT_EQ(c.GetStringAt({"attest", "claims", "ref"}), "refs/heads/main");
  // Only include_claims are copied.
  EXPECT_FALSE(c.GetStringAt({"attest", "claims", "repository_owner"}).has_value());
  EXPECT_EQ(c.GetString("writ_rule"), "ci-deploy");
  EXPECT_FALSE(c.Has("act"));
  EXPECT_FALSE(c.jwt_id().empty());

  issuer::LedgerRecord rec = RecordOf(r.headers["x-request-id"]);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.error, "");
  EXPECT_EQ(rec.transport, "http");
  EXPECT_EQ(rec.client_address, "127.0.0.1");
  EXPECT_EQ(rec.attested_issuer, ci_idp_->issuer());
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_EQ(rec.requested_audience, kDeployAudience);
  EXPECT_THAT(rec.requested_scopes, ElementsAre("deploy:write"));
  EXPECT_EQ(rec.requested_lifetime, absl::Seconds(600));
  EXPECT_EQ(rec.granted_subject, kGrantedSubject);
  EXPECT_EQ(rec.granted_audience, kDeployAudience);
  EXPECT_THAT(rec.granted_scopes, ElementsAre("deploy:write"));
  EXPECT_EQ(rec.granted_lifetime, absl::Seconds(600));
  EXPECT_EQ(rec.rule, "ci-deploy");
  EXPECT_EQ(rec.policy_file, "10-ci.yaml");
  EXPECT_EQ(rec.credential_kind, "jwt");
  EXPECT_EQ(rec.jti, c.jwt_id());
  EXPECT_EQ(rec.credential_sha256, Sha256HexOf(*token));
  EXPECT_EQ(rec.expires_at, *c.expires_at());
  EXPECT_FALSE(rec.claims.empty());

  ASSERT_OK_AND_ASSIGN(issuer::LedgerRecord by_jti, server_->ledger()->FindByJti(c.jwt_id()));
  EXPECT_EQ(by_jti.request_id, rec.request_id);
}

TEST_F(IssuerHttpTest, DefaultsApplyAndLongLifetimeIsClampedToRuleMax) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // No audience (the rule's only one), no scope (default_scopes), 2 h asked
  // for: clamped to the rule's 15m.
  HttpResult r = Exchange(MintCi(), "", "", {{"requested_lifetime", "7200"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(JsonInt(r.body, "expires_in"), 900);
  EXPECT_EQ(JsonString(r.body, "scope"), "deploy:read");
  ASSERT_OK_AND_ASSIGN(VerifiedJwt jwt,
                       VerifyIssued(*JsonString(r.body, "access_token"), kDeployAudience));
  EXPECT_EQ(*jwt.claims.expires_at() - *jwt.claims.issued_at(), absl::Minutes(15));

  issuer::LedgerRecord rec = RecordOf(r.headers["x-request-id"]);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.requested_audience, "");
  EXPECT_THAT(rec.requested_scopes, IsEmpty());
  EXPECT_EQ(rec.requested_lifetime, absl::Hours(2));
  EXPECT_EQ(rec.granted_audience, kDeployAudience);
  EXPECT_THAT(rec.granted_scopes, ElementsAre("deploy:read"));
  EXPECT_EQ(rec.granted_lifetime, absl::Minutes(15));
}

TEST_F(IssuerHttpTest, OtherSubjectIsAccessDenied) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string other = "repo:acme/other:ref:refs/heads/main";
  HttpResult r = Exchange(MintCi(absl::StrCat(R"({"sub":")", other, R"("})")), kDeployAudience);
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "access_denied");
  EXPECT_EQ(rec.attested_issuer, ci_idp_->issuer());
  EXPECT_EQ(rec.attested_subject, other);
}

TEST_F(IssuerHttpTest, WrongClaimIsAccessDenied) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintCi(R"({"repository_owner":"evil"})"), kDeployAudience);
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "access_denied");
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_THAT(absl::StrJoin(rec.reasons, "\n"), HasSubstr("repository_owner"));
}

TEST_F(IssuerHttpTest, OtherAudienceIsInvalidTarget) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintCi(), "https://other.example", "deploy:read");
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "invalid_target");
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_EQ(rec.requested_audience, "https://other.example");
  EXPECT_EQ(rec.rule, "ci-deploy");  // the rule that came closest
}

TEST_F(IssuerHttpTest, UnlistedScopeIsInvalidScope) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintCi(), kDeployAudience, "deploy:read deploy:admin");
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "invalid_scope");
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_THAT(rec.requested_scopes, ElementsAre("deploy:read", "deploy:admin"));
  EXPECT_THAT(rec.granted_scopes, IsEmpty());
}

TEST_F(IssuerHttpTest, TrustedIssuerWithoutAnyRuleIsAccessDenied) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintAgent(), kDeployAudience);
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "access_denied");
  EXPECT_EQ(rec.attested_issuer, agents_idp_->issuer());
  EXPECT_EQ(rec.attested_subject, kAgentSubject);
  EXPECT_EQ(rec.rule, "");
}

TEST_F(IssuerHttpTest, ExpiredTokenIsInvalidGrant) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // Minted an hour ago with a 5 min life: expired 55 min ago.
  ASSERT_OK_AND_ASSIGN(std::string token, ci_idp_->Mint(absl::Now() - absl::Hours(1), kCiClaims));
  issuer::LedgerRecord rec =
      ExpectDenialRecorded(Exchange(token, kDeployAudience), "invalid_grant");
  EXPECT_EQ(rec.attested_subject, "");
  EXPECT_THAT(absl::StrJoin(rec.reasons, "\n"), HasSubstr("exp"));
}

TEST_F(IssuerHttpTest, TokenNotYetValidBeyondLeewayIsInvalidGrant) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const int64_t nbf = absl::ToUnixSeconds(absl::Now() + absl::Minutes(2));  // leeway is 30 s
  HttpResult r = Exchange(MintCi(absl::StrCat(R"({"nbf":)", nbf, "}")), kDeployAudience);
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "invalid_grant");
  EXPECT_THAT(absl::StrJoin(rec.reasons, "\n"), HasSubstr("not valid before"));
}

TEST_F(IssuerHttpTest, TokenNotYetValidWithinLeewayIsAccepted) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const int64_t nbf = absl::ToUnixSeconds(absl::Now() + absl::Seconds(10));  // leeway is 30 s
  HttpResult r = Exchange(MintCi(absl::StrCat(R"({"nbf":)", nbf, "}")), kDeployAudience);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(IssuerHttpTest, MalformedSubjectTokenIsInvalidGrant) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ExpectDenialRecorded(Exchange("not-a-jwt", kDeployAudience), "invalid_grant");
}

TEST_F(IssuerHttpTest, TokenForAnotherAudienceIsInvalidGrant) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintCi(R"({"aud":"https://not-writ.example"})"), kDeployAudience);
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "invalid_grant");
  EXPECT_EQ(rec.attested_subject, "");
}

TEST_F(IssuerHttpTest, UnsignedTokenOfTrustedIssuerIsInvalidGrant) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_OK_AND_ASSIGN(std::string claims, ci_idp_->Claims(absl::Now(), kCiClaims));
  const std::string token = absl::StrCat(Base64UrlEncode(R"({"alg":"none","typ":"JWT"})"), ".",
                                         Base64UrlEncode(claims), ".");
  issuer::LedgerRecord rec =
      ExpectDenialRecorded(Exchange(token, kDeployAudience), "invalid_grant");
  EXPECT_EQ(rec.attested_subject, "");
}

TEST_F(IssuerHttpTest, UnknownIssuerIsRefusedWithoutAnyFetch) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  // A delegated exchange makes sure both trusted issuers' keys are fetched
  // (and warm-up is over), so the counters below are stable.
  ASSERT_EQ(ExchangeDelegated().status, 200);
  const int ci_discovery = ci_idp_->discovery_requests();
  const int ci_jwks = ci_idp_->jwks_requests();
  const int agents_discovery = agents_idp_->discovery_requests();
  const int agents_jwks = agents_idp_->jwks_requests();

  test::TestOidcProviderOptions options;
  options.subject = kCiSubject;
  ASSERT_OK_AND_ASSIGN(auto stranger, test::TestOidcProvider::Start(options));
  ASSERT_OK_AND_ASSIGN(std::string token, stranger->Mint(absl::Now(), kCiClaims));
  HttpResult r = Exchange(token, kDeployAudience);
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "invalid_grant");
  EXPECT_EQ(rec.attested_issuer, "");
  EXPECT_THAT(absl::StrJoin(rec.reasons, "\n"), HasSubstr("not trusted"));

  EXPECT_EQ(stranger->discovery_requests(), 0);
  EXPECT_EQ(stranger->jwks_requests(), 0);
  EXPECT_EQ(ci_idp_->discovery_requests(), ci_discovery);
  EXPECT_EQ(ci_idp_->jwks_requests(), ci_jwks);
  EXPECT_EQ(agents_idp_->discovery_requests(), agents_discovery);
  EXPECT_EQ(agents_idp_->jwks_requests(), agents_jwks);
}

TEST_F(IssuerHttpTest, RotatedKeyIsAcceptedAfterOneRefresh) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(Exchange(MintCi(), kDeployAudience).status, 200);
  const int jwks_before = ci_idp_->jwks_requests();

  ASSERT_OK(ci_idp_->RotateKey());
  HttpResult r = Exchange(MintCi(), kDeployAudience);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ci_idp_->jwks_requests(), jwks_before + 1);
  EXPECT_EQ(RecordOf(r.headers["x-request-id"]).decision, "allow");

  // The refreshed keys serve the next token without another fetch.
  EXPECT_EQ(Exchange(MintCi(), kDeployAudience).status, 200);
  EXPECT_EQ(ci_idp_->jwks_requests(), jwks_before + 1);
}

TEST_F(IssuerHttpTest, UnknownKidRefreshesOncePerCooldown) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(Exchange(MintCi(), kDeployAudience).status, 200);
  const int jwks_before = ci_idp_->jwks_requests();

  ASSERT_OK_AND_ASSIGN(std::string first, ci_idp_->MintWithUnknownKid(absl::Now(), kCiClaims));
  ExpectDenialRecorded(Exchange(first, kDeployAudience), "invalid_grant");
  EXPECT_EQ(ci_idp_->jwks_requests(), jwks_before + 1);
  // Within refresh_cooldown, another unknown kid fetches nothing.
  ASSERT_OK_AND_ASSIGN(std::string second, ci_idp_->MintWithUnknownKid(absl::Now(), kCiClaims));
  ExpectDenialRecorded(Exchange(second, kDeployAudience), "invalid_grant");
  EXPECT_EQ(ci_idp_->jwks_requests(), jwks_before + 1);
}

TEST_F(IssuerHttpTest, ProviderDownWithCachedKeysStillAllows) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(Exchange(MintCi(), kDeployAudience).status, 200);
  ci_idp_->SetDown(true);
  HttpResult r = Exchange(MintCi(), kDeployAudience, "deploy:write");
  ASSERT_EQ(r.status, 200) << r.body;
  issuer::LedgerRecord rec = RecordOf(r.headers["x-request-id"]);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.credential_sha256, Sha256HexOf(*JsonString(r.body, "access_token")));
}

TEST_F(IssuerHttpTest, ReplayedJtiIsRefusedAndRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartServer({.one_time_jti = true}));
  const std::string token = MintCi();
  HttpResult first = Exchange(token, kDeployAudience);
  ASSERT_EQ(first.status, 200) << first.body;
  HttpResult second = Exchange(token, kDeployAudience);
  issuer::LedgerRecord rec = ExpectDenialRecorded(second, "invalid_grant");
  EXPECT_THAT(absl::StrJoin(rec.reasons, "\n"), HasSubstr("already used"));
  EXPECT_EQ(RecordOf(first.headers["x-request-id"]).decision, "allow");

  // A fresh token (new jti) of the same workload is fine; one without a
  // jti is refused.
  EXPECT_EQ(Exchange(MintCi(), kDeployAudience).status, 200);
  ExpectDenialRecorded(Exchange(MintCi(R"({"jti":null})"), kDeployAudience), "invalid_grant");
}

// BUG: with one_time_jti, the subject token's jti is spent as soon as it
// attests, even when the exchange then answers 503 temporarily_unavailable
// (here: the actor's issuer has no keys yet). RFC 6749 tells the client to
// retry such an answer, and the retry is refused as a replay.
TEST_F(IssuerHttpTest, OneTimeJtiIsNotSpentByATemporarilyUnavailableAnswer) {
  agents_idp_->SetDown(true);
  ASSERT_NO_FATAL_FAILURE(
      StartServer({.one_time_jti = true, .refresh_cooldown = absl::ZeroDuration()}));
  const std::string subject = MintCi();
  const std::string actor = MintAgent();
  const std::vector<std::pair<std::string, std::string>> delegation = {
      {"actor_token", actor}, {"actor_token_type", kJwtTokenType}};
  HttpResult unavailable = Exchange(subject, kDeployAudience, "", delegation);
  ASSERT_EQ(unavailable.status, 503) << unavailable.body;
  ASSERT_EQ(JsonString(unavailable.body, "error"), "temporarily_unavailable");

  agents_idp_->SetDown(false);
  HttpResult retry = Exchange(subject, kDeployAudience, "", delegation);
  EXPECT_EQ(retry.status, 200) << "the retry of a 503 was refused: " << retry.body;
}

TEST_F(IssuerHttpTest, AllowedActorAppearsAsActClaim) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintCi(), kDeployAudience, "",
                          {{"actor_token", MintAgent()}, {"actor_token_type", kJwtTokenType}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK_AND_ASSIGN(VerifiedJwt jwt,
                       VerifyIssued(*JsonString(r.body, "access_token"), kDeployAudience));
  EXPECT_EQ(jwt.claims.subject(), kGrantedSubject);
  EXPECT_EQ(jwt.claims.GetStringAt({"act", "sub"}), kAgentSubject);
  EXPECT_EQ(jwt.claims.GetStringAt({"act", "iss"}), agents_idp_->issuer());
  EXPECT_FALSE(jwt.claims.GetStringAt({"act", "act", "sub"}).has_value());

  issuer::LedgerRecord rec = RecordOf(r.headers["x-request-id"]);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_THAT(rec.actors, ElementsAre(kAgentSubject));
  EXPECT_EQ(rec.jti, jwt.claims.jwt_id());
}

TEST_F(IssuerHttpTest, ActorNotAllowedByPolicyIsAccessDenied) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintCi(), kDeployAudience, "",
                          {{"actor_token", MintAgent(R"({"sub":"agent:rogue"})")},
                           {"actor_token_type", kJwtTokenType}});
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "access_denied");
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_THAT(rec.actors, ElementsAre("agent:rogue"));
}

TEST_F(IssuerHttpTest, UntrustedActorTokenIsInvalidGrant) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_OK_AND_ASSIGN(auto stranger, test::TestOidcProvider::Start());
  ASSERT_OK_AND_ASSIGN(std::string actor,
                       stranger->Mint(absl::Now(), R"({"sub":"agent:build-bot"})"));
  HttpResult r = Exchange(MintCi(), kDeployAudience, "",
                          {{"actor_token", actor}, {"actor_token_type", kJwtTokenType}});
  issuer::LedgerRecord rec = ExpectDenialRecorded(r, "invalid_grant");
  EXPECT_THAT(absl::StrJoin(rec.reasons, "\n"), HasSubstr("actor_token"));
  EXPECT_EQ(stranger->jwks_requests(), 0);
}

}  // namespace
}  // namespace writ::integration

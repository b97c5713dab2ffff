// End-to-end tests of writ-issuer's gRPC API (writ.v1): TokenService status
// codes and trailing metadata, PolicyService.Explain, LedgerService.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/issuer_fixture.h"
#include "tests/testing/status_test_util.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class IssuerGrpcTest : public IssuerFixture {
 protected:
  void StartServerAndStubs(FixtureOptions options = {}) {
    ASSERT_NO_FATAL_FAILURE(StartServer(options));
    channel_ = grpc::CreateChannel(grpc_target(), grpc::InsecureChannelCredentials());
    tokens_ = v1::TokenService::NewStub(channel_);
    policy_ = v1::PolicyService::NewStub(channel_);
    ledger_ = v1::LedgerService::NewStub(channel_);
  }

  void TearDown() override {
    // Close the client side first: a server shutting down with a client
    // still connected waits longer for it.
    tokens_.reset();
    policy_.reset();
    ledger_.reset();
    channel_.reset();
    IssuerFixture::TearDown();
  }

  // Call runs ExchangeToken and returns its status; `oauth_error` and
  // `request_id` get the trailing metadata.
  grpc::Status Call(const v1::ExchangeTokenRequest& req, v1::ExchangeTokenResponse* resp,
                    std::string* oauth_error = nullptr, std::string* request_id = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status s = tokens_->ExchangeToken(&ctx, req, resp);
    const auto& md = ctx.GetServerTrailingMetadata();
    auto get = [&md](const char* key) {
      auto it = md.find(key);
      return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
    };
    if (oauth_error != nullptr) *oauth_error = get("writ-oauth-error");
    if (request_id != nullptr) *request_id = get("writ-request-id");
    return s;
  }

  v1::ExchangeTokenRequest Request(const std::string& token, absl::string_view audience = "",
                                   std::vector<std::string> scopes = {}) {
    v1::ExchangeTokenRequest req;
    req.set_subject_token(token);
    req.set_subject_token_type(kIdTokenType);
    req.set_audience(std::string(audience));
    for (const auto& s : scopes) req.add_scopes(s);
    return req;
  }

  // ExpectGrpcDenial runs `req`, expects `code` and `oauth` in the metadata,
  // and a deny record with that error (when `recorded`).
  void ExpectGrpcDenial(const v1::ExchangeTokenRequest& req, grpc::StatusCode code,
                        absl::string_view oauth, bool recorded = true) {
    v1::ExchangeTokenResponse resp;
    std::string error, request_id;
    grpc::Status s = Call(req, &resp, &error, &request_id);
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_FALSE(s.error_message().empty());
    EXPECT_EQ(error, oauth);
    EXPECT_EQ(resp.access_token(), "");
    if (!recorded) return;
    issuer::LedgerRecord rec = RecordOf(request_id);
    EXPECT_EQ(rec.decision, "deny");
    EXPECT_EQ(rec.error, oauth);
    EXPECT_EQ(rec.transport, "grpc");
    EXPECT_FALSE(rec.reasons.empty());
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TokenService::Stub> tokens_;
  std::unique_ptr<v1::PolicyService::Stub> policy_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_;
};

TEST_F(IssuerGrpcTest, ExchangeTokenMintsAndLedgerServiceFindsIt) {
  ASSERT_NO_FATAL_FAILURE(StartServerAndStubs());
  v1::ExchangeTokenRequest req = Request(MintCi(), kDeployAudience, {"deploy:write"});
  req.set_requested_lifetime_seconds(300);
  v1::ExchangeTokenResponse resp;
  std::string request_id;
  grpc::Status s = Call(req, &resp, nullptr, &request_id);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.issued_token_type(), "urn:ietf:params:oauth:token-type:access_token");
  EXPECT_EQ(resp.token_type(), "Bearer");
  EXPECT_EQ(resp.expires_in(), 300);
  EXPECT_THAT(resp.scopes(), ElementsAre("deploy:write"));
  EXPECT_EQ(resp.audience(), kDeployAudience);
  EXPECT_EQ(resp.subject(), kGrantedSubject);
  EXPECT_EQ(resp.rule(), "ci-deploy");
  EXPECT_FALSE(request_id.empty());

  ASSERT_OK_AND_ASSIGN(VerifiedJwt jwt, VerifyIssued(resp.access_token(), kDeployAudience));
  EXPECT_EQ(jwt.claims.jwt_id(), resp.jti());
  EXPECT_EQ(jwt.claims.subject(), kGrantedSubject);
  EXPECT_EQ(*jwt.claims.expires_at() - *jwt.claims.issued_at(), absl::Seconds(300));

  issuer::LedgerRecord rec = RecordOf(request_id);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.transport, "grpc");
  EXPECT_EQ(rec.client_address, "127.0.0.1");
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_EQ(rec.jti, resp.jti());
  EXPECT_EQ(rec.credential_sha256, Sha256HexOf(resp.access_token()));
  EXPECT_EQ(rec.granted_lifetime, absl::Seconds(300));

  grpc::ClientContext ctx;
  v1::GetByJtiRequest get;
  get.set_jti(resp.jti());
  v1::LedgerRecord found;
  s = ledger_->GetByJti(&ctx, get, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(found.request_id(), request_id);
  EXPECT_EQ(found.decision(), "allow");
  EXPECT_EQ(found.transport(), "grpc");
  EXPECT_EQ(found.attested_issuer(), ci_idp_->issuer());
  EXPECT_EQ(found.attested_subject(), kCiSubject);
  EXPECT_EQ(found.granted_subject(), kGrantedSubject);
  EXPECT_EQ(found.granted_audience(), kDeployAudience);
  EXPECT_THAT(found.granted_scopes(), ElementsAre("deploy:write"));
  EXPECT_EQ(found.granted_lifetime_seconds(), 300);
  EXPECT_EQ(found.credential_sha256(), Sha256HexOf(resp.access_token()));
  EXPECT_EQ(found.expires_at_unix(), absl::ToUnixSeconds(*jwt.claims.expires_at()));
  EXPECT_EQ(found.rule(), "ci-deploy");

  grpc::ClientContext missing_ctx;
  get.set_jti("no-such-jti");
  s = ledger_->GetByJti(&missing_ctx, get, &found);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(IssuerGrpcTest, StatusCodesAndOAuthErrorMetadata) {
  ASSERT_NO_FATAL_FAILURE(StartServerAndStubs());
  {
    SCOPED_TRACE("bad attestation: expired");
    ASSERT_OK_AND_ASSIGN(std::string expired,
                         ci_idp_->Mint(absl::Now() - absl::Hours(1), kCiClaims));
    ExpectGrpcDenial(Request(expired, kDeployAudience), grpc::StatusCode::UNAUTHENTICATED,
                     "invalid_grant");
  }
  {
    SCOPED_TRACE("bad attestation: garbage");
    ExpectGrpcDenial(Request("a.b.c", kDeployAudience), grpc::StatusCode::UNAUTHENTICATED,
                     "invalid_grant");
  }
  {
    SCOPED_TRACE("policy: no rule");
    ExpectGrpcDenial(Request(MintCi(R"({"repository_owner":"evil"})"), kDeployAudience),
                     grpc::StatusCode::PERMISSION_DENIED, "access_denied");
  }
  {
    SCOPED_TRACE("policy: audience");
    ExpectGrpcDenial(Request(MintCi(), "https://other.example"),
                     grpc::StatusCode::PERMISSION_DENIED, "invalid_target");
  }
  {
    SCOPED_TRACE("policy: scope");
    ExpectGrpcDenial(Request(MintCi(), kDeployAudience, {"deploy:admin"}),
                     grpc::StatusCode::PERMISSION_DENIED, "invalid_scope");
  }
  const size_t recorded = AllRecords().size();
  {
    SCOPED_TRACE("malformed: empty subject_token");
    ExpectGrpcDenial(Request("", kDeployAudience), grpc::StatusCode::INVALID_ARGUMENT,
                     "invalid_request", /*recorded=*/false);
  }
  {
    SCOPED_TRACE("malformed: negative lifetime");
    v1::ExchangeTokenRequest req = Request(MintCi(), kDeployAudience);
    req.set_requested_lifetime_seconds(-1);
    ExpectGrpcDenial(req, grpc::StatusCode::INVALID_ARGUMENT, "invalid_request",
                     /*recorded=*/false);
  }
  {
    SCOPED_TRACE("malformed: actor_token without its type");
    v1::ExchangeTokenRequest req = Request(MintCi(), kDeployAudience);
    req.set_actor_token(MintAgent());
    ExpectGrpcDenial(req, grpc::StatusCode::INVALID_ARGUMENT, "invalid_request",
                     /*recorded=*/false);
  }
  EXPECT_EQ(AllRecords().size(), recorded);
}

TEST_F(IssuerGrpcTest, ExplainNamesTheMatchingRuleOrWhyNot) {
  ASSERT_NO_FATAL_FAILURE(StartServerAndStubs());
  // A second rule, so why_not is per rule.
  ASSERT_NO_FATAL_FAILURE(WritePolicy("20-agents.yaml", R"(rules:
  - name: agents-read
    issuer: agents
    subject: "agent:build-bot"
    grant:
      audiences: ["https://artifacts.acme.example"]
      scopes: ["artifacts:read"]
)"));
  ASSERT_OK(server_->ReloadPolicies());

  v1::ExplainRequest req;
  req.mutable_identity()->set_issuer("ci");
  req.mutable_identity()->set_subject(kCiSubject);
  req.mutable_identity()->set_claims_json(kCiClaims);
  req.set_audience(kDeployAudience);
  req.add_scopes("deploy:write");
  req.set_requested_lifetime_seconds(120);
  req.set_client_address("127.0.0.1");
  {
    grpc::ClientContext ctx;
    v1::ExplainResponse resp;
    grpc::Status s = policy_->Explain(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.allowed());
    EXPECT_EQ(resp.rule(), "ci-deploy");
    EXPECT_EQ(resp.error(), "");
    EXPECT_EQ(resp.subject(), kGrantedSubject);
    EXPECT_EQ(resp.audience(), kDeployAudience);
    EXPECT_THAT(resp.scopes(), ElementsAre("deploy:write"));
    EXPECT_EQ(resp.lifetime_seconds(), 120);
    ASSERT_GE(resp.rules_size(), 1);
    EXPECT_EQ(resp.rules(0).rule(), "ci-deploy");
    EXPECT_EQ(resp.rules(0).policy_file(), "10-ci.yaml");
    EXPECT_TRUE(resp.rules(0).matched());
    EXPECT_THAT(resp.rules(0).why_not(), IsEmpty());
  }
  req.mutable_identity()->set_claims_json(
      R"({"repository":"acme/app","repository_owner":"evil","ref":"refs/heads/main"})");
  {
    grpc::ClientContext ctx;
    v1::ExplainResponse resp;
    grpc::Status s = policy_->Explain(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(resp.allowed());
    EXPECT_EQ(resp.error(), "access_denied");
    EXPECT_FALSE(resp.reasons().empty());
    ASSERT_EQ(resp.rules_size(), 2);
    EXPECT_EQ(resp.rules(0).rule(), "ci-deploy");
    EXPECT_FALSE(resp.rules(0).matched());
    EXPECT_THAT(absl::StrJoin(resp.rules(0).why_not(), "\n"), HasSubstr("repository_owner"));
    EXPECT_EQ(resp.rules(1).rule(), "agents-read");
    EXPECT_EQ(resp.rules(1).policy_file(), "20-agents.yaml");
    EXPECT_FALSE(resp.rules(1).matched());
    EXPECT_THAT(resp.rules(1).why_not(), Not(IsEmpty()));
  }
  {
    grpc::ClientContext ctx;
    v1::ExplainRequest bad;  // no identity.issuer
    v1::ExplainResponse resp;
    EXPECT_EQ(policy_->Explain(&ctx, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  // Explain is a dry run: nothing recorded.
  EXPECT_TRUE(AllRecords().empty());
}

TEST_F(IssuerGrpcTest, LedgerListFiltersBySubjectAndDecision) {
  ASSERT_NO_FATAL_FAILURE(StartServerAndStubs());
  const std::string other = "repo:acme/other:ref:refs/heads/main";
  v1::ExchangeTokenResponse allowed;
  ASSERT_TRUE(Call(Request(MintCi(), kDeployAudience), &allowed).ok());
  v1::ExchangeTokenResponse ignored;
  EXPECT_EQ(Call(Request(MintCi(), kDeployAudience, {"deploy:admin"}), &ignored).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Call(Request(MintCi(absl::StrCat(R"({"sub":")", other, R"("})")), kDeployAudience), &ignored)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  auto list = [this](absl::string_view subject, absl::string_view decision) {
    grpc::ClientContext ctx;
    v1::ListRecordsRequest req;
    req.set_subject(std::string(subject));
    req.set_decision(std::string(decision));
    v1::ListRecordsResponse resp;
    grpc::Status s = ledger_->List(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  };
  EXPECT_EQ(list("", "").records_size(), 3);
  EXPECT_EQ(list(kCiSubject, "").records_size(), 2);
  EXPECT_EQ(list("", "deny").records_size(), 2);
  // The granted subject finds the allow too.
  EXPECT_EQ(list(kGrantedSubject, "").records_size(), 1);

  v1::ListRecordsResponse mine = list(kCiSubject, "allow");
  ASSERT_EQ(mine.records_size(), 1);
  EXPECT_EQ(mine.records(0).jti(), allowed.jti());
  EXPECT_EQ(mine.records(0).credential_sha256(), Sha256HexOf(allowed.access_token()));

  v1::ListRecordsResponse theirs = list(other, "deny");
  ASSERT_EQ(theirs.records_size(), 1);
  EXPECT_EQ(theirs.records(0).attested_subject(), other);
  EXPECT_EQ(theirs.records(0).error(), "access_denied");
  EXPECT_EQ(theirs.records(0).jti(), "");

  EXPECT_EQ(list(other, "allow").records_size(), 0);

  grpc::ClientContext ctx;
  v1::ListRecordsRequest bad;
  bad.set_decision("maybe");
  v1::ListRecordsResponse resp;
  EXPECT_EQ(ledger_->List(&ctx, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(IssuerGrpcTest, ReplayOverGrpcIsUnauthenticated) {
  ASSERT_NO_FATAL_FAILURE(StartServerAndStubs({.one_time_jti = true}));
  const std::string token = MintCi();
  v1::ExchangeTokenResponse first;
  ASSERT_TRUE(Call(Request(token, kDeployAudience), &first).ok());
  ExpectGrpcDenial(Request(token, kDeployAudience), grpc::StatusCode::UNAUTHENTICATED,
                   "invalid_grant");
}

TEST_F(IssuerGrpcTest, DelegationOverGrpc) {
  ASSERT_NO_FATAL_FAILURE(StartServerAndStubs());
  v1::ExchangeTokenRequest req = Request(MintCi(), kDeployAudience);
  req.set_actor_token(MintAgent());
  req.set_actor_token_type(kJwtTokenType);
  v1::ExchangeTokenResponse resp;
  grpc::Status s = Call(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_OK_AND_ASSIGN(VerifiedJwt jwt, VerifyIssued(resp.access_token(), kDeployAudience));
  EXPECT_EQ(jwt.claims.GetStringAt({"act", "sub"}), kAgentSubject);

  req.set_actor_token(MintAgent(R"({"sub":"agent:rogue"})"));
  ExpectGrpcDenial(req, grpc::StatusCode::PERMISSION_DENIED, "access_denied");
}

}  // namespace
}  // namespace writ::integration

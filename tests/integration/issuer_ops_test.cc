// End-to-end tests of what surrounds an exchange: malformed requests (never
// recorded), the ledger failing closed, discovery and health endpoints, and
// policy reloads.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "rapidjson/document.h"
#include "tests/integration/issuer_fixture.h"
#include "tests/testing/status_test_util.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::integration {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Ne;
using ::testing::Not;

class IssuerOpsTest : public IssuerFixture {
 protected:
  // ExpectNotRecorded checks an RFC 6749 error answer without a request_id
  // (nothing was decided) and that the ledger did not grow.
  void ExpectNotRecorded(const HttpResult& r, long status, absl::string_view error,
                         size_t records_before) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(JsonString(r.body, "error"), std::string(error)) << r.body;
    EXPECT_TRUE(JsonString(r.body, "error_description").has_value()) << r.body;
    EXPECT_FALSE(JsonHas(r.body, "access_token"));
    EXPECT_EQ(AllRecords().size(), records_before);
  }

  std::string ValidForm(const std::string& token) {
    return FormEncode({{"grant_type", kGrantType},
                       {"subject_token", token},
                       {"subject_token_type", kIdTokenType}});
  }
};

TEST_F(IssuerOpsTest, MalformedRequestsAreRefusedAndNotRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string token = MintCi();
  const std::string form_type = "application/x-www-form-urlencoded";
  // One recorded decision first, so "not recorded" is not "ledger empty".
  ASSERT_EQ(Exchange(token, kDeployAudience).status, 200);
  const size_t before = AllRecords().size();
  ASSERT_EQ(before, 1u);

  {
    SCOPED_TRACE("wrong content type");
    ExpectNotRecorded(HttpPost(token_url(), "application/json",
                               absl::StrCat(R"({"grant_type":")", kGrantType, R"("})")),
                      400, "invalid_request", before);
    ExpectNotRecorded(HttpPost(token_url(), "text/plain", ValidForm(token)), 400, "invalid_request",
                      before);
  }
  {
    SCOPED_TRACE("bad percent-encoding");
    ExpectNotRecorded(HttpPost(token_url(), form_type, ValidForm(token) + "&scope=%zz"), 400,
                      "invalid_request", before);
  }
  {
    SCOPED_TRACE("duplicate subject_token");
    ExpectNotRecorded(HttpPost(token_url(), form_type,
                               ValidForm(token) + "&" + FormEncode({{"subject_token", token}})),
                      400, "invalid_request", before);
  }
  {
    SCOPED_TRACE("missing grant_type");
    ExpectNotRecorded(
        HttpPost(token_url(), form_type,
                 FormEncode({{"subject_token", token}, {"subject_token_type", kIdTokenType}})),
        400, "invalid_request", before);
  }
  {
    SCOPED_TRACE("unsupported grant_type");
    ExpectNotRecorded(HttpPost(token_url(), form_type,
                               FormEncode({{"grant_type", "client_credentials"},
                                           {"subject_token", token},
                                           {"subject_token_type", kIdTokenType}})),
                      400, "unsupported_grant_type", before);
  }
  {
    SCOPED_TRACE("missing subject_token");
    ExpectNotRecorded(
        HttpPost(token_url(), form_type,
                 FormEncode({{"grant_type", kGrantType}, {"subject_token_type", kIdTokenType}})),
        400, "invalid_request", before);
  }
  {
    SCOPED_TRACE("unsupported subject_token_type");
    ExpectNotRecorded(HttpPost(token_url(), form_type,
                               FormEncode({{"grant_type", kGrantType},
                                           {"subject_token", token},
                                           {"subject_token_type", "urn:x:saml2"}})),
                      400, "invalid_request", before);
  }
  {
    SCOPED_TRACE("requested_lifetime not a positive number");
    ExpectNotRecorded(HttpPost(token_url(), form_type, ValidForm(token) + "&requested_lifetime=-5"),
                      400, "invalid_request", before);
    ExpectNotRecorded(HttpPost(token_url(), form_type, ValidForm(token) + "&requested_lifetime=1h"),
                      400, "invalid_request", before);
  }
  {
    SCOPED_TRACE("two audiences");
    ExpectNotRecorded(
        HttpPost(token_url(), form_type, ValidForm(token) + "&audience=a&resource=https%3A%2F%2Fb"),
        400, "invalid_target", before);
  }
  {
    SCOPED_TRACE("GET on the token endpoint");
    HttpResult r = HttpGet(token_url());
    ExpectNotRecorded(r, 405, "invalid_request", before);
    EXPECT_EQ(r.headers["allow"], "POST");
  }
}

TEST_F(IssuerOpsTest, BodyOverLimitIsRefusedWithoutServerError) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string big = ValidForm(MintCi()) + "&scope=" + std::string(70 * 1024, 'a');
  HttpResult r = HttpPost(token_url(), "application/x-www-form-urlencoded", big);
  // The token endpoint reads its own body: past max_body_bytes, 413.
  EXPECT_EQ(r.status, 413) << r.body << r.error;
  EXPECT_THAT(r.status, Ne(500));
  EXPECT_TRUE(AllRecords().empty());
  // The server still serves.
  EXPECT_EQ(Exchange(MintCi(), kDeployAudience).status, 200);
}

// Debian's cpp-httplib would cap form bodies at 8 KiB with an empty 413; the
// token endpoint takes bodies up to max_body_bytes (64 KiB), and a refusal
// past it is an OAuth error.
TEST_F(IssuerOpsTest, FormBodiesBetween8And64KiBAreServedAndLargerOnesGetOAuthJson) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string padded =
      ValidForm(MintCi()) + "&audience=" + kDeployAudience + "&pad=" + std::string(20 * 1024, 'a');
  HttpResult ok = HttpPost(token_url(), "application/x-www-form-urlencoded", padded);
  EXPECT_EQ(ok.status, 200) << ok.body;
  const std::string big = ValidForm(MintCi()) + "&pad=" + std::string(70 * 1024, 'a');
  HttpResult refused = HttpPost(token_url(), "application/x-www-form-urlencoded", big);
  EXPECT_EQ(refused.status, 413);
  if (!refused.body.empty()) {
    EXPECT_EQ(JsonString(refused.body, "error"), "invalid_request");
  }
}

TEST_F(IssuerOpsTest, LedgerFailureFailsClosedOnBothTransports) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(ExchangeDelegated().status, 200);
  ASSERT_EQ(HttpGet(url("/readyz")).status, 200);

  auto* ledger = dynamic_cast<issuer::RocksDbLedger*>(server_->ledger());
  ASSERT_NE(ledger, nullptr);
  ASSERT_OK(ledger->Close());

  HttpResult r = Exchange(MintCi(), kDeployAudience, "deploy:write");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(JsonString(r.body, "error"), "temporarily_unavailable");
  EXPECT_FALSE(JsonHas(r.body, "access_token"));
  EXPECT_THAT(r.body, Not(HasSubstr("eyJ")));  // no JWS of any kind
  EXPECT_EQ(r.headers["retry-after"], "1");
  // A would-be denial cannot be recorded either: the same 503.
  HttpResult denied = Exchange(MintCi(), kDeployAudience, "deploy:admin");
  EXPECT_EQ(denied.status, 503) << denied.body;
  EXPECT_EQ(JsonString(denied.body, "error"), "temporarily_unavailable");

  auto channel = grpc::CreateChannel(grpc_target(), grpc::InsecureChannelCredentials());
  auto stub = v1::TokenService::NewStub(channel);
  grpc::ClientContext ctx;
  v1::ExchangeTokenRequest req;
  req.set_subject_token(MintCi());
  req.set_audience(kDeployAudience);
  v1::ExchangeTokenResponse resp;
  grpc::Status s = stub->ExchangeToken(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(resp.access_token(), "");
  auto md = ctx.GetServerTrailingMetadata().find("writ-oauth-error");
  ASSERT_NE(md, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(md->second.data(), md->second.size()), "temporarily_unavailable");

  HttpResult ready = HttpGet(url("/readyz"));
  EXPECT_EQ(ready.status, 503);
  EXPECT_THAT(ready.body, HasSubstr("ledger"));
  EXPECT_EQ(HttpGet(url("/healthz")).status, 200);
}

TEST_F(IssuerOpsTest, DiscoveryDocumentDescribesTheIssuer) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string base = server_->issuer_url();
  EXPECT_EQ(base, absl::StrCat("http://127.0.0.1:", server_->http_port()));
  for (const char* path :
       {"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}) {
    SCOPED_TRACE(path);
    HttpResult r = HttpGet(url(path));
    ASSERT_EQ(r.status, 200);
    EXPECT_THAT(r.headers["content-type"], HasSubstr("application/json"));
    EXPECT_EQ(JsonString(r.body, "issuer"), base);
    EXPECT_EQ(JsonString(r.body, "jwks_uri"), base + "/jwks");
    EXPECT_EQ(JsonString(r.body, "token_endpoint"), base + "/oauth2/token");
    rapidjson::Document doc;
    doc.Parse(r.body.data(), r.body.size());
    ASSERT_TRUE(doc.IsObject());
    ASSERT_TRUE(doc["grant_types_supported"].IsArray());
    EXPECT_EQ(std::string(doc["grant_types_supported"][0].GetString()), kGrantType);
    EXPECT_EQ(std::string(doc["id_token_signing_alg_values_supported"][0].GetString()), "ES256");
  }
  HttpResult jwks = HttpGet(url("/jwks"));
  ASSERT_EQ(jwks.status, 200);
  ASSERT_OK_AND_ASSIGN(JwkSet keys, JwkSet::Parse(jwks.body));
  // The active key and the prepared next one (published before it signs).
  ASSERT_EQ(keys.keys().size(), 2u);
  for (const PublicJwk& key : keys.keys()) {
    EXPECT_EQ(key.algorithm(), JwsAlgorithm::kEs256);
    EXPECT_FALSE(key.kid().empty());
  }
  EXPECT_EQ(HttpGet(url("/no-such-path")).status, 404);
}

TEST_F(IssuerOpsTest, HealthzAndReadyzOnceKeysAreFetched) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult health = HttpGet(url("/healthz"));
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  // A delegated exchange needs both issuers' keys, so both are held after it.
  ASSERT_EQ(ExchangeDelegated().status, 200);
  HttpResult ready = HttpGet(url("/readyz"));
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_THAT(ready.body, HasSubstr("ready\n"));
  EXPECT_THAT(ready.body, HasSubstr("ci: keys ready"));
  EXPECT_THAT(ready.body, HasSubstr("agents: keys ready"));
  EXPECT_TRUE(server_->Readiness().empty());
}

// An issuer without keys fails only its own requests: the server stays ready
// (for the other issuers) and /readyz says which issuer has no keys.
TEST_F(IssuerOpsTest, AnIssuerWithoutKeysDoesNotMakeTheServerUnready) {
  ci_idp_->SetDown(true);
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult ready = HttpGet(url("/readyz"));
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_THAT(ready.body, HasSubstr("ci: no keys"));
  // Without keys an exchange is the issuer's outage, not the caller's fault.
  HttpResult r = Exchange(MintCi(), kDeployAudience);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(JsonString(r.body, "error"), "temporarily_unavailable");
}

TEST_F(IssuerOpsTest, ReloadRefusesBrokenPolicyAndAppliesValidChange) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(Exchange(MintCi(), kDeployAudience, "deploy:write").status, 200);
  ASSERT_EQ(JsonString(Exchange(MintCi(), kDeployAudience, "deploy:admin").body, "error"),
            "invalid_scope");

  // A broken file (no grant) next to the good one: the whole set is refused.
  ASSERT_NO_FATAL_FAILURE(
      WritePolicy("20-broken.yaml", "rules:\n  - name: broken\n    issuer: ci\n"));
  absl::Status reload = server_->ReloadPolicies();
  EXPECT_FALSE(reload.ok());
  EXPECT_THAT(std::string(reload.message()), HasSubstr("20-broken.yaml"));
  EXPECT_EQ(Exchange(MintCi(), kDeployAudience, "deploy:write").status, 200);
  EXPECT_EQ(JsonString(Exchange(MintCi(), kDeployAudience, "deploy:admin").body, "error"),
            "invalid_scope");

  // A valid set whose own self-test fails is refused too.
  std::string failing = std::string(kCiPolicy) + R"(tests:
  - name: claims main is denied (wrong on purpose)
    identity: {issuer: ci, subject: "repo:acme/app:ref:refs/heads/main",
               claims: {repository: acme/app, repository_owner: acme}}
    expect: {decision: deny}
)";
  std::filesystem::remove(policy_dir_ + "/20-broken.yaml");
  ASSERT_NO_FATAL_FAILURE(WritePolicy("10-ci.yaml", failing));
  EXPECT_FALSE(server_->ReloadPolicies().ok());
  EXPECT_EQ(Exchange(MintCi(), kDeployAudience, "deploy:write").status, 200);

  // A valid change: deploy:admin instead of deploy:write.
  std::string changed(kCiPolicy);
  changed.replace(changed.find("\"deploy:write\""), 14, "\"deploy:admin\"");
  ASSERT_NO_FATAL_FAILURE(WritePolicy("10-ci.yaml", changed));
  ASSERT_OK(server_->ReloadPolicies());
  HttpResult admin = Exchange(MintCi(), kDeployAudience, "deploy:admin");
  EXPECT_EQ(admin.status, 200) << admin.body;
  ExpectDenialRecorded(Exchange(MintCi(), kDeployAudience, "deploy:write"), "invalid_scope");
}

}  // namespace
}  // namespace writ::integration

// IssuerFixture: a whole writ-issuer in-process (IssuerServer on port 0) in
// front of two TestOidcProviders on loopback, with its own data and policy
// directories, for end-to-end tests over real HTTP and gRPC.
//
// Trusted issuers of the server:
//   "ci"     -> ci_idp()     (workload tokens; subject "repo:acme/app:ref:refs/heads/main")
//   "agents" -> agents_idp() (actor tokens; subject "agent:build-bot")
// both with audience "writ". The policy directory holds kCiPolicy as
// "10-ci.yaml" unless the test writes others before StartServer(). The SPIFFE
// trust domain is kTrustDomain; X.509 (self-signed CA) and SSH are enabled.
#ifndef WRIT_TESTS_INTEGRATION_ISSUER_FIXTURE_H_
#define WRIT_TESTS_INTEGRATION_ISSUER_FIXTURE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "issuer/src/config/issuer_config.h"
#include "issuer/src/ledger/ledger.h"
#include "issuer/src/main/issuer_server.h"
#include "tests/testing/test_oidc_provider.h"
#include "writ/base/clock.h"
#include "writ/jose/jwt_validator.h"

namespace writ::integration {

// The token-exchange grant and token types (RFC 8693).
inline constexpr char kGrantType[] = "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr char kIdTokenType[] = "urn:ietf:params:oauth:token-type:id_token";
inline constexpr char kJwtTokenType[] = "urn:ietf:params:oauth:token-type:jwt";

inline constexpr char kCiSubject[] = "repo:acme/app:ref:refs/heads/main";
inline constexpr char kAgentSubject[] = "agent:build-bot";
inline constexpr char kDeployAudience[] = "https://deploy.acme.example";
inline constexpr char kGrantedSubject[] = "spiffe://acme.example/ci/acme/app";
inline constexpr char kTrustDomain[] = "acme.example";
// kFactsOid: the attested-facts extension of the fixture's SVIDs.
inline constexpr char kFactsOid[] = "1.3.6.1.4.1.99999.1";

// kCiClaims are the claims of a workload token that rule "ci-deploy" allows.
inline constexpr char kCiClaims[] =
    R"({"repository":"acme/app","repository_owner":"acme","ref":"refs/heads/main"})";

// kCiPolicy: acme/app on main may deploy (and build-bot may act for it).
inline constexpr char kCiPolicy[] = R"(rules:
  - name: ci-deploy
    issuer: ci
    subject: "repo:acme/app:ref:refs/heads/main"
    claims:
      repository_owner: acme
    grant:
      subject: "spiffe://acme.example/ci/{repository}"
      audiences: ["https://deploy.acme.example"]
      scopes: ["deploy:read", "deploy:write"]
      default_scopes: ["deploy:read"]
      default_lifetime: 5m
      max_lifetime: 15m
      include_claims: [repository, ref]
    delegation:
      actors:
        - issuer: agents
          subject: "agent:build-bot"
)";

// HttpResult is one HTTP exchange as a client saw it.
struct HttpResult {
  long status = 0;  // 0: the request did not complete (see error)
  std::string error;
  std::string body;
  // headers, names lowercased; the last value of each.
  std::map<std::string, std::string> headers;
};

// HttpGet / HttpPost / HttpRequest run one request with libcurl (no proxy,
// 5 s timeout). `extra_headers` are "Name: value" lines.
HttpResult HttpRequest(absl::string_view method, const std::string& url,
                       absl::string_view content_type = "", absl::string_view body = "",
                       const std::vector<std::string>& extra_headers = {});
inline HttpResult HttpGet(const std::string& url) { return HttpRequest("GET", url); }
inline HttpResult HttpPost(const std::string& url, absl::string_view content_type,
                           absl::string_view body) {
  return HttpRequest("POST", url, content_type, body);
}

// FormEncode percent-encodes (name, value) pairs as a form body.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// JsonString returns the string member `name` of the JSON object `json`, or
// nullopt when it is absent, not a string, or `json` is not an object.
std::optional<std::string> JsonString(absl::string_view json, absl::string_view name);
// JsonInt returns an integer member, or nullopt.
std::optional<int64_t> JsonInt(absl::string_view json, absl::string_view name);
// JsonHas is true when `json` is an object with a member `name`.
bool JsonHas(absl::string_view json, absl::string_view name);

// MergeJson returns the JSON object `base` with every member of `extra` put
// over it (both must be objects).
std::string MergeJson(absl::string_view base, absl::string_view extra);

// Sha256HexOf returns the lowercase hex SHA-256 of `data`.
std::string Sha256HexOf(absl::string_view data);

struct FixtureOptions {
  // one_time_jti on the "ci" issuer. Default: false.
  bool one_time_jti = false;
  // refresh_cooldown of both issuers. Default: 30 s (the product default).
  absl::Duration refresh_cooldown = absl::Seconds(30);
  // write_default_policy writes kCiPolicy as 10-ci.yaml. Default: true.
  bool write_default_policy = true;
  // clock of the server (attestation, policy time, certificates, ledger).
  // Default: null (the system clock).
  const Clock* clock = nullptr;
  // grpc_tls serves gRPC over TLS with a certificate for IP 127.0.0.1
  // (grpc_tls_cert_pem() for clients to trust); it asks for client
  // certificates, as SVID renewal needs. Default: false (plaintext).
  bool grpc_tls = false;
  // extra_issuers are trusted too, after "ci" and "agents". Default: none.
  std::vector<issuer::TrustedIssuerConfig> extra_issuers;
};

class IssuerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // StartServer starts the issuer with the trusted issuers above. Call with
  // ASSERT_NO_FATAL_FAILURE.
  void StartServer(FixtureOptions options = {});
  // WritePolicy writes `yaml` as `name` in the policy directory.
  void WritePolicy(absl::string_view name, absl::string_view yaml);

  // now is the server's time (FixtureOptions::clock, else the system's).
  absl::Time now() const;

  // MintCi mints a "ci" token at now() with kCiClaims plus `extra` (a JSON
  // object put over them).
  std::string MintCi(absl::string_view extra = "{}");
  std::string MintAgent(absl::string_view extra = "{}");

  // Exchange POSTs a token-exchange form: grant_type, subject_token (typ
  // id_token), `audience` and `scope` when non-empty, then `extra` fields.
  HttpResult Exchange(const std::string& subject_token, absl::string_view audience = "",
                      absl::string_view scope = "",
                      const std::vector<std::pair<std::string, std::string>>& extra = {});

  // ExchangeDelegated exchanges a ci token with an agents actor token: once
  // it has succeeded both issuers' keys are held (warm-up is over for both).
  HttpResult ExchangeDelegated();

  std::string token_url() const { return server_->issuer_url() + "/oauth2/token"; }
  std::string url(absl::string_view path) const {
    return server_->issuer_url() + std::string(path);
  }
  std::string grpc_target() const;
  // grpc_tls_cert_pem is the gRPC listener's certificate (FixtureOptions::grpc_tls).
  const std::string& grpc_tls_cert_pem() const { return grpc_tls_cert_pem_; }

  // RecordOf returns the one ledger record with `request_id` (a test
  // failure, and an empty record, when there is not exactly one).
  issuer::LedgerRecord RecordOf(absl::string_view request_id);
  // AllRecords returns every ledger record, newest first.
  std::vector<issuer::LedgerRecord> AllRecords();

  // ExpectDenialRecorded checks that `response` is an RFC 6749 error `error`
  // with HTTP 400 and that its request_id's ledger record is a deny with the
  // same error and reasons. Returns the record.
  issuer::LedgerRecord ExpectDenialRecorded(const HttpResult& response, absl::string_view error);

  // VerifyIssued checks the token against the server's /jwks (fetched over
  // HTTP) as a relying party for `audience` would, with typ at+jwt.
  absl::StatusOr<VerifiedJwt> VerifyIssued(const std::string& token, const std::string& audience);

  std::string data_dir_;
  std::string policy_dir_;
  std::unique_ptr<test::TestOidcProvider> ci_idp_;
  std::unique_ptr<test::TestOidcProvider> agents_idp_;
  std::unique_ptr<issuer::IssuerServer> server_;

 private:
  std::string root_;
  std::string grpc_tls_cert_pem_;
  const Clock* clock_ = nullptr;
};

}  // namespace writ::integration

#endif  // WRIT_TESTS_INTEGRATION_ISSUER_FIXTURE_H_

// Client against a loopback stand-in for Writ's HTTP endpoints, through the
// real CurlFetcher: request shapes, reply parsing, and every error mapping.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/client/client_test_util.h"
#include "writ/base/clock.h"
#include "writ/client/client.h"
#include "writ/net/curl_fetcher.h"

namespace writ {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_internal::IsError;

constexpr char kSubjectToken[] = "subject-token-secret";
constexpr char kTokenReply[] =
    R"({"access_token":"writ-token","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":300,"scope":"deploy:read deploy:write"})";
constexpr char kPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

// Seen is what the stand-in received on one endpoint.
struct Seen {
  int requests = 0;
  std::string method, content_type, authorization, body, target;
  std::multimap<std::string, std::string> params;
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto route = [this](const std::string& path) {
      return [this, path](const httplib::Request& req, httplib::Response& res) {
        absl::MutexLock lock(&mu_);
        Seen& s = seen_[path];
        ++s.requests;
        s.method = req.method;
        s.content_type = req.get_header_value("Content-Type");
        s.authorization = req.get_header_value("Authorization");
        s.body = req.body;
        s.target = req.target;
        s.params = req.params;
        auto it = replies_.find(path);
        if (it == replies_.end()) {
          res.status = 404;
          return;
        }
        res.status = it->second.first;
        res.set_content(it->second.second, "application/json");
      };
    };
    server_.server().Post("/oauth2/token", route("/oauth2/token"));
    server_.server().Post("/v1/x509-svid", route("/v1/x509-svid"));
    server_.server().Post("/v1/ssh-certificate", route("/v1/ssh-certificate"));
    server_.server().Get("/v1/bundle.pem", route("/v1/bundle.pem"));
    server_.Start();
    Reply("/oauth2/token", 200, kTokenReply);
  }

  void Reply(const std::string& path, int status, std::string body) {
    absl::MutexLock lock(&mu_);
    replies_[path] = {status, std::move(body)};
  }
  Seen SeenAt(const std::string& path) {
    absl::MutexLock lock(&mu_);
    return seen_[path];
  }

  ClientOptions Options() {
    ClientOptions options;
    options.issuer_url = server_.Url();
    options.attestation = NewCallbackSource(
        [this](absl::string_view audience) -> absl::StatusOr<std::string> {
          attestation_audience_ = std::string(audience);
          return std::string(kSubjectToken);
        },
        "test callback");
    options.clock = &clock_;
    return options;
  }
  std::unique_ptr<Client> NewClient() {
    absl::StatusOr<std::unique_ptr<Client>> client = Client::New(Options());
    EXPECT_OK(client);
    return client.ok() ? *std::move(client) : nullptr;
  }

  testing_internal::StandInServer server_;
  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::string attestation_audience_;
  absl::Mutex mu_;
  std::map<std::string, Seen> seen_;
  std::map<std::string, std::pair<int, std::string>> replies_;
};

TEST_F(HttpClientTest, NewChecksTheOptions) {
  auto expect_refused = [](ClientOptions options, absl::string_view part) {
    EXPECT_THAT(Client::New(std::move(options)), IsError(absl::StatusCode::kInvalidArgument, part));
  };
  ClientOptions options = Options();
  options.issuer_url = "";
  expect_refused(options, "issuer_url is required");
  for (const char* url : {"http://writ.acme.example", "http://127.0.0.1.evil.example",
                          "ftp://127.0.0.1", "https://writ.acme.example/#x", "no url"}) {
    SCOPED_TRACE(url);
    options.issuer_url = url;
    expect_refused(options, "issuer_url must be an https:// URL");
  }
  options.issuer_url = "https://writ.acme.example/?tenant=a";
  expect_refused(options, "must not have a query");
  options = Options();
  options.attestation = nullptr;
  expect_refused(options, "attestation is required");
  options = Options();
  options.timeout = absl::ZeroDuration();
  expect_refused(options, "timeout");
  options = Options();
  CurlFetcher fetcher;
  options.fetcher = &fetcher;
  options.ca_pem = kPem;
  expect_refused(options, "ca_pem");
  options = Options();
  options.issuer_url = "https://writ.acme.example";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::New(options));
  EXPECT_EQ(client->issuer_url(), "https://writ.acme.example");
}

TEST_F(HttpClientTest, ExchangeSendsTheTokenExchangeFormAndParsesTheAnswer) {
  std::unique_ptr<Client> client = NewClient();
  TokenRequest request;
  request.audience = "https://deploy.acme.example/a b&c";
  request.scopes = {"deploy:write", "deploy:read"};
  request.lifetime = absl::Minutes(10);
  ASSERT_OK_AND_ASSIGN(Token token, client->ExchangeToken(request));
  EXPECT_EQ(token.access_token, "writ-token");
  EXPECT_EQ(token.token_type, "Bearer");
  EXPECT_THAT(token.scopes, ElementsAre("deploy:read", "deploy:write"));
  EXPECT_EQ(token.issued_at, clock_.Now());
  EXPECT_EQ(token.expires_at, clock_.Now() + absl::Seconds(300));
  EXPECT_EQ(attestation_audience_, server_.Url());

  const Seen seen = SeenAt("/oauth2/token");
  EXPECT_EQ(seen.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(seen.body,
            absl::StrCat("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
                         "&subject_token=",
                         kSubjectToken,
                         "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt"
                         "&audience=https%3A%2F%2Fdeploy.acme.example%2Fa%20b%26c"
                         "&scope=deploy%3Awrite%20deploy%3Aread&requested_lifetime=600"));
  EXPECT_EQ(seen.params.count("actor_token"), 0u);
  EXPECT_EQ(seen.params.find("audience")->second, "https://deploy.acme.example/a b&c");
}

TEST_F(HttpClientTest, ExchangeLeavesOutWhatIsNotAskedAndSendsTheActor) {
  ClientOptions options = Options();
  options.attestation_audience = "writ";
  options.issuer_url = server_.Url("/");  // a trailing slash is not doubled
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::New(options));
  TokenRequest request;
  request.actor_token = "actor-token";
  ASSERT_OK(client->ExchangeToken(request));
  EXPECT_EQ(attestation_audience_, "writ");
  const Seen seen = SeenAt("/oauth2/token");
  EXPECT_EQ(seen.target, "/oauth2/token");
  EXPECT_EQ(seen.params.count("audience") + seen.params.count("scope") +
                seen.params.count("requested_lifetime"),
            0u);
  EXPECT_EQ(seen.params.find("actor_token")->second, "actor-token");
  EXPECT_EQ(seen.params.find("actor_token_type")->second, "urn:ietf:params:oauth:token-type:jwt");
}

TEST_F(HttpClientTest, AbsentScopeMeansTheScopesAskedFor) {
  Reply("/oauth2/token", 200,
        R"({"access_token":"t","issued_token_type":"x","token_type":"bearer","expires_in":60})");
  TokenRequest request;
  request.scopes = {"deploy:read"};
  ASSERT_OK_AND_ASSIGN(Token token, NewClient()->ExchangeToken(request));
  EXPECT_THAT(token.scopes, ElementsAre("deploy:read"));
  EXPECT_EQ(token.expires_at - token.issued_at, absl::Seconds(60));
}

struct ErrorCase {
  int http_status;
  std::string error;
  absl::StatusCode code;
};

TEST_F(HttpClientTest, EachOAuthErrorMapsToItsCodeWithTheIssuersReason) {
  const std::vector<ErrorCase> cases = {
      {400, "invalid_request", absl::StatusCode::kInvalidArgument},
      {400, "unsupported_grant_type", absl::StatusCode::kInvalidArgument},
      {400, "unsupported_token_type", absl::StatusCode::kInvalidArgument},
      {400, "invalid_grant", absl::StatusCode::kUnauthenticated},
      {400, "unauthorized_client", absl::StatusCode::kUnauthenticated},
      {401, "invalid_client", absl::StatusCode::kUnauthenticated},
      {400, "invalid_scope", absl::StatusCode::kPermissionDenied},
      {400, "invalid_target", absl::StatusCode::kPermissionDenied},
      {400, "access_denied", absl::StatusCode::kPermissionDenied},
      {400, "something_new", absl::StatusCode::kInvalidArgument},
      {401, "something_new", absl::StatusCode::kUnauthenticated},
      {403, "something_new", absl::StatusCode::kPermissionDenied},
  };
  std::unique_ptr<Client> client = NewClient();
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.error);
    Reply("/oauth2/token", c.http_status,
          absl::StrCat(
              R"({"error":")", c.error,
              R"(","error_description":"scope \"admin\" is not allowed","request_id":"r-1"})"));
    auto got = client->ExchangeToken({});
    EXPECT_THAT(got,
                IsError(c.code, absl::StrCat("the issuer refused: ", c.error,
                                             ": scope \"admin\" is not allowed (request_id r-1)")));
    EXPECT_THAT(std::string(got.status().message()), Not(HasSubstr(kSubjectToken)));
  }
}

TEST_F(HttpClientTest, OutagesAndRateLimitsAreNotRefusals) {
  std::unique_ptr<Client> client = NewClient();
  Reply("/oauth2/token", 503,
        R"({"error":"temporarily_unavailable","error_description":"the ledger cannot record"})");
  EXPECT_THAT(client->ExchangeToken({}),
              IsError(absl::StatusCode::kUnavailable,
                      "the issuer answered HTTP 503: temporarily_unavailable: the ledger"));
  Reply("/oauth2/token", 500, R"({"error":"server_error","error_description":"internal error"})");
  EXPECT_THAT(client->ExchangeToken({}), IsError(absl::StatusCode::kUnavailable, "server_error"));
  Reply("/oauth2/token", 502, "<html>Bad Gateway</html>\n<p>nginx</p>");
  EXPECT_THAT(client->ExchangeToken({}),
              IsError(absl::StatusCode::kUnavailable, "HTTP 502: <html>Bad Gateway</html>"));
  Reply("/oauth2/token", 429, "");
  EXPECT_THAT(client->ExchangeToken({}),
              IsError(absl::StatusCode::kResourceExhausted, "the issuer answered HTTP 429"));
  Reply("/oauth2/token", 400, "not json");
  EXPECT_THAT(client->ExchangeToken({}),
              IsError(absl::StatusCode::kInvalidArgument, "HTTP 400: not json"));
  Reply("/oauth2/token", 302, "");
  EXPECT_THAT(client->ExchangeToken({}), IsError(absl::StatusCode::kUnavailable, "HTTP 302"));
  // A proxy that echoes the request must not put the OIDC token in a message.
  Reply("/oauth2/token", 400,
        "bad request: subject_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
  absl::Status echoed = client->ExchangeToken({}).status();
  EXPECT_THAT(echoed, IsError(absl::StatusCode::kInvalidArgument, "not shown"));
  EXPECT_THAT(std::string(echoed.message()), Not(HasSubstr("eyJ")));
}

TEST_F(HttpClientTest, MalformedOrIncompleteAnswersAreUnavailable) {
  std::unique_ptr<Client> client = NewClient();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"issued_token_type":"x","token_type":"Bearer","expires_in":300})", "access_token"},
      {R"({"access_token":"t","token_type":"Bearer","expires_in":300})", "issued_token_type"},
      {R"({"access_token":"t","issued_token_type":"x","expires_in":300})", "token_type"},
      {R"({"access_token":"t","issued_token_type":"x","token_type":"Bearer"})", "expires_in"},
      {R"({"access_token":"t","issued_token_type":"x","token_type":"Bearer","expires_in":"300"})",
       "\"expires_in\" is not an integer"},
      {R"({"access_token":"t","issued_token_type":"x","token_type":"Bearer","expires_in":0})",
       "not positive"},
      {R"({"access_token":"t","issued_token_type":"x","token_type":"Bearer","expires_in":31622401})",
       "over a year"},
      {R"({"access_token":"t","issued_token_type":"x","token_type":"N_A","expires_in":30})",
       "not Bearer"},
      {R"({"access_token":7,"issued_token_type":"x","token_type":"Bearer","expires_in":30})",
       "\"access_token\" is not a string"},
      {R"({"access_token":"a b","issued_token_type":"x","token_type":"Bearer","expires_in":30})",
       "whitespace"},
      {R"({"access_token":"t","issued_token_type":"x","token_type":"Bearer","expires_in":30,"scope":["a"]})",
       "\"scope\" is not a string"},
      {R"({"access_token":"t","access_token":"u","issued_token_type":"x","token_type":"Bearer","expires_in":30})",
       "duplicate member"},
      {R"({"access_token":"t","issued_token_type":"x","token_type":"Bearer","expires_in":30,"scope":"a\nNODE_OPTIONS=x"})",
       "control character"},
  };
  for (const auto& [body, part] : cases) {
    SCOPED_TRACE(body);
    Reply("/oauth2/token", 200, body);
    EXPECT_THAT(client->ExchangeToken({}), IsError(absl::StatusCode::kUnavailable,
                                                   "the issuer answered without a usable token"));
    EXPECT_THAT(client->ExchangeToken({}), IsError(absl::StatusCode::kUnavailable, part));
  }
}

TEST_F(HttpClientTest, OversizedAnswerIsRefused) {
  Reply("/oauth2/token", 200, std::string((1 << 20) + 1, ' '));
  EXPECT_THAT(NewClient()->ExchangeToken({}),
              IsError(absl::StatusCode::kUnavailable, "exceeds 1048576 bytes"));
}

TEST_F(HttpClientTest, BadRequestsAreRefusedBeforeAttesting) {
  std::unique_ptr<Client> client = NewClient();
  TokenRequest request;
  request.scopes = {"deploy:read deploy:write"};
  EXPECT_THAT(client->ExchangeToken(request), IsError(absl::StatusCode::kInvalidArgument, "scope"));
  request.scopes = {""};
  EXPECT_THAT(client->ExchangeToken(request), IsError(absl::StatusCode::kInvalidArgument, "empty"));
  request = {};
  request.lifetime = absl::Milliseconds(500);
  EXPECT_THAT(client->ExchangeToken(request),
              IsError(absl::StatusCode::kInvalidArgument, "at least 1s"));
  request = {};
  request.actor_token = "two\nlines";
  EXPECT_THAT(client->ExchangeToken(request),
              IsError(absl::StatusCode::kInvalidArgument, "actor_token"));
  EXPECT_EQ(attestation_audience_, "");
  EXPECT_EQ(SeenAt("/oauth2/token").requests, 0);
}

TEST_F(HttpClientTest, AttestationFailureKeepsItsCodeAndNamesTheSource) {
  ClientOptions options = Options();
  options.attestation = NewCallbackSource(
      [](absl::string_view) -> absl::StatusOr<std::string> {
        return absl::FailedPreconditionError("no token mounted");
      },
      "k8s");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::New(options));
  EXPECT_THAT(client->ExchangeToken({}), IsError(absl::StatusCode::kFailedPrecondition,
                                                 "attestation from k8s failed: no token mounted"));
  EXPECT_THAT(client->MintX509Svid("csr"), IsError(absl::StatusCode::kFailedPrecondition, "k8s"));
  EXPECT_EQ(SeenAt("/oauth2/token").requests + SeenAt("/v1/x509-svid").requests, 0);
}

TEST_F(HttpClientTest, UnreachableIssuerIsUnavailable) {
  ClientOptions options = Options();
  options.issuer_url = "http://127.0.0.1:1";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::New(options));
  EXPECT_THAT(client->ExchangeToken({}),
              IsError(absl::StatusCode::kUnavailable, "cannot reach 127.0.0.1:1: "));
  EXPECT_THAT(client->FetchBundlePem(), IsError(absl::StatusCode::kUnavailable, "cannot reach"));
}

TEST_F(HttpClientTest, MintX509SvidSendsTheCsrAndParsesTheSvid) {
  Reply("/v1/x509-svid", 200,
        absl::StrCat(R"({"spiffe_id":"spiffe://acme.example/ci/app","x509_svid":")",
                     "-----BEGIN CERTIFICATE-----\\nLEAF\\n-----END CERTIFICATE-----\\n",
                     R"(","bundle":")",
                     "-----BEGIN CERTIFICATE-----\\nCA\\n-----END CERTIFICATE-----\\n",
                     R"(","serial":"0a1b","expires_at":1700000600,"rule":"ci-svid"})"));
  const std::string csr =
      "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
  ASSERT_OK_AND_ASSIGN(X509SvidReply svid, NewClient()->MintX509Svid(csr, absl::Minutes(10)));
  EXPECT_EQ(svid.spiffe_id, "spiffe://acme.example/ci/app");
  EXPECT_EQ(svid.certificate_chain_pem,
            "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(svid.bundle_pem, "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(svid.serial, "0a1b");
  EXPECT_EQ(svid.expires_at, absl::FromUnixSeconds(1700000600));
  const Seen seen = SeenAt("/v1/x509-svid");
  EXPECT_EQ(seen.authorization, absl::StrCat("Bearer ", kSubjectToken));
  EXPECT_EQ(seen.content_type, "application/x-pem-file");
  EXPECT_EQ(seen.body, csr);
  EXPECT_EQ(seen.target, "/v1/x509-svid?lifetime=600s");
}

TEST_F(HttpClientTest, MintX509SvidRefusals) {
  std::unique_ptr<Client> client = NewClient();
  EXPECT_THAT(client->MintX509Svid(" \n"), IsError(absl::StatusCode::kInvalidArgument, "empty"));
  EXPECT_THAT(client->MintX509Svid(std::string(64 * 1024 + 1, 'a')),
              IsError(absl::StatusCode::kInvalidArgument, "larger than"));
  EXPECT_THAT(client->MintX509Svid("csr", absl::ZeroDuration()),
              IsError(absl::StatusCode::kInvalidArgument, "lifetime"));
  EXPECT_EQ(SeenAt("/v1/x509-svid").requests, 0);
  Reply(
      "/v1/x509-svid", 400,
      R"({"error":"access_denied","error_description":"rule \"jwt-only\" does not grant X.509-SVIDs"})");
  EXPECT_THAT(client->MintX509Svid("csr"),
              IsError(absl::StatusCode::kPermissionDenied,
                      "the issuer refused: access_denied: rule \"jwt-only\""));
  EXPECT_EQ(SeenAt("/v1/x509-svid").target, "/v1/x509-svid");
  Reply(
      "/v1/x509-svid", 200,
      R"({"spiffe_id":"spiffe://a/b","x509_svid":"LEAF","bundle":"CA","serial":"1","expires_at":1})");
  EXPECT_THAT(client->MintX509Svid("csr"),
              IsError(absl::StatusCode::kUnavailable, "\"x509_svid\" holds no PEM certificate"));
  Reply("/v1/x509-svid", 200, R"({"spiffe_id":"spiffe://a/b"})");
  EXPECT_THAT(client->MintX509Svid("csr"),
              IsError(absl::StatusCode::kUnavailable, "without a usable X.509-SVID"));
}

TEST_F(HttpClientTest, MintSshCertificateSendsKeyAndPrincipals) {
  Reply(
      "/v1/ssh-certificate", 200,
      R"({"certificate":"ssh-ed25519-cert-v01@openssh.com AAAAC3","principals":["deploy","ci acme"],"serial":"42","expires_at":1700000300,"key_id":"writ:abc","rule":"ci-ssh"})");
  ASSERT_OK_AND_ASSIGN(SshCertificateReply cert,
                       NewClient()->MintSshCertificate("ssh-ed25519 AAAAC3 me@host\n",
                                                       {"deploy", "ci acme"}, absl::Minutes(5)));
  EXPECT_EQ(cert.certificate, "ssh-ed25519-cert-v01@openssh.com AAAAC3");
  EXPECT_THAT(cert.principals, ElementsAre("deploy", "ci acme"));
  EXPECT_EQ(cert.key_id, "writ:abc");
  EXPECT_EQ(cert.expires_at, absl::FromUnixSeconds(1700000300));
  const Seen seen = SeenAt("/v1/ssh-certificate");
  EXPECT_EQ(seen.authorization, absl::StrCat("Bearer ", kSubjectToken));
  EXPECT_EQ(seen.content_type, "text/plain");
  EXPECT_EQ(seen.body, "ssh-ed25519 AAAAC3 me@host\n");
  EXPECT_EQ(seen.target, "/v1/ssh-certificate?principal=deploy&principal=ci%20acme&lifetime=300s");
}

TEST_F(HttpClientTest, MintSshCertificateRefusals) {
  std::unique_ptr<Client> client = NewClient();
  EXPECT_THAT(client->MintSshCertificate(""), IsError(absl::StatusCode::kInvalidArgument, "empty"));
  EXPECT_THAT(client->MintSshCertificate("ssh-ed25519 AAAA\nssh-ed25519 BBBB"),
              IsError(absl::StatusCode::kInvalidArgument, "one OpenSSH public key line"));
  EXPECT_THAT(client->MintSshCertificate("ssh-ed25519 AAAA", {""}),
              IsError(absl::StatusCode::kInvalidArgument, "principal is empty"));
  EXPECT_EQ(SeenAt("/v1/ssh-certificate").requests, 0);
  for (const char* body :
       {R"({"certificate":"c","principals":"deploy","expires_at":1,"key_id":"k"})",
        R"({"certificate":"c","principals":[1],"expires_at":1,"key_id":"k"})",
        R"({"certificate":"c","principals":[],"expires_at":1})",
        R"({"certificate":"c\nd","principals":[],"expires_at":1,"key_id":"k"})",
        R"({"certificate":"c","principals":["a\nBASH_ENV=x"],"expires_at":1,"key_id":"k"})",
        R"({"certificate":"c","principals":["a,b"],"expires_at":1,"key_id":"k"})",
        R"({"certificate":"c","principals":["a"],"expires_at":1,"key_id":"k\u001b[2J"})",
        R"({"principals":[],"expires_at":1,"key_id":"k"})"}) {
    SCOPED_TRACE(body);
    Reply("/v1/ssh-certificate", 200, body);
    EXPECT_THAT(client->MintSshCertificate("ssh-ed25519 AAAA"),
                IsError(absl::StatusCode::kUnavailable, "without a usable SSH certificate"));
  }
  EXPECT_EQ(SeenAt("/v1/ssh-certificate").target, "/v1/ssh-certificate");
}

TEST_F(HttpClientTest, FetchBundlePem) {
  std::unique_ptr<Client> client = NewClient();
  Reply("/v1/bundle.pem", 200, kPem);
  ASSERT_OK_AND_ASSIGN(std::string pem, client->FetchBundlePem());
  EXPECT_EQ(pem, kPem);
  const Seen seen = SeenAt("/v1/bundle.pem");
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.authorization, "");
  EXPECT_EQ(attestation_audience_, "");  // no attestation for a public document
  Reply("/v1/bundle.pem", 503, "no trust bundle is published\n");
  EXPECT_THAT(client->FetchBundlePem(),
              IsError(absl::StatusCode::kUnavailable, "HTTP 503: no trust bundle is published"));
  Reply("/v1/bundle.pem", 200, "hello");
  EXPECT_THAT(client->FetchBundlePem(),
              IsError(absl::StatusCode::kUnavailable, "without a PEM certificate"));
}

TEST_F(HttpClientTest, MissingEndpointIsUnimplemented) {
  ClientOptions options = Options();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::New(options));
  // No reply registered for /v1/ssh-certificate: the stand-in answers 404,
  // as an issuer without certificate endpoints does.
  EXPECT_THAT(client->MintSshCertificate("ssh-ed25519 AAAA"),
              IsError(absl::StatusCode::kUnimplemented, "HTTP 404"));
}

}  // namespace
}  // namespace writ

// IssuerServer start-up, TLS listeners and shutdown. The exchange itself is
// covered end to end in tests/integration/.
#include "issuer/src/main/issuer_server.h"

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/ledger/ledger_codec.h"
#include "issuer/src/ledger/ledger_test_util.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::issuer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// HttpsGet fetches `url` trusting only `ca_file`; returns the HTTP status
// (0 when the TLS handshake or connection failed).
long HttpsGet(const std::string& url, const std::string& ca_file, std::string* body) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return status;
}

// WaitFor polls `done` (a background thread's work) for up to 10 s.
bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 2000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class IssuerServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/writ-server-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directory(dir_ + "/policies");
    std::ofstream(dir_ + "/policies/ci.yaml") << R"(
rules:
  - name: ci
    issuer: ci
    subject: "job:1"
    grant:
      audiences: [aud]
      scopes: [read]
)";
    config_.data_dir = dir_ + "/data";
    config_.policy_dir = dir_ + "/policies";
    config_.http.port = 0;
    config_.grpc.port = 0;
    TrustedIssuerConfig ci;
    ci.name = "ci";
    ci.issuer = "https://ci.example";
    ci.audiences = {"writ"};
    ci.static_jwks =
        R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k","alg":"ES256",)"
        R"("x":"zh49oxB88xhk-G5Ahu5etbb1Z9GVhWjRUa9Aki8KFLo","y":"W3ptg3xrtdL5_99pZn_xU2mOMuwc5bXswb4zEENnAq8"}]})";
    config_.trusted_issuers = {ci};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  IssuerConfig config_;
};

TEST_F(IssuerServerTest, StartsOnFreePortsDescribesItselfAndIsReady) {
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->http_port(), 0);
  EXPECT_GT((*server)->grpc_port(), 0);
  EXPECT_EQ((*server)->issuer_url(), absl::StrCat("http://127.0.0.1:", (*server)->http_port()));
  EXPECT_TRUE((*server)->Readiness().empty());
  std::ostringstream out;
  (*server)->Describe(out);
  EXPECT_NE(out.str().find("ci: https://ci.example"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("1 rules in 1 files"), std::string::npos) << out.str();
  struct stat st {};
  ASSERT_EQ(::stat((config_.data_dir + "/keys/jwt-signing.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(IssuerServerTest, ServesHttpAndGrpcOverTls) {
  const std::string key = dir_ + "/tls.key", cert = dir_ + "/tls.crt";
  std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
      "/CN=localhost -addext subjectAltName=IP:127.0.0.1 -keyout ",
      key, " -out ", cert, " 2>/dev/null");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  config_.http.tls_cert_file = config_.grpc.tls_cert_file = cert;
  config_.http.tls_key_file = config_.grpc.tls_key_file = key;
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->issuer_url(), absl::StrCat("https://127.0.0.1:", (*server)->http_port()));

  std::string body;
  EXPECT_EQ(HttpsGet((*server)->issuer_url() + "/.well-known/openid-configuration", cert, &body),
            200);
  EXPECT_NE(body.find("\"issuer\":\"" + (*server)->issuer_url() + "\""), std::string::npos);
  // A client that does not trust the certificate gets no answer at all.
  std::string ignored;
  EXPECT_EQ(HttpsGet((*server)->issuer_url() + "/healthz", "/dev/null", &ignored), 0);

  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFile(cert);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->grpc_port()),
                                     grpc::SslCredentials(tls));
  auto stub = v1::PolicyService::NewStub(channel);
  grpc::ClientContext ctx;
  v1::ExplainRequest req;
  req.mutable_identity()->set_issuer("ci");
  req.mutable_identity()->set_subject("job:1");
  req.set_audience("aud");
  v1::ExplainResponse resp;
  grpc::Status s = stub->Explain(&ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.allowed());
  EXPECT_EQ(resp.rule(), "ci");
}

TEST_F(IssuerServerTest, OversizedHeadersAndGrpcMessagesAreRefused) {
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status();
  // 20 headers of 1 KiB: the total is over limits.max_header_bytes (16 KiB).
  CURL* c = curl_easy_init();
  std::string url = absl::StrCat((*server)->issuer_url(), "/healthz"), body;
  curl_slist* headers = nullptr;
  for (int i = 0; i < 20; ++i) {
    headers =
        curl_slist_append(headers, absl::StrCat("X-Pad-", i, ": ", std::string(1000, 'a')).c_str());
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  long status = 0;
  ASSERT_EQ(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  EXPECT_EQ(status, 431);

  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = v1::TokenService::NewStub(channel);
  grpc::ClientContext ctx;
  v1::ExchangeTokenRequest req;
  req.set_subject_token(std::string(100 * 1024, 'a'));
  v1::ExchangeTokenResponse resp;
  grpc::Status s = stub->ExchangeToken(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
}

TEST_F(IssuerServerTest, InvalidPolicyFailsStartNamingTheFile) {
  std::ofstream(dir_ + "/policies/bad.yaml") << "rules:\n  - name: x\n    issuer: nobody\n";
  auto server = IssuerServer::Start(config_);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("bad.yaml:"), std::string::npos) << server.status();
}

TEST_F(IssuerServerTest, PortInUseFailsStartClearly) {
  auto first = IssuerServer::Start(config_);
  ASSERT_TRUE(first.ok()) << first.status();
  IssuerConfig second = config_;
  second.data_dir = dir_ + "/data2";
  second.http.port = (*first)->http_port();
  auto server = IssuerServer::Start(second);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("cannot bind HTTP"), std::string::npos)
      << server.status();
  second.http.port = 0;
  second.grpc.port = (*first)->grpc_port();
  server = IssuerServer::Start(second);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("cannot bind gRPC"), std::string::npos)
      << server.status();
}

TEST_F(IssuerServerTest, SecondServerOnTheSameDataDirIsRefused) {
  auto first = IssuerServer::Start(config_);
  ASSERT_TRUE(first.ok());
  auto second = IssuerServer::Start(config_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST_F(IssuerServerTest, LooseKeyPermissionsFailStart) {
  { ASSERT_TRUE(IssuerServer::Start(config_).ok()); }
  ASSERT_EQ(::chmod((config_.data_dir + "/keys/jwt-signing.pem").c_str(), 0644), 0);
  auto server = IssuerServer::Start(config_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(IssuerServerTest, StopClosesTheLedgerAndIsIdempotent) {
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok());
  (*server)->Stop();
  (*server)->Stop();
  LedgerRecord r;
  r.time = absl::Now();
  r.request_id = "x";
  r.decision = "deny";
  EXPECT_EQ((*server)->ledger()->Append(r).code(), absl::StatusCode::kUnavailable);
  // The ledger is closed cleanly: it opens again at once.
  auto reopened = RocksDbLedger::Open(config_.data_dir + "/ledger");
  EXPECT_TRUE(reopened.ok()) << reopened.status();
}

TEST_F(IssuerServerTest, ALedgerInTheOldLayoutIsUpgradedAndTheBannerSaysSo) {
  ASSERT_EQ(::mkdir(config_.data_dir.c_str(), 0700), 0);
  {
    RawDb db(config_.data_dir + "/ledger");  // the default family only, as before 2026-12
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db.Put("default", ledger_codec::JtiKey("old-jti"), "r/old"));
  }
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status();
  std::ostringstream out;
  (*server)->Describe(out);
  EXPECT_THAT(out.str(), HasSubstr("moved 1 index entries into the \"index\" column family"));
  (*server)->Stop();
  auto again = IssuerServer::Start(config_);
  ASSERT_TRUE(again.ok()) << again.status();
  std::ostringstream out_again;
  (*again)->Describe(out_again);
  EXPECT_THAT(out_again.str(), Not(HasSubstr("moved")));
}

TEST_F(IssuerServerTest, ALedgerFromANewerVersionFailsStart) {
  ASSERT_EQ(::mkdir(config_.data_dir.c_str(), 0700), 0);
  { ASSERT_TRUE(RawDb(config_.data_dir + "/ledger", {"records-v9"}).ok()); }
  auto server = IssuerServer::Start(config_);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kFailedPrecondition) << server.status();
  EXPECT_THAT(server.status().message(), HasSubstr("records-v9"));
}

TEST_F(IssuerServerTest, ReloadRefusesABrokenSetAndKeepsTheOld) {
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok());
  std::ofstream(dir_ + "/policies/ci.yaml", std::ios::trunc) << "rules: [,]\n";
  absl::Status reloaded = (*server)->ReloadPolicies();
  EXPECT_FALSE(reloaded.ok());
  EXPECT_NE(reloaded.message().find("ci.yaml"), std::string::npos) << reloaded;
  std::ostringstream out;
  (*server)->Describe(out);
  EXPECT_NE(out.str().find("1 rules in 1 files"), std::string::npos);
}

TEST_F(IssuerServerTest, DescribeNamesTheCaKeysAndWhereTheBundleIsServed) {
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status();
  std::ostringstream out;
  (*server)->Describe(out);
  const std::string text = out.str();
  EXPECT_NE(text.find(absl::StrCat("X.509 CA:   key ", (*server)->keys()->ActiveX509Ca()->id)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(absl::StrCat("SSH CA:     key ", (*server)->keys()->ActiveSshCa()->id)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find((*server)->issuer_url() + "/v1/bundle (SPIFFE)"), std::string::npos) << text;
  EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos);

  config_.data_dir = dir_ + "/data-off";
  config_.x509.enabled = false;
  config_.ssh.enabled = false;
  (*server)->Stop();
  auto off = IssuerServer::Start(config_);
  ASSERT_TRUE(off.ok()) << off.status();
  std::ostringstream off_out;
  (*off)->Describe(off_out);
  EXPECT_NE(off_out.str().find("X.509 CA:   off (x509.enabled: false)"), std::string::npos);
  EXPECT_NE(off_out.str().find("SSH CA:     off (ssh.enabled: false)"), std::string::npos);
}

TEST_F(IssuerServerTest, KeyScheduleRotatesDueKeys) {
  FakeClock clock(absl::Now());
  config_.keys.check_interval = absl::Milliseconds(10);
  config_.keys.rotate_after = absl::Hours(1);
  config_.keys.publish_lead = absl::Minutes(1);
  auto server = IssuerServer::Start(config_, &clock);
  ASSERT_TRUE(server.ok()) << server.status();
  KeyManager* keys = (*server)->keys();
  const std::string ca = keys->ActiveX509Ca()->id;
  const std::string ssh = keys->ActiveSshCa()->id;
  const std::string jwt = keys->JwtSigner()->kid();
  // Nothing is due yet: checks run, keys stay.
  ASSERT_TRUE(WaitFor([&] { return (*server)->key_schedule_ticks() >= 3; }));
  EXPECT_EQ(keys->ActiveX509Ca()->id, ca);
  clock.Advance(absl::Hours(2));
  ASSERT_TRUE(WaitFor([&] { return keys->ActiveX509Ca()->id != ca; }));
  ASSERT_TRUE(WaitFor([&] { return keys->ActiveSshCa()->id != ssh; }));
  ASSERT_TRUE(WaitFor([&] { return keys->JwtSigner()->kid() != jwt; }));
  // The old CA is retired, still published.
  bool old_published = false;
  for (const KeyInfo& k : keys->List()) {
    if (k.id == ca) old_published = k.state == KeyState::kRetired;
  }
  EXPECT_TRUE(old_published);
}

TEST_F(IssuerServerTest, StopEndsTheKeyScheduleWithoutWaitingForItsInterval) {
  config_.keys.check_interval = absl::Hours(1);
  auto server = IssuerServer::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::Time start = absl::Now();
  (*server)->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ((*server)->key_schedule_ticks(), 0);
}

TEST_F(IssuerServerTest, ScheduledRotationFailuresAreReportedAndRetried) {
  // Intermediate mode: a due X.509 rotation waits for the operator's
  // certificate, so every scheduled check fails (and says why) until then.
  const std::string root_key = dir_ + "/root.key", root = dir_ + "/root.crt";
  std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
      "/CN=Acme-Root -addext basicConstraints=critical,CA:TRUE -addext "
      "keyUsage=critical,keyCertSign,cRLSign -keyout ",
      root_key, " -out ", root, " 2>/dev/null");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  FakeClock clock(absl::Now());
  config_.x509.mode = "intermediate";
  config_.x509.root_bundle_file = root;
  config_.keys.check_interval = absl::Milliseconds(10);
  config_.keys.rotate_after = absl::Hours(1);
  config_.keys.publish_lead = absl::Minutes(1);
  ::testing::internal::CaptureStderr();
  auto server = IssuerServer::Start(config_, &clock);
  if (!server.ok()) {
    ::testing::internal::GetCapturedStderr();
    FAIL() << server.status();
  }
  clock.Advance(absl::Hours(2));
  const int before = (*server)->key_schedule_ticks();
  bool retried = WaitFor([&] { return (*server)->key_schedule_ticks() >= before + 3; });
  (*server)->Stop();
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(retried);
  EXPECT_NE(err.find("writ-issuer: scheduled key rotation failed (retrying in 10ms)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find(".csr"), std::string::npos) << err;
  EXPECT_EQ(err.find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace writ::issuer

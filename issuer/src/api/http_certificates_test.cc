// The HTTP certificate endpoints over real loopback sockets, in front of the
// real CertificateExchange (the exchange fixture): the pool thread is free
// while the record is written, the answer follows the record, a refused
// record or a full pool is 503 with no certificate, and the decoding
// refusals are answered without a record. Client threads are jthreads: an
// ASSERT that fails joins them (every request has a timeout) rather than
// terminating the binary.
#include "issuer/src/api/http_certificates.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/exchange/certificate_exchange_fixture.h"
#include "issuer/src/http/http_test_util.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "tests/testing/pool_blocker.h"

namespace writ::issuer {
namespace {

using http::testing::CurlClient;
using http::testing::CurlResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kSvidPath[] = "/v1/x509-svid";
constexpr char kSshPath[] = "/v1/ssh-certificate";

class HttpCertificatesTest : public CertificateExchangeTest {
 protected:
  void SetUp() override {
    auto server = http::HttpServer::Bind({});  // 127.0.0.1, port 0
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    RegisterCertificateRoutes(*server_, &pool_, exchange_.get(), &keys_);
    server_->Start();
  }
  void TearDown() override {
    EXPECT_TRUE(blocker_.Unblock());
    ledger_->Release(absl::UnavailableError("test over"));
    server_->Stop();
  }

  // Post POSTs `body` to `path` with the attestation "good" (none when
  // `bearer` is false).
  CurlResult Post(absl::string_view path, absl::string_view body,
                  const std::string& content_type = "application/x-pem-file", bool bearer = true,
                  absl::string_view method = "POST") {
    std::vector<std::string> headers = {"Content-Type: " + content_type};
    if (bearer) headers.push_back("Authorization: Bearer good");
    CurlClient client;
    return client.Request(method, absl::StrCat("http://127.0.0.1:", server_->port(), path), body,
                          headers);
  }
  CurlResult PostSsh() { return Post(kSshPath, SshKeyLine(), "text/plain"); }

  static std::string SshKeyLine() {
    auto key = GenerateKey(KeySpec::kEd25519);
    EXPECT_TRUE(key.ok());
    auto line = OpenSshPublicKeyLine(key->get(), "alice@laptop");
    EXPECT_TRUE(line.ok()) << line.status();
    return line.ok() ? *line : "";
  }

  // ExpectRefusedWithoutACertificate checks a 503 temporarily_unavailable.
  static void Expect503WithoutACertificate(const CurlResult& r) {
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_THAT(r.body, HasSubstr("\"error\":\"temporarily_unavailable\""));
    EXPECT_THAT(r.body, Not(HasSubstr("x509_svid")));
    EXPECT_THAT(r.body, Not(HasSubstr("\"certificate\"")));
    EXPECT_EQ(r.headers.count("retry-after"), 1u);
  }

  // One worker and one queue slot: a PoolBlocker fills it.
  WorkPool pool_{1, 1};
  test::PoolBlocker blocker_{&pool_};
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(HttpCertificatesTest, SvidIsAnsweredAfterItsRecordAndThePoolThreadIsFreeMeanwhile) {
  ledger_->Hold();
  CurlResult res;
  absl::Notification answered;
  std::jthread client([&] {
    res = Post(kSvidPath, Csr());
    answered.Notify();
  });
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  // The decision waits for the ledger, but the only pool thread does not.
  ASSERT_TRUE(test::PoolBlocker::IsFree(&pool_));
  EXPECT_FALSE(answered.HasBeenNotified());
  EXPECT_THAT(Records(), IsEmpty());

  ledger_->Release(absl::OkStatus());
  client.join();
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_THAT(res.body, HasSubstr(absl::StrCat("\"spiffe_id\":\"", kSpiffeId, "\"")));
  EXPECT_THAT(res.body, HasSubstr(absl::StrCat("\"serial\":\"", held[0].jti, "\"")));
  EXPECT_EQ(res.headers["x-request-id"], held[0].request_id);
  EXPECT_EQ(res.headers["cache-control"], "no-store");
  LedgerRecord rec = RecordOf(held[0].request_id);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.transport, "http");
  EXPECT_EQ(rec.client_address, "127.0.0.1");
}

TEST_F(HttpCertificatesTest, SshCertificateIsAnsweredAfterItsRecord) {
  AllowSsh();
  ledger_->Hold();
  CurlResult res;
  std::jthread client([&] { res = PostSsh(); });
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  ASSERT_TRUE(test::PoolBlocker::IsFree(&pool_));
  ledger_->Release(absl::OkStatus());
  client.join();
  EXPECT_EQ(res.status, 200) << res.body;
  EXPECT_THAT(res.body, HasSubstr("\"certificate\":\"ssh-ed25519-cert-v01@openssh.com "));
  EXPECT_THAT(res.body, HasSubstr(absl::StrCat("\"serial\":\"", held[0].jti, "\"")));
  EXPECT_THAT(RecordOf(held[0].request_id).principals, ElementsAre("deploy"));
}

TEST_F(HttpCertificatesTest, RefusedRecordIs503WithoutACertificate) {
  ledger_->Hold();
  CurlResult svid;
  std::jthread client([&] { svid = Post(kSvidPath, Csr()); });
  ASSERT_TRUE(ledger_->WaitHeld(1));
  ledger_->Release(absl::UnavailableError("disk full"));
  client.join();
  Expect503WithoutACertificate(svid);
  EXPECT_THAT(svid.body, HasSubstr("could not be recorded"));
  EXPECT_FALSE(svid.headers["x-request-id"].empty());

  AllowSsh();
  ledger_->fail_appends = true;
  CurlResult ssh = PostSsh();
  Expect503WithoutACertificate(ssh);
  EXPECT_THAT(ssh.body, HasSubstr("disk full"));
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload, kWorkload));
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(HttpCertificatesTest, FullPoolIs503AndNothingIsDecidedOrRecorded) {
  ASSERT_TRUE(blocker_.Block());
  for (const CurlResult& r : {Post(kSvidPath, Csr()), PostSsh()}) {
    Expect503WithoutACertificate(r);
    EXPECT_THAT(r.body, HasSubstr("busy"));
    EXPECT_EQ(r.headers.count("x-request-id"), 0u);  // no record to name
  }
  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_THAT(Records(), IsEmpty());

  // The refusals were the pool's: with it free again, the same request succeeds.
  ASSERT_TRUE(blocker_.Unblock());
  CurlResult after = Post(kSvidPath, Csr());
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(RecordOf(after.headers["x-request-id"]).decision, "allow");
  EXPECT_EQ(Records().size(), 1u);
}

TEST_F(HttpCertificatesTest, DecodingRefusalsAreAnsweredWithoutARecord) {
  for (absl::string_view path : {kSvidPath, kSshPath}) {
    SCOPED_TRACE(path);
    CurlResult no_bearer = Post(path, "x", "text/plain", /*bearer=*/false);
    EXPECT_EQ(no_bearer.status, 401) << no_bearer.body;
    EXPECT_EQ(no_bearer.headers["www-authenticate"], "Bearer realm=\"writ\"");
    CurlResult wrong_type = Post(path, "x", "application/json");
    EXPECT_EQ(wrong_type.status, 400);
    EXPECT_THAT(wrong_type.body, HasSubstr("Content-Type must be"));
    CurlResult bad_query = Post(absl::StrCat(path, "?colour=blue"), "x", "text/plain");
    EXPECT_EQ(bad_query.status, 400);
    EXPECT_THAT(bad_query.body, HasSubstr("unknown query parameter \\\"colour\\\""));
    CurlResult bad_lifetime = Post(absl::StrCat(path, "?lifetime=0s"), "x", "text/plain");
    EXPECT_EQ(bad_lifetime.status, 400);
    EXPECT_THAT(bad_lifetime.body, HasSubstr("lifetime must be"));
    CurlResult get = Post(path, "", "text/plain", true, "GET");
    EXPECT_EQ(get.status, 405);
    EXPECT_EQ(get.headers["allow"], "POST");
  }
  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(HttpCertificatesTest, ExchangeRefusalsKeepTheirStatusAndAreRecordedFirst) {
  policy_.decision = Decision{};
  policy_.decision.reasons = {"no rule matches"};
  CurlResult denied = Post(kSvidPath, Csr());
  EXPECT_EQ(denied.status, 400);
  EXPECT_THAT(denied.body, HasSubstr("\"error\":\"access_denied\""));
  EXPECT_EQ(RecordOf(denied.headers["x-request-id"]).error, "access_denied");

  CurlResult empty_csr = Post(kSvidPath, "", "text/plain");
  EXPECT_EQ(empty_csr.status, 400);
  EXPECT_THAT(empty_csr.body, HasSubstr("\"error\":\"invalid_request\""));

  ledger_->unhealthy = true;
  CurlResult unhealthy = Post(kSvidPath, Csr());
  Expect503WithoutACertificate(unhealthy);
  EXPECT_EQ(attestor_.Calls(), 1);  // only the denial was attested
  EXPECT_EQ(Records().size(), 1u);
}

}  // namespace
}  // namespace writ::issuer

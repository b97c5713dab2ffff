// CertificateExchange's asynchronous entry points: `done` runs once, after the
// ledger has the record (and on its thread); a record the ledger refuses means
// kUnavailable and no certificate; requests refused before the ledger is
// involved are answered at once.
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "issuer/src/exchange/certificate_exchange_fixture.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Answers collects what `done` is given, and how often it ran.
struct Answers {
  int calls = 0;
  std::optional<CertificateResult> result;
  CertificateExchange::CertificateDone Done() {
    return [this](CertificateResult r) {
      ++calls;
      result = std::move(r);
    };
  }
};

class CertificateExchangeAsyncTest : public CertificateExchangeTest {
 protected:
  SvidExchangeRequest SvidRequest(const std::string& token = "good") {
    SvidExchangeRequest req;
    req.subject_token = token;
    req.csr = Csr();
    return req;
  }
  // SshRequest asks for an SSH certificate for a fresh Ed25519 key.
  static SshExchangeRequest SshRequest() {
    SshExchangeRequest req;
    req.subject_token = "good";
    auto key = GenerateKey(KeySpec::kEd25519);
    EXPECT_TRUE(key.ok());
    auto line = OpenSshPublicKeyLine(key->get(), "alice@laptop");
    EXPECT_TRUE(line.ok()) << line.status();
    if (line.ok()) req.public_key = *line;
    return req;
  }
  // PresentedSvid issues an SVID (recorded) and returns its DER, for renewals.
  std::string PresentedSvid() {
    CertificateResult issued = Issue();
    EXPECT_TRUE(issued.status.ok()) << issued.status;
    if (!issued.status.ok()) return "";
    auto cert = ParseCertificatePem(issued.svid->certificate_pem);
    auto der = CertificateToDer(cert->get());
    return der.ok() ? *der : "";
  }
  SvidRenewalRequest RenewalRequest(const std::string& leaf_der) {
    SvidRenewalRequest req;
    req.peer_chain_der = {leaf_der};
    req.csr = Csr();
    return req;
  }
};

TEST_F(CertificateExchangeAsyncTest, IssueSvidAsyncAnswersOnlyOnceTheLedgerHasTheRecord) {
  ledger_->Hold();
  Answers answers;
  exchange_->IssueSvidAsync(SvidRequest(), {"http", "10.0.0.1"}, answers.Done());
  // Minted, but not answered before it is recorded.
  EXPECT_EQ(answers.calls, 0);
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].decision, "allow");
  EXPECT_FALSE(held[0].jti.empty());
  EXPECT_THAT(Records(), IsEmpty());

  ledger_->Release(absl::OkStatus());
  ASSERT_EQ(answers.calls, 1);
  const CertificateResult& res = *answers.result;
  ASSERT_TRUE(res.status.ok()) << res.status;
  ASSERT_TRUE(res.svid.has_value());
  EXPECT_EQ(res.svid->serial_hex, held[0].jti);
  EXPECT_FALSE(res.bundle_pem.empty());
  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.jti, res.svid->serial_hex);
  EXPECT_EQ(rec.credential_sha256, res.svid->sha256_fingerprint_hex);
  EXPECT_THAT(attestor_.Forgotten(), IsEmpty());
}

TEST_F(CertificateExchangeAsyncTest, DoneRunsOnTheLedgersThreadAfterTheRecordIsDurable) {
  // The real RocksDB ledger behind the fixture: `done` runs on its writer.
  absl::Notification answered;
  std::thread::id answered_on;
  bool found_in_done = false;
  CertificateResult res;
  exchange_->IssueSvidAsync(SvidRequest(), {"http", "10.0.0.1"}, [&](CertificateResult r) {
    answered_on = std::this_thread::get_id();
    found_in_done = r.svid.has_value() && ledger_->FindByJti(r.svid->serial_hex).ok();
    res = std::move(r);
    answered.Notify();
  });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(kWaitTimeout));
  ASSERT_TRUE(res.status.ok()) << res.status;
  EXPECT_NE(answered_on, std::this_thread::get_id());
  EXPECT_TRUE(found_in_done);
}

TEST_F(CertificateExchangeAsyncTest, RefusedSvidRecordMeansUnavailableAndNoSvid) {
  ledger_->Hold();
  Answers answers;
  exchange_->IssueSvidAsync(SvidRequest(), {"http", "10.0.0.1"}, answers.Done());
  ASSERT_TRUE(ledger_->WaitHeld(1));
  EXPECT_EQ(answers.calls, 0);
  EXPECT_THAT(attestor_.Forgotten(), IsEmpty());  // not before the ledger has answered

  ledger_->Release(absl::UnavailableError("disk full"));
  ASSERT_EQ(answers.calls, 1);
  const CertificateResult& res = *answers.result;
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  EXPECT_THAT(res.status.message(), HasSubstr("could not be recorded"));
  EXPECT_THAT(res.status.message(), HasSubstr("disk full"));
  EXPECT_FALSE(res.request_id.empty());
  EXPECT_FALSE(res.svid.has_value());
  EXPECT_TRUE(res.chain_pem.empty());
  EXPECT_TRUE(res.bundle_pem.empty());
  EXPECT_TRUE(res.rule.empty());
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload));
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(CertificateExchangeAsyncTest, DenialWhoseRecordFailsIsAlsoUnavailable) {
  policy_.decision = Decision{};
  policy_.decision.reasons = {"no rule matches"};
  ledger_->Hold();
  Answers answers;
  exchange_->IssueSvidAsync(SvidRequest(), {"http", "10.0.0.1"}, answers.Done());
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  EXPECT_EQ(held[0].decision, "deny");
  EXPECT_EQ(held[0].error, "access_denied");
  ledger_->Release(absl::UnavailableError("disk full"));
  ASSERT_EQ(answers.calls, 1);
  EXPECT_EQ(answers.result->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(answers.result->oauth_error, "temporarily_unavailable");
  // Our outage, not the caller's denial: the one-time token is released.
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload));
}

TEST_F(CertificateExchangeAsyncTest, RecordedDenialIsAnsweredAfterItsRecord) {
  ledger_->Hold();
  Answers answers;
  exchange_->IssueSvidAsync(SvidRequest("forged"), {"http", "10.0.0.1"}, answers.Done());
  EXPECT_EQ(answers.calls, 0);
  ASSERT_TRUE(ledger_->WaitHeld(1));
  ledger_->Release(absl::OkStatus());
  ASSERT_EQ(answers.calls, 1);
  EXPECT_EQ(answers.result->status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(answers.result->oauth_error, "invalid_grant");
  EXPECT_EQ(RecordOf(answers.result->request_id).error, "invalid_grant");
}

TEST_F(CertificateExchangeAsyncTest, RequestsRefusedBeforeTheLedgerAreAnsweredAtOnce) {
  ledger_->Hold();
  SvidExchangeRequest no_csr = SvidRequest();
  no_csr.csr.clear();
  Answers malformed;
  exchange_->IssueSvidAsync(no_csr, {"http", "10.0.0.1"}, malformed.Done());
  ASSERT_EQ(malformed.calls, 1);
  EXPECT_EQ(malformed.result->status.code(), absl::StatusCode::kInvalidArgument);

  SshExchangeRequest no_key = SshRequest();
  no_key.public_key.clear();
  Answers malformed_ssh;
  exchange_->IssueSshAsync(no_key, {"http", "10.0.0.1"}, malformed_ssh.Done());
  ASSERT_EQ(malformed_ssh.calls, 1);
  EXPECT_EQ(malformed_ssh.result->oauth_error, "invalid_request");

  Answers no_peer;
  exchange_->RenewSvidAsync(RenewalRequest(""), {"grpc", "10.0.0.2"}, no_peer.Done());
  ASSERT_EQ(no_peer.calls, 1);
  EXPECT_EQ(no_peer.result->status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(no_peer.result->oauth_error, "invalid_grant");

  ledger_->unhealthy = true;
  Answers unhealthy;
  exchange_->IssueSvidAsync(SvidRequest(), {"http", "10.0.0.1"}, unhealthy.Done());
  ASSERT_EQ(unhealthy.calls, 1);
  EXPECT_EQ(unhealthy.result->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(unhealthy.result->oauth_error, "temporarily_unavailable");

  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_THAT(ledger_->Held(), IsEmpty());  // nothing reached the ledger
  ledger_->unhealthy = false;
  ledger_->Release(absl::OkStatus());
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(CertificateExchangeAsyncTest, RenewSvidAsyncAnswersOnlyOnceTheLedgerHasTheRecord) {
  const std::string leaf = PresentedSvid();
  ASSERT_FALSE(leaf.empty());
  ledger_->Hold();
  Answers answers;
  exchange_->RenewSvidAsync(RenewalRequest(leaf), {"grpc", "10.0.0.2"}, answers.Done());
  EXPECT_EQ(answers.calls, 0);
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  EXPECT_EQ(held[0].decision, "allow");
  EXPECT_FALSE(held[0].renewed_from.empty());
  ledger_->Release(absl::OkStatus());
  ASSERT_EQ(answers.calls, 1);
  ASSERT_TRUE(answers.result->status.ok()) << answers.result->status;
  ASSERT_TRUE(answers.result->svid.has_value());
  LedgerRecord rec = RecordOf(answers.result->request_id);
  EXPECT_EQ(rec.jti, answers.result->svid->serial_hex);
  EXPECT_EQ(rec.renewed_from, held[0].renewed_from);
  EXPECT_EQ(rec.attested_issuer_name, "github");
}

TEST_F(CertificateExchangeAsyncTest, RefusedRenewalRecordMeansUnavailableAndNoSvid) {
  const std::string leaf = PresentedSvid();
  ASSERT_FALSE(leaf.empty());
  const size_t before = Records().size();
  ledger_->Hold();
  Answers answers;
  exchange_->RenewSvidAsync(RenewalRequest(leaf), {"grpc", "10.0.0.2"}, answers.Done());
  ASSERT_TRUE(ledger_->WaitHeld(1));
  ledger_->Release(absl::UnavailableError("disk full"));
  ASSERT_EQ(answers.calls, 1);
  EXPECT_EQ(answers.result->status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(answers.result->oauth_error, "temporarily_unavailable");
  EXPECT_FALSE(answers.result->svid.has_value());
  EXPECT_TRUE(answers.result->bundle_pem.empty());
  // Nothing was attested for a renewal, so nothing is released.
  EXPECT_THAT(attestor_.Forgotten(), IsEmpty());
  EXPECT_EQ(Records().size(), before);
}

TEST_F(CertificateExchangeAsyncTest, IssueSshAsyncAnswersOnlyOnceTheLedgerHasTheRecord) {
  AllowSsh();
  ledger_->Hold();
  Answers answers;
  exchange_->IssueSshAsync(SshRequest(), {"http", "10.0.0.1"}, answers.Done());
  EXPECT_EQ(answers.calls, 0);
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  EXPECT_EQ(held[0].credential_kind, "ssh");
  EXPECT_EQ(held[0].decision, "allow");
  ledger_->Release(absl::OkStatus());
  ASSERT_EQ(answers.calls, 1);
  ASSERT_TRUE(answers.result->status.ok()) << answers.result->status;
  ASSERT_TRUE(answers.result->ssh.has_value());
  LedgerRecord rec = RecordOf(answers.result->request_id);
  EXPECT_EQ(rec.jti, absl::StrCat(answers.result->ssh->serial));
  EXPECT_THAT(rec.principals, ElementsAre("deploy"));
  EXPECT_EQ(answers.result->ssh_key_id, absl::StrCat("writ:", answers.result->request_id));
}

TEST_F(CertificateExchangeAsyncTest, RefusedSshRecordMeansUnavailableAndNoCertificate) {
  AllowSsh();
  ledger_->Hold();
  Answers answers;
  exchange_->IssueSshAsync(SshRequest(), {"http", "10.0.0.1"}, answers.Done());
  ASSERT_TRUE(ledger_->WaitHeld(1));
  ledger_->Release(absl::UnavailableError("disk full"));
  ASSERT_EQ(answers.calls, 1);
  const CertificateResult& res = *answers.result;
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  EXPECT_FALSE(res.ssh.has_value());
  EXPECT_THAT(res.principals, IsEmpty());
  EXPECT_TRUE(res.ssh_key_id.empty());
  EXPECT_FALSE(res.request_id.empty());
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload));
  EXPECT_THAT(Records(), IsEmpty());
}

}  // namespace
}  // namespace writ::issuer

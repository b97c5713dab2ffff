// CertificateExchange::IssueSsh: OpenSSH user certificates.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "issuer/src/exchange/certificate_exchange_fixture.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

class SshExchangeTest : public CertificateExchangeTest {
 protected:
  SshExchangeTest() { AllowSsh(); }

  static std::string PublicKey(KeySpec spec = KeySpec::kEd25519) {
    auto key = GenerateKey(spec);
    EXPECT_TRUE(key.ok());
    auto line = OpenSshPublicKeyLine(key->get(), "alice@laptop");
    EXPECT_TRUE(line.ok()) << line.status();
    return line.ok() ? *line : "";
  }

  CertificateResult IssueSsh(std::vector<std::string> principals = {}, std::string public_key = "",
                             std::string token = "good") {
    SshExchangeRequest req;
    req.subject_token = token;
    req.public_key = public_key.empty() ? PublicKey() : public_key;
    req.principals = std::move(principals);
    return exchange_->IssueSsh(req, {"http", "10.1.2.3"});
  }
};

TEST_F(SshExchangeTest, IssuesACertificateForTheGrantedPrincipalsAndRecordsIt) {
  CertificateResult res = IssueSsh({"deploy"});
  ASSERT_TRUE(res.status.ok()) << res.status;
  ASSERT_TRUE(res.ssh.has_value());
  EXPECT_THAT(res.ssh->certificate, StartsWith("ssh-ed25519-cert-v01@openssh.com "));
  EXPECT_EQ(res.ssh_key_id, absl::StrCat("writ:", res.request_id));
  EXPECT_THAT(res.principals, ElementsAre("deploy"));
  EXPECT_EQ(res.rule, "ops-ssh");
  EXPECT_EQ(res.ssh->valid_before, clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(policy_.last_request.kind, CredentialKind::kSsh);
  EXPECT_THAT(policy_.last_request.ssh_principals, ElementsAre("deploy"));
  EXPECT_EQ(policy_.last_request.client_address, "10.1.2.3");

  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.credential_kind, "ssh");
  EXPECT_EQ(rec.jti, absl::StrCat(res.ssh->serial));
  EXPECT_EQ(rec.credential_sha256, res.ssh->sha256_fingerprint_hex);
  EXPECT_EQ(rec.expires_at, res.ssh->valid_before);
  EXPECT_EQ(rec.granted_subject, "ssh:acme/app");
  EXPECT_THAT(rec.principals, ElementsAre("deploy"));
  EXPECT_THAT(rec.source_addresses, ElementsAre("10.0.0.0/8"));
  EXPECT_EQ(rec.signing_key, keys_.ActiveSshCa()->id);
  EXPECT_EQ(rec.attested_issuer_name, "github");
  auto found = ledger_->FindByJti(rec.jti);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->request_id, res.request_id);
}

TEST_F(SshExchangeTest, RuleWithoutASubjectRecordsTheKeyId) {
  policy_.decision.grant->subject.clear();
  CertificateResult res = IssueSsh();
  ASSERT_TRUE(res.status.ok()) << res.status;
  EXPECT_EQ(RecordOf(res.request_id).granted_subject, res.ssh_key_id);
}

TEST_F(SshExchangeTest, CaRotationChangesTheSigningKey) {
  CertificateResult before = IssueSsh();
  ASSERT_TRUE(before.status.ok());
  const std::string old_id = keys_.ActiveSshCa()->id;
  ASSERT_TRUE(keys_.Rotate(KeyPurpose::kSshCa, {}).ok());
  CertificateResult after = IssueSsh();
  ASSERT_TRUE(after.status.ok());
  EXPECT_EQ(RecordOf(before.request_id).signing_key, old_id);
  EXPECT_EQ(RecordOf(after.request_id).signing_key, keys_.ActiveSshCa()->id);
  EXPECT_NE(old_id, keys_.ActiveSshCa()->id);
}

TEST_F(SshExchangeTest, RuleGrantingNoPrincipalsOrAnotherKindIsDenied) {
  policy_.decision.grant->ssh_principals.clear();
  CertificateResult none = IssueSsh();
  EXPECT_EQ(none.oauth_error, "access_denied");
  EXPECT_THAT(none.status.message(), HasSubstr("grants no SSH principals"));
  EXPECT_EQ(RecordOf(none.request_id).decision, "deny");
  AllowSsh();
  policy_.decision.grant->kind = CredentialKind::kX509Svid;
  CertificateResult kind = IssueSsh();
  EXPECT_EQ(kind.oauth_error, "access_denied");
  EXPECT_THAT(kind.status.message(), HasSubstr("does not grant SSH certificates"));
}

TEST_F(SshExchangeTest, PolicyDenialIsRecordedWithItsCode) {
  policy_.decision = Decision{};
  policy_.decision.deny_code = DenyCode::kInvalidScope;
  policy_.decision.reasons = {"principal \"root\" is not granted"};
  CertificateResult res = IssueSsh({"root"});
  EXPECT_EQ(res.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(res.oauth_error, "invalid_scope");
  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.error, "invalid_scope");
  EXPECT_EQ(rec.credential_kind, "ssh");
  EXPECT_THAT(rec.reasons, ElementsAre(HasSubstr("root")));
}

TEST_F(SshExchangeTest, BadPublicKeysAreInvalidRequestAndRecorded) {
  for (const std::string& key :
       {std::string("ssh-ed25519 not-base64!"), std::string("ssh-dss AAAAB3NzaC1kc3MAAACBAP"),
        std::string("garbage")}) {
    CertificateResult res = IssueSsh({}, key);
    EXPECT_EQ(res.status.code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(res.oauth_error, "invalid_request");
    EXPECT_EQ(RecordOf(res.request_id).error, "invalid_request");
  }
}

TEST_F(SshExchangeTest, BadAttestationIsInvalidGrant) {
  CertificateResult res = IssueSsh({}, "", "forged");
  EXPECT_EQ(res.oauth_error, "invalid_grant");
  EXPECT_EQ(RecordOf(res.request_id).error, "invalid_grant");
}

TEST_F(SshExchangeTest, MalformedRequestsAreNotRecorded) {
  SshExchangeRequest no_key;
  no_key.subject_token = "good";
  SshExchangeRequest no_token;
  no_token.public_key = PublicKey();
  SshExchangeRequest bad_lifetime;
  bad_lifetime.subject_token = "good";
  bad_lifetime.public_key = PublicKey();
  bad_lifetime.lifetime = absl::Seconds(-5);
  for (const SshExchangeRequest& r : {no_key, no_token, bad_lifetime}) {
    CertificateResult res = exchange_->IssueSsh(r, {"http", "10.1.2.3"});
    EXPECT_EQ(res.status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(res.oauth_error, "invalid_request");
  }
  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(SshExchangeTest, FailedRecordIssuesNothing) {
  ledger_->fail_appends = true;
  CertificateResult res = IssueSsh();
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(res.ssh.has_value());
  EXPECT_THAT(res.principals, IsEmpty());
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload));
}

}  // namespace
}  // namespace writ::issuer

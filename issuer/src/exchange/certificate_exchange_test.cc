// CertificateExchange: X.509-SVID and SSH certificate issuance with an
// attestation (renewal: svid_renewal_test.cc).
#include <thread>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "issuer/src/exchange/certificate_exchange_fixture.h"

namespace writ::issuer {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST_F(CertificateExchangeTest, IssuesSvidForTheGrantedSpiffeIdAndRecordsIt) {
  CertificateResult res = Issue();
  ASSERT_TRUE(res.status.ok()) << res.status;
  ASSERT_TRUE(res.svid.has_value());
  EXPECT_EQ(res.svid->spiffe_id, kSpiffeId);
  EXPECT_EQ(res.rule, "ci-svid");
  EXPECT_TRUE(VerifiesAgainstBundle(res.svid->certificate_pem).ok());
  auto leaf = ParseCertificatePem(res.svid->certificate_pem);
  ASSERT_TRUE(leaf.ok());
  EXPECT_THAT(*CertificateUriSans(leaf->get()), ElementsAre(kSpiffeId));
  EXPECT_EQ(res.svid->not_after, clock_.Now() + absl::Minutes(10));
  // A self-signed CA is a root in the bundle: nothing to send after the SVID.
  EXPECT_THAT(res.chain_pem, IsEmpty());
  EXPECT_THAT(res.bundle_pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  auto bundle = ParseCertificateChainPem(res.bundle_pem);
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(bundle->size(), 1u);

  EXPECT_EQ(policy_.last_request.kind, CredentialKind::kX509Svid);
  EXPECT_EQ(policy_.last_request.client_address, "10.0.0.1");
  EXPECT_TRUE(policy_.last_request.audience.empty());

  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.credential_kind, "x509-svid");
  EXPECT_EQ(rec.jti, res.svid->serial_hex);
  EXPECT_EQ(rec.granted_subject, kSpiffeId);
  EXPECT_EQ(rec.credential_sha256, res.svid->sha256_fingerprint_hex);
  EXPECT_EQ(rec.expires_at, res.svid->not_after);
  EXPECT_EQ(rec.granted_lifetime, absl::Minutes(10));
  EXPECT_EQ(rec.signing_key, keys_.ActiveX509Ca()->id);
  EXPECT_EQ(rec.attested_issuer_name, "github");
  EXPECT_EQ(rec.attested_subject, kWorkload);
  EXPECT_EQ(rec.transport, "http");
  EXPECT_EQ(rec.rule, "ci-svid");
  EXPECT_EQ(rec.policy_file, "10-ci.yaml");
  // The used claims, then the facts the SVID carries that were not among them.
  EXPECT_THAT(rec.claims, ElementsAre(Pair("sub", kWorkload), Pair("repository", "acme/app"),
                                      Pair("ref", "refs/heads/main")));
  auto found = ledger_->FindByJti(res.svid->serial_hex);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->request_id, res.request_id);
}

TEST_F(CertificateExchangeTest, GlobalMaximumCapsTheLifetimeAndTheRequestIsPassedOn) {
  policy_.decision.grant->lifetime = absl::Hours(5);
  SvidExchangeRequest req;
  req.subject_token = "good";
  req.csr = Csr();
  req.lifetime = absl::Hours(2);
  CertificateResult res = exchange_->IssueSvid(req, {"http", "10.0.0.1"});
  ASSERT_TRUE(res.status.ok()) << res.status;
  EXPECT_EQ(res.svid->not_after - clock_.Now(), absl::Minutes(30));
  EXPECT_EQ(policy_.last_request.lifetime, absl::Hours(2));
  EXPECT_EQ(RecordOf(res.request_id).requested_lifetime, absl::Hours(2));
}

TEST_F(CertificateExchangeTest, SpiffeIdOutsideTheTrustDomainIsDeniedAndRecorded) {
  policy_.decision.grant->subject = "spiffe://other.example/ci/acme/app";
  CertificateResult res = Issue();
  EXPECT_EQ(res.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(res.oauth_error, "access_denied");
  EXPECT_THAT(res.status.message(), HasSubstr("trust domain \"acme.example\""));
  EXPECT_FALSE(res.svid.has_value());
  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.decision, "deny");
  EXPECT_EQ(rec.error, "access_denied");
  EXPECT_THAT(rec.reasons, ElementsAre(HasSubstr("other.example")));
  EXPECT_TRUE(rec.jti.empty());
  EXPECT_TRUE(rec.granted_subject.empty());
}

TEST_F(CertificateExchangeTest, GrantedSubjectThatIsNotASpiffeIdIsDenied) {
  policy_.decision.grant->subject = "repo:acme/app";
  CertificateResult res = Issue();
  EXPECT_EQ(res.oauth_error, "access_denied");
  EXPECT_THAT(res.status.message(), HasSubstr("not a SPIFFE ID"));
  EXPECT_EQ(RecordOf(res.request_id).error, "access_denied");
}

TEST_F(CertificateExchangeTest, RuleGrantingAnotherKindIsDenied) {
  policy_.decision.grant->kind = CredentialKind::kJwt;
  CertificateResult res = Issue();
  EXPECT_EQ(res.oauth_error, "access_denied");
  EXPECT_THAT(res.status.message(), HasSubstr("does not grant X.509-SVIDs"));
  EXPECT_EQ(RecordOf(res.request_id).decision, "deny");
}

TEST_F(CertificateExchangeTest, PolicyDenialCarriesItsCodeAndIsRecorded) {
  for (auto [code, name] : {std::pair{DenyCode::kAccessDenied, "access_denied"},
                            std::pair{DenyCode::kInvalidScope, "invalid_scope"}}) {
    policy_.decision = Decision{};
    policy_.decision.deny_code = code;
    policy_.decision.rule = "ci-svid";
    policy_.decision.reasons = {"rule ci-svid: credential x509-svid is not granted"};
    CertificateResult res = Issue();
    EXPECT_EQ(res.status.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_EQ(res.oauth_error, name);
    EXPECT_THAT(res.status.message(), HasSubstr("x509-svid is not granted"));
    LedgerRecord rec = RecordOf(res.request_id);
    EXPECT_EQ(rec.error, name);
    EXPECT_EQ(rec.reasons, policy_.decision.reasons);
    EXPECT_EQ(rec.credential_kind, "x509-svid");
  }
}

TEST_F(CertificateExchangeTest, BadAttestationIsInvalidGrantAndRecorded) {
  CertificateResult res = Issue("forged");
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(res.oauth_error, "invalid_grant");
  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.error, "invalid_grant");
  EXPECT_THAT(rec.reasons, ElementsAre(HasSubstr("not trusted")));
  EXPECT_TRUE(rec.attested_subject.empty());
}

TEST_F(CertificateExchangeTest, UnreachableIssuerKeysAreTemporarilyUnavailable) {
  CertificateResult res = Issue("down");
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  EXPECT_EQ(RecordOf(res.request_id).error, "temporarily_unavailable");
}

TEST_F(CertificateExchangeTest, NoActiveCaIsUnavailableRecordedAndReleasesTheToken) {
  keys_.SetX509CaActive(false);
  CertificateResult res = Issue();
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  EXPECT_THAT(res.status.message(), HasSubstr("no active X.509 CA"));
  EXPECT_FALSE(res.svid.has_value());
  EXPECT_THAT(RecordOf(res.request_id).reasons, ElementsAre(HasSubstr("no active X.509 CA")));
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload));
  keys_.SetX509CaActive(true);
  EXPECT_TRUE(Issue().status.ok());
}

TEST_F(CertificateExchangeTest, CsrWithBadSignatureIsInvalidRequestAndRecorded) {
  auto key = GenerateKey(KeySpec::kEcP256);
  auto der = CertificateRequest::CreateDer(key->get(), {});
  ASSERT_TRUE(der.ok());
  der->back() ^= 0x01;  // the end of the ECDSA s value: still well-formed
  CertificateResult res = Issue("good", *der);
  EXPECT_EQ(res.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(res.oauth_error, "invalid_request");
  EXPECT_THAT(res.status.message(), HasSubstr("proof of possession"));
  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.error, "invalid_request");
  EXPECT_THAT(rec.reasons, ElementsAre(HasSubstr("proof of possession")));
  EXPECT_THAT(attestor_.Forgotten(), IsEmpty());  // the caller's fault: no release
}

TEST_F(CertificateExchangeTest, CsrWithWeakRsaKeyIsInvalidRequest) {
  SslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(key, nullptr);
  SslPtr<X509_REQ> req(X509_REQ_new());
  ASSERT_EQ(X509_REQ_set_version(req.get(), X509_REQ_VERSION_1), 1);
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), key.get()), 1);
  ASSERT_GT(X509_REQ_sign(req.get(), key.get(), EVP_sha256()), 0);
  int len = i2d_X509_REQ(req.get(), nullptr);
  ASSERT_GT(len, 0);
  std::string der(len, '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  ASSERT_EQ(i2d_X509_REQ(req.get(), &p), len);
  CertificateResult res = Issue("good", der);
  EXPECT_EQ(res.oauth_error, "invalid_request");
  EXPECT_THAT(res.status.message(), HasSubstr("RSA 1024"));
  EXPECT_THAT(RecordOf(res.request_id).reasons, ElementsAre(HasSubstr("RSA 1024")));
}

TEST_F(CertificateExchangeTest, CsrAskingForAnotherNameIsAccessDenied) {
  CertificateRequestTemplate tmpl;
  tmpl.uri_sans = {kSpiffeId};
  tmpl.dns_sans = {"admin.acme.example"};
  CertificateResult res = Issue("good", Csr(KeySpec::kEcP256, tmpl));
  EXPECT_EQ(res.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(res.oauth_error, "access_denied");
  EXPECT_THAT(res.status.message(), HasSubstr("admin.acme.example"));
  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.error, "access_denied");
  EXPECT_THAT(rec.reasons, ElementsAre(HasSubstr("admin.acme.example")));
}

TEST_F(CertificateExchangeTest, MalformedRequestsAreInvalidRequestAndNotRecorded) {
  SvidExchangeRequest no_token;
  no_token.csr = Csr();
  SvidExchangeRequest no_csr;
  no_csr.subject_token = "good";
  SvidExchangeRequest bad_lifetime;
  bad_lifetime.subject_token = "good";
  bad_lifetime.csr = Csr();
  bad_lifetime.lifetime = absl::ZeroDuration();
  for (const SvidExchangeRequest& r : {no_token, no_csr, bad_lifetime}) {
    CertificateResult res = exchange_->IssueSvid(r, {"http", "10.0.0.1"});
    EXPECT_EQ(res.status.code(), absl::StatusCode::kInvalidArgument) << res.status;
    EXPECT_EQ(res.oauth_error, "invalid_request");
  }
  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(CertificateExchangeTest, DisabledKindsAreRefusedBeforeAttesting) {
  options_.x509_enabled = false;
  options_.ssh_enabled = false;
  NewExchange();
  CertificateResult svid = Issue();
  EXPECT_EQ(svid.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(svid.oauth_error, "invalid_request");
  EXPECT_THAT(svid.status.message(), HasSubstr("x509.enabled: false"));
  CertificateResult renewal = Renew({"not a certificate"});
  EXPECT_EQ(renewal.status.code(), absl::StatusCode::kFailedPrecondition);
  SshExchangeRequest ssh;
  ssh.subject_token = "good";
  ssh.public_key = "ssh-ed25519 AAAA";
  CertificateResult cert = exchange_->IssueSsh(ssh, {"http", "10.0.0.1"});
  EXPECT_EQ(cert.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(cert.status.message(), HasSubstr("ssh.enabled: false"));
  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(CertificateExchangeTest, UnhealthyLedgerAnswers503BeforeAttesting) {
  ledger_->unhealthy = true;
  CertificateResult res = Issue();
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  EXPECT_EQ(attestor_.Calls(), 0);
}

TEST_F(CertificateExchangeTest, FailedRecordMeansNoCertificateAndReleasesTheToken) {
  ledger_->fail_appends = true;
  CertificateResult res = Issue();
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(res.oauth_error, "temporarily_unavailable");
  EXPECT_FALSE(res.svid.has_value());
  EXPECT_TRUE(res.bundle_pem.empty());
  EXPECT_FALSE(res.request_id.empty());
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload));
}

TEST_F(CertificateExchangeTest, RotationSwitchesTheSigningCaAndOldSvidsStayVerifiable) {
  CertificateResult before = Issue();
  ASSERT_TRUE(before.status.ok()) << before.status;
  const std::string old_ca = keys_.ActiveX509Ca()->id;
  keys_.RotateX509Ca();
  CertificateResult after = Issue();
  ASSERT_TRUE(after.status.ok()) << after.status;
  EXPECT_NE(RecordOf(after.request_id).signing_key, old_ca);
  EXPECT_EQ(RecordOf(after.request_id).signing_key, keys_.ActiveX509Ca()->id);
  EXPECT_EQ(RecordOf(before.request_id).signing_key, old_ca);
  // Both CAs are published; the answer's bundle has both.
  EXPECT_TRUE(VerifiesAgainstBundle(before.svid->certificate_pem).ok());
  EXPECT_TRUE(VerifiesAgainstBundle(after.svid->certificate_pem).ok());
  auto bundle = ParseCertificateChainPem(after.bundle_pem);
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(bundle->size(), 2u);
}

TEST_F(CertificateExchangeTest, ConcurrentIssuanceAcrossRotationsAlwaysVerifies) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        CertificateResult res = Issue();
        if (!res.status.ok()) {
          ++failures;
          continue;
        }
        // Verify with the bundle the answer carried.
        auto roots = ParseCertificateChainPem(res.bundle_pem);
        auto leaf = ParseCertificatePem(res.svid->certificate_pem);
        std::vector<const X509*> raw;
        if (roots.ok()) {
          for (const auto& r : *roots) raw.push_back(r.get());
        }
        if (!leaf.ok() || raw.empty() || !VerifyCertificate(leaf->get(), raw, clock_.Now()).ok()) {
          ++failures;
        }
      }
    });
  }
  for (int i = 0; i < 3; ++i) keys_.RotateX509Ca();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace writ::issuer

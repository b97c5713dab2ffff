// CertificateExchange::RenewSvid: renewal on the strength of a presented SVID.
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "issuer/src/exchange/certificate_exchange_fixture.h"
#include "writ/crypto/digest.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

class SvidRenewalTest : public CertificateExchangeTest {
 protected:
  // IssueDer issues an SVID with an attestation and returns its DER.
  std::string IssueDer() {
    CertificateResult res = Issue();
    EXPECT_TRUE(res.status.ok()) << res.status;
    return res.svid.has_value() ? res.svid->certificate_der : "";
  }

  // ExpectRefused checks a recorded invalid_grant refusal naming `why`.
  void ExpectRefused(const CertificateResult& res, absl::string_view why) {
    EXPECT_EQ(res.status.code(), absl::StatusCode::kUnauthenticated) << res.status;
    EXPECT_EQ(res.oauth_error, "invalid_grant");
    EXPECT_THAT(res.status.message(), HasSubstr(why));
    EXPECT_FALSE(res.svid.has_value());
    LedgerRecord rec = RecordOf(res.request_id);
    EXPECT_EQ(rec.decision, "deny");
    EXPECT_EQ(rec.error, "invalid_grant");
    EXPECT_THAT(rec.reasons, ElementsAre(HasSubstr(why)));
    EXPECT_EQ(rec.transport, "grpc");
  }

  // MintDirectly signs an SVID for kSpiffeId with `ca`, bypassing the
  // exchange (so it has no ledger record).
  std::string MintDirectly(const X509Authority& ca) {
    X509_up_ref(ca.certificate.get());
    EVP_PKEY_up_ref(ca.private_key.get());
    auto minter = SvidMinter::New(SslPtr<X509>(ca.certificate.get()),
                                  SslPtr<EVP_PKEY>(ca.private_key.get()), &clock_);
    EXPECT_TRUE(minter.ok()) << minter.status();
    SvidRequest req;
    req.csr = Csr();
    req.spiffe_id = kSpiffeId;
    req.lifetime = absl::Minutes(10);
    auto svid = (*minter)->Mint(req);
    EXPECT_TRUE(svid.ok()) << svid.status();
    return svid.ok() ? svid->certificate_der : "";
  }

  // Forge signs, with `ca`, an SVID for `spiffe_id` whose serial is
  // `serial_hex` (bytes of the magnitude, as SvidMinter reports it).
  std::string Forge(const X509Authority& ca, const std::string& serial_hex,
                    const std::string& spiffe_id = kSpiffeId) {
    auto key = GenerateKey(KeySpec::kEcP256);
    EXPECT_TRUE(key.ok());
    CertificateTemplate tmpl;
    tmpl.uri_sans = {spiffe_id};
    tmpl.not_before = clock_.Now() - absl::Minutes(1);
    tmpl.not_after = clock_.Now() + absl::Minutes(10);
    tmpl.serial = absl::HexStringToBytes(serial_hex);
    tmpl.key_usage.digital_signature = true;
    tmpl.extended_key_usage.client_auth = true;
    auto cert = IssueCertificate(tmpl, key->get(), ca.certificate.get(), ca.private_key.get());
    EXPECT_TRUE(cert.ok()) << cert.status();
    return cert.ok() ? *CertificateToDer(cert->get()) : "";
  }

  // SerialOf is the serial of a DER certificate as the ledger keys it.
  static std::string SerialOf(const std::string& der) {
    auto cert = ParseCertificateDer(der);
    EXPECT_TRUE(cert.ok());
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert->get());
    return absl::BytesToHexString(absl::string_view(
        reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)), ASN1_STRING_length(serial)));
  }

  // AppendRecordFor records an allowed X.509-SVID issuance of `der` for
  // kSpiffeId, as the exchange would, then lets `edit` change it.
  template <typename Edit>
  void AppendRecordFor(const std::string& der, Edit edit) {
    LedgerRecord rec;
    rec.time = clock_.Now();
    rec.request_id = "planted-" + SerialOf(der);
    rec.attested_issuer_name = "github";
    rec.attested_issuer = "https://token.actions.githubusercontent.com";
    rec.attested_subject = kWorkload;
    rec.decision = "allow";
    rec.credential_kind = "x509-svid";
    rec.granted_subject = kSpiffeId;
    rec.jti = SerialOf(der);
    rec.credential_sha256 = Sha256Hex(der);
    edit(rec);
    ASSERT_TRUE(ledger_->Append(rec).ok());
  }
};

TEST_F(SvidRenewalTest, RenewsThePresentedSvidForTheSameIdentity) {
  CertificateResult first = Issue();
  ASSERT_TRUE(first.status.ok()) << first.status;
  const int attests = attestor_.Calls();
  clock_.Advance(absl::Minutes(5));
  CertificateResult renewed = Renew({first.svid->certificate_der});
  ASSERT_TRUE(renewed.status.ok()) << renewed.status;
  EXPECT_EQ(attestor_.Calls(), attests);  // no attestation
  EXPECT_EQ(renewed.svid->spiffe_id, kSpiffeId);
  EXPECT_NE(renewed.svid->serial_hex, first.svid->serial_hex);
  EXPECT_EQ(renewed.svid->not_after, clock_.Now() + absl::Minutes(10));
  EXPECT_TRUE(VerifiesAgainstBundle(renewed.svid->certificate_pem).ok());

  // The policy was asked again, for the identity the first record attested.
  EXPECT_EQ(policy_.last_identity.issuer_name, "github");
  EXPECT_EQ(policy_.last_identity.issuer, "https://token.actions.githubusercontent.com");
  EXPECT_EQ(policy_.last_identity.subject, kWorkload);
  EXPECT_EQ(policy_.last_identity.claims.GetString("repository"), "acme/app");
  EXPECT_EQ(policy_.last_identity.claims.GetString("ref"), "refs/heads/main");
  EXPECT_EQ(policy_.last_request.kind, CredentialKind::kX509Svid);
  EXPECT_EQ(policy_.last_request.client_address, "10.0.0.2");

  LedgerRecord original = RecordOf(first.request_id);
  LedgerRecord rec = RecordOf(renewed.request_id);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.credential_kind, "x509-svid");
  EXPECT_EQ(rec.renewed_from, first.svid->serial_hex);
  EXPECT_EQ(rec.jti, renewed.svid->serial_hex);
  EXPECT_EQ(rec.attested_issuer_name, original.attested_issuer_name);
  EXPECT_EQ(rec.attested_issuer, original.attested_issuer);
  EXPECT_EQ(rec.attested_subject, original.attested_subject);
  EXPECT_EQ(rec.claims, original.claims);
  EXPECT_EQ(rec.signing_key, keys_.ActiveX509Ca()->id);
  EXPECT_EQ(rec.transport, "grpc");

  // The renewed SVID renews in turn.
  clock_.Advance(absl::Minutes(5));
  CertificateResult again = Renew({renewed.svid->certificate_der});
  ASSERT_TRUE(again.status.ok()) << again.status;
  EXPECT_EQ(RecordOf(again.request_id).renewed_from, renewed.svid->serial_hex);
}

TEST_F(SvidRenewalTest, ExpiredSvidIsRefused) {
  std::string der = IssueDer();
  clock_.Advance(absl::Minutes(10));  // notAfter is exclusive for OpenSSL
  ExpectRefused(Renew({der}), "expired");
}

TEST_F(SvidRenewalTest, SvidFromAForeignCaIsRefused) {
  auto foreign = test::NewSelfSignedCa("Foreign CA", clock_.Now() - absl::Hours(1),
                                       clock_.Now() + absl::Hours(24));
  ASSERT_TRUE(foreign.ok());
  ExpectRefused(Renew({MintDirectly(**foreign)}), "unable to get local issuer certificate");
}

TEST_F(SvidRenewalTest, SvidOfOurCaWithoutARecordIsRefused) {
  ExpectRefused(Renew({MintDirectly(*keys_.ActiveX509Ca())}), "has no ledger record");
}

TEST_F(SvidRenewalTest, RecordWithoutTheTrustedIssuerNameIsRefused) {
  std::string der = MintDirectly(*keys_.ActiveX509Ca());
  auto cert = ParseCertificateDer(der);
  ASSERT_TRUE(cert.ok());
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert->get());
  LedgerRecord old;
  old.time = clock_.Now();
  old.request_id = "old-record";
  old.attested_issuer = "https://token.actions.githubusercontent.com";
  old.attested_subject = kWorkload;
  old.decision = "allow";
  old.credential_kind = "x509-svid";
  old.granted_subject = kSpiffeId;
  old.jti = absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(ASN1_STRING_get0_data(serial)), ASN1_STRING_length(serial)));
  old.credential_sha256 = Sha256Hex(der);
  ASSERT_TRUE(ledger_->Append(old).ok());
  ExpectRefused(Renew({der}), "predates renewals");
}

TEST_F(SvidRenewalTest, RuleWithoutRenewableIsRefusedAndRecorded) {
  std::string der = IssueDer();
  AllowSvid(/*renewable=*/false);
  CertificateResult res = Renew({der});
  EXPECT_EQ(res.status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(res.oauth_error, "access_denied");
  EXPECT_THAT(res.status.message(), HasSubstr("does not allow renewal"));
  LedgerRecord rec = RecordOf(res.request_id);
  EXPECT_EQ(rec.error, "access_denied");
  EXPECT_EQ(rec.attested_subject, kWorkload);
  EXPECT_FALSE(rec.renewed_from.empty());
}

TEST_F(SvidRenewalTest, PolicyThatNowDeniesOrGrantsAnotherIdRefuses) {
  std::string der = IssueDer();
  policy_.decision.grant->subject = "spiffe://acme.example/ci/other";
  CertificateResult other = Renew({der});
  EXPECT_EQ(other.oauth_error, "access_denied");
  EXPECT_THAT(other.status.message(), HasSubstr("now grants spiffe://acme.example/ci/other"));
  EXPECT_EQ(RecordOf(other.request_id).decision, "deny");

  policy_.decision = Decision{};
  policy_.decision.reasons = {"no rule matches"};
  CertificateResult denied = Renew({der});
  EXPECT_EQ(denied.oauth_error, "access_denied");
  EXPECT_THAT(RecordOf(denied.request_id).reasons, ElementsAre("no rule matches"));
}

TEST_F(SvidRenewalTest, SvidOfARetiredCaRenewsUntilItIsNoLongerPublished) {
  std::string der = IssueDer();
  keys_.RotateX509Ca();
  CertificateResult renewed = Renew({der});
  ASSERT_TRUE(renewed.status.ok()) << renewed.status;
  EXPECT_EQ(RecordOf(renewed.request_id).signing_key, keys_.ActiveX509Ca()->id);
  keys_.DropRetired();
  ExpectRefused(Renew({der}), "unable to get local issuer certificate");
}

TEST_F(SvidRenewalTest, GarbageOrMisusedCertificatesAreRefused) {
  ExpectRefused(Renew({"not DER"}), "presented SVID");
  // A CA certificate, not an SVID.
  ExpectRefused(Renew({keys_.Bundle()->x509_authorities_der.front()}), "spiffe:// URI SAN");
}

TEST_F(SvidRenewalTest, CertificatesTheClientSendsAfterItsLeafAreIgnored) {
  CertificateResult res = Renew({IssueDer(), "junk"});
  EXPECT_TRUE(res.status.ok()) << res.status;
}

TEST_F(SvidRenewalTest, UndecodableTransportCertificateIsRefusedAndRecorded) {
  SvidRenewalRequest req;
  req.peer_certificate_error = absl::InvalidArgumentError("certificate PEM has no block");
  req.csr = Csr();
  CertificateResult res = exchange_->RenewSvid(req, {"grpc", "10.0.0.2"});
  ExpectRefused(res, "TLS client certificate cannot be decoded: certificate PEM has no block");
  EXPECT_EQ(RecordOf(res.request_id).renewed_from, "");
}

TEST_F(SvidRenewalTest, RefusalsRecordTheSerialAndFingerprintOfThePresentedLeaf) {
  std::string der = IssueDer();
  clock_.Advance(absl::Minutes(10));
  CertificateResult expired = Renew({der});
  ExpectRefused(expired, absl::StrCat("(presented certificate sha256 ", Sha256Hex(der), ")"));
  EXPECT_EQ(RecordOf(expired.request_id).renewed_from, SerialOf(der));
  // Nothing identifies what does not parse.
  CertificateResult garbage = Renew({"not DER"});
  EXPECT_THAT(garbage.status.message(), ::testing::Not(HasSubstr("sha256")));
  EXPECT_EQ(RecordOf(garbage.request_id).renewed_from, "");
}

TEST_F(SvidRenewalTest, LeafWithAZeroSerialHasNoRecord) {
  std::string der = Forge(*keys_.ActiveX509Ca(), "01");
  auto cert = ParseCertificateDer(der);
  ASSERT_TRUE(cert.ok());
  // IssueCertificate refuses a zero serial: set it and sign again.
  SslPtr<ASN1_INTEGER> zero(ASN1_INTEGER_new());
  ASSERT_EQ(ASN1_INTEGER_set(zero.get(), 0), 1);
  ASSERT_EQ(X509_set_serialNumber(cert->get(), zero.get()), 1);
  ASSERT_GT(X509_sign(cert->get(), keys_.ActiveX509Ca()->private_key.get(), EVP_sha256()), 0);
  auto zero_der = CertificateToDer(cert->get());
  ASSERT_TRUE(zero_der.ok());
  CertificateResult res = Renew({*zero_der});
  EXPECT_EQ(res.oauth_error, "invalid_grant") << res.status;
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnauthenticated) << res.status;
  EXPECT_EQ(RecordOf(res.request_id).decision, "deny");
}

TEST_F(SvidRenewalTest, RecordOfTheSerialThatIsADenyIsRefused) {
  std::string der = MintDirectly(*keys_.ActiveX509Ca());
  AppendRecordFor(der, [](LedgerRecord& r) {
    r.decision = "deny";
    r.error = "access_denied";
  });
  ExpectRefused(Renew({der}), "is not an X.509-SVID Writ issued for");
}

TEST_F(SvidRenewalTest, RecordOfTheSerialThatIsAJwtIsRefused) {
  std::string der = MintDirectly(*keys_.ActiveX509Ca());
  AppendRecordFor(der, [](LedgerRecord& r) { r.credential_kind = "jwt"; });
  ExpectRefused(Renew({der}), "is not an X.509-SVID Writ issued for");
}

TEST_F(SvidRenewalTest, RecordOfTheSerialForAnotherSpiffeIdIsRefused) {
  std::string der = MintDirectly(*keys_.ActiveX509Ca());
  AppendRecordFor(der,
                  [](LedgerRecord& r) { r.granted_subject = "spiffe://acme.example/ci/other"; });
  ExpectRefused(Renew({der}), "is not an X.509-SVID Writ issued for");
}

TEST_F(SvidRenewalTest, ForgedLeafWithTheSerialOfARecordedSvidIsRefused) {
  // Another CA under the same root (a retired, still-published Writ CA)
  // signs a leaf reusing a recorded serial: the fingerprint differs.
  keys_.UseIntermediateMode();
  NewExchange();
  std::string der = IssueDer();
  keys_.RotateX509Ca();
  std::string forged = Forge(*keys_.ActiveX509Ca(), SerialOf(der));
  ASSERT_NE(forged, der);
  CertificateResult res = Renew({forged});
  ExpectRefused(res, absl::StrCat("serial ", SerialOf(der), " is not an X.509-SVID Writ issued"));
  EXPECT_EQ(RecordOf(res.request_id).renewed_from, SerialOf(der));
  // The genuine one still renews.
  EXPECT_TRUE(Renew({der}).status.ok());
}

TEST_F(SvidRenewalTest, IntermediateModeRenewsUnderARetiredCaFromTheLeafAlone) {
  keys_.UseIntermediateMode();
  NewExchange();
  std::string der = IssueDer();
  CertificateResult active = Renew({der});
  ASSERT_TRUE(active.status.ok()) << active.status;
  keys_.RotateX509Ca();
  CertificateResult retired = Renew({der});
  ASSERT_TRUE(retired.status.ok()) << retired.status;
  EXPECT_EQ(RecordOf(retired.request_id).signing_key, keys_.ActiveX509Ca()->id);
}

TEST_F(SvidRenewalTest, IntermediateModeIgnoresTheClientsCopyOfADroppedCa) {
  keys_.UseIntermediateMode();
  NewExchange();
  std::string der = IssueDer();
  std::shared_ptr<const X509Authority> old_ca = keys_.ActiveX509Ca();
  auto old_ca_der = CertificateToDer(old_ca->certificate.get());
  ASSERT_TRUE(old_ca_der.ok());
  keys_.RotateX509Ca();
  keys_.DropRetired();
  // The old CA still chains to the published root, but Writ dropped its key.
  ExpectRefused(Renew({der, *old_ca_der}), "unable to get local issuer certificate");
  ExpectRefused(Renew({der}), "unable to get local issuer certificate");
}

TEST_F(SvidRenewalTest, MissingPresentedSvidOrCsrIsRefusedWithoutARecord) {
  CertificateResult none = Renew({});
  EXPECT_EQ(none.status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(none.oauth_error, "invalid_grant");
  EXPECT_THAT(none.status.message(), HasSubstr("TLS client certificate"));
  SvidRenewalRequest no_csr;
  no_csr.peer_chain_der = {"x"};
  CertificateResult bad = exchange_->RenewSvid(no_csr, {"grpc", "10.0.0.2"});
  EXPECT_EQ(bad.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(SvidRenewalTest, CsrRefusalsDuringRenewalAreRecorded) {
  std::string der = IssueDer();
  CertificateRequestTemplate tmpl;
  tmpl.dns_sans = {"evil.example"};
  CertificateResult res = Renew({der}, Csr(KeySpec::kEcP256, tmpl));
  EXPECT_EQ(res.oauth_error, "access_denied");
  EXPECT_THAT(RecordOf(res.request_id).reasons, ElementsAre(HasSubstr("evil.example")));
}

TEST_F(SvidRenewalTest, FailedRecordOrUnhealthyLedgerIssuesNothing) {
  std::string der = IssueDer();
  ledger_->fail_appends = true;
  CertificateResult res = Renew({der});
  EXPECT_EQ(res.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(res.svid.has_value());
  ledger_->fail_appends = false;
  ledger_->unhealthy = true;
  EXPECT_EQ(Renew({der}).oauth_error, "temporarily_unavailable");
}

TEST_F(SvidRenewalTest, RecordedClaimsRebuildDottedAndDuplicatedNames) {
  policy_.decision.used_claims = {{"sub", kWorkload},
                                  {"env.name", "prod"},
                                  {"repository", "acme/app"},
                                  {"repository", "ignored"},
                                  {"exp", "soon"}};
  std::string der = IssueDer();
  ASSERT_TRUE(Renew({der}).status.ok());
  const JwtClaims& c = policy_.last_identity.claims;
  EXPECT_EQ(c.GetString("env.name"), "prod");
  EXPECT_EQ(c.GetString("repository"), "acme/app");
  EXPECT_EQ(c.subject(), kWorkload);
  EXPECT_FALSE(c.Has("exp"));
}

}  // namespace
}  // namespace writ::issuer

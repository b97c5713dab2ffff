// End-to-end tests of X.509-SVID renewal over gRPC mTLS: the workload
// presents its current SVID as the TLS client certificate and gets a new one
// without a new attestation.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/mint/svid_minter.h"
#include "tests/integration/cert_fixture.h"
#include "tests/testing/fake_key_manager.h"
#include "tests/testing/status_test_util.h"

namespace writ::integration {
namespace {

using ::testing::HasSubstr;

// Svid is an SVID with its key, as a workload holds it.
struct Svid {
  std::string key_pem;
  std::string chain_pem;  // the SVID, then any chain
  std::string serial;
};

class IssuerRenewalTest : public IssuerCertFixture {
 protected:
  // IssueOverHttp gets an SVID with an attestation (MintCi(claims)).
  Svid IssueOverHttp(absl::string_view claims = "{}") {
    Workload w = NewWorkload();
    HttpResult r = PostSvid(MintCi(claims), w.csr_pem);
    EXPECT_EQ(r.status, 200) << r.body;
    return {w.key_pem, JsonString(r.body, "x509_svid").value_or(""),
            JsonString(r.body, "serial").value_or("")};
  }

  // Renew calls RenewX509Svid over a TLS channel presenting `svid` (no client
  // certificate when `svid` is null).
  GrpcCall Renew(const Svid* svid, v1::X509SvidResponse* resp, Workload* next = nullptr) {
    Workload fresh = NewWorkload();
    auto stub = v1::CertificateService::NewStub(
        svid != nullptr ? Channel(svid->chain_pem, svid->key_pem) : Channel());
    v1::RenewX509SvidRequest req;
    req.set_csr(fresh.csr_pem);
    GrpcCall call =
        CallGrpc([&](grpc::ClientContext* c) { return stub->RenewX509Svid(c, req, resp); });
    if (next != nullptr) *next = std::move(fresh);
    return call;
  }

  // ExpectRefused checks an UNAUTHENTICATED invalid_grant renewal whose
  // message names `why`, recorded as a denial.
  void ExpectRefused(const GrpcCall& call, absl::string_view why) {
    EXPECT_EQ(call.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << call.status.error_message();
    EXPECT_EQ(call.oauth_error, "invalid_grant");
    EXPECT_THAT(call.status.error_message(), HasSubstr(why));
    issuer::LedgerRecord rec = RecordOf(call.request_id);
    EXPECT_EQ(rec.decision, "deny");
    EXPECT_EQ(rec.error, "invalid_grant");
    EXPECT_EQ(rec.transport, "grpc");
    EXPECT_TRUE(rec.jti.empty());
  }
};

TEST_F(IssuerRenewalTest, RenewsOverMutualTlsWithoutAnAttestation) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer({.grpc_tls = true}));
  Svid first = IssueOverHttp();
  v1::X509SvidResponse resp;
  Workload next;
  GrpcCall call = Renew(&first, &resp, &next);
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(resp.spiffe_id(), kGrantedSubject);
  EXPECT_NE(resp.serial(), first.serial);
  EXPECT_OK(OpensslVerify(resp.x509_svid_pem(), resp.bundle_pem()));
  EXPECT_OK(SvidCheck(resp.x509_svid_pem(), resp.bundle_pem(), kGrantedSubject));
  issuer::LedgerRecord original = RecordOfSerial(first.serial);
  issuer::LedgerRecord rec = RecordOfSerial(resp.serial());
  EXPECT_EQ(rec.request_id, call.request_id);
  EXPECT_EQ(rec.renewed_from, first.serial);
  EXPECT_EQ(rec.attested_subject, kCiSubject);
  EXPECT_EQ(rec.attested_issuer_name, "ci");
  EXPECT_EQ(rec.claims, original.claims);
  EXPECT_EQ(rec.transport, "grpc");
  EXPECT_EQ(rec.client_address, "127.0.0.1");

  // The renewed SVID renews in turn.
  Svid second{next.key_pem, resp.x509_svid_pem(), resp.serial()};
  v1::X509SvidResponse again;
  call = Renew(&second, &again);
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(RecordOfSerial(again.serial()).renewed_from, second.serial);
}

TEST_F(IssuerRenewalTest, RenewalWithoutAClientCertificateOrWithoutTlsIsUnauthenticated) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer({.grpc_tls = true}));
  v1::X509SvidResponse resp;
  GrpcCall none = Renew(nullptr, &resp);
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(none.status.error_message(), HasSubstr("presented none"));
  // Other calls on the same TLS listener need no client certificate.
  v1::TrustBundleResponse bundle;
  GrpcCall get = CallGrpc([&](grpc::ClientContext* c) {
    return certs_->GetTrustBundle(c, v1::GetTrustBundleRequest(), &bundle);
  });
  EXPECT_TRUE(get.status.ok()) << get.status.error_message();
}

TEST_F(IssuerRenewalTest, RenewalOverPlaintextIsUnauthenticated) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  v1::X509SvidResponse resp;
  GrpcCall call = Renew(nullptr, &resp);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(call.status.error_message(), HasSubstr("no TLS"));
}

TEST_F(IssuerRenewalTest, ExpiredSvidIsRefused) {
  FakeClock clock(absl::Now());
  ASSERT_NO_FATAL_FAILURE(StartCertServer({.clock = &clock, .grpc_tls = true}));
  Svid svid = IssueOverHttp();
  clock.Advance(absl::Minutes(11));  // the SVID lived 10m
  v1::X509SvidResponse resp;
  ExpectRefused(Renew(&svid, &resp), "expired");
}

TEST_F(IssuerRenewalTest, SvidOfAForeignCaIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer({.grpc_tls = true}));
  ASSERT_OK_AND_ASSIGN(auto foreign,
                       test::NewSelfSignedCa("Foreign CA", absl::Now() - absl::Hours(1),
                                             absl::Now() + absl::Hours(1)));
  X509_up_ref(foreign->certificate.get());
  EVP_PKEY_up_ref(foreign->private_key.get());
  ASSERT_OK_AND_ASSIGN(
      auto minter,
      issuer::SvidMinter::New(SslPtr<X509>(foreign->certificate.get()),
                              SslPtr<EVP_PKEY>(foreign->private_key.get()), &Clock::Real()));
  Workload w = NewWorkload();
  issuer::SvidRequest req;
  req.csr = w.csr_pem;
  req.spiffe_id = kGrantedSubject;
  req.lifetime = absl::Minutes(10);
  ASSERT_OK_AND_ASSIGN(issuer::MintedSvid forged, minter->Mint(req));
  Svid svid{w.key_pem, forged.certificate_pem, forged.serial_hex};
  v1::X509SvidResponse resp;
  ExpectRefused(Renew(&svid, &resp), "unable to get local issuer certificate");
}

TEST_F(IssuerRenewalTest, RuleWithoutRenewableIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer({.grpc_tls = true}));
  Svid batch = IssueOverHttp(kBatchClaims);
  EXPECT_EQ(RecordOfSerial(batch.serial).granted_subject, kBatchSpiffeId);
  v1::X509SvidResponse resp;
  GrpcCall call = Renew(&batch, &resp);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call.oauth_error, "access_denied");
  EXPECT_THAT(call.status.error_message(), HasSubstr("does not allow renewal"));
  issuer::LedgerRecord rec = RecordOf(call.request_id);
  EXPECT_EQ(rec.error, "access_denied");
  EXPECT_EQ(rec.renewed_from, batch.serial);
}

TEST_F(IssuerRenewalTest, RenewalSurvivesACaRotationWithoutARestart) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer({.grpc_tls = true}));
  Svid svid = IssueOverHttp();
  const std::string old_ca = server_->keys()->ActiveX509Ca()->id;
  v1::RotateKeyRequest rotate;
  rotate.set_purpose("x509-ca");
  rotate.set_force(true);
  v1::RotateKeyResponse rotated;
  GrpcCall r =
      CallGrpc([&](grpc::ClientContext* c) { return keys_->RotateKey(c, rotate, &rotated); });
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_NE(server_->keys()->ActiveX509Ca()->id, old_ca);
  v1::X509SvidResponse resp;
  GrpcCall call = Renew(&svid, &resp);
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(RecordOfSerial(resp.serial()).signing_key, server_->keys()->ActiveX509Ca()->id);
  EXPECT_OK(
      VerifyInProcess(resp.x509_svid_pem(), HttpGet(url("/v1/bundle.pem")).body, absl::Now()));
}

}  // namespace
}  // namespace writ::integration

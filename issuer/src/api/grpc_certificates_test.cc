// The gRPC certificate and key services' own checks: reading the TLS client
// certificate for a renewal, KeyService's operator-only wiring, and
// CertificateService on the callback API in front of the real
// CertificateExchange (the exchange fixture), over TLS on loopback: issuance
// runs on the pool, whose thread is free while the record is written; the
// call is finished after the record; a refused record or a full pool is
// UNAVAILABLE with no certificate, and so is issuance still queued when the
// server stops, which is not even attested. Client threads are jthreads: an
// ASSERT that fails joins them (every call has a deadline) rather than
// terminating the binary.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/api/grpc_api.h"
#include "issuer/src/api/grpc_services.h"
#include "issuer/src/exchange/certificate_exchange_fixture.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "tests/testing/fake_key_manager.h"
#include "tests/testing/grpc_call.h"
#include "tests/testing/pool_blocker.h"
#include "writ/crypto/keys.h"
#include "writ/v1/writ.grpc.pb.h"
#include "writ/x509/certificate.h"

namespace writ::issuer::grpc_internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::string CaPem(absl::string_view name) {
  auto ca = test::NewSelfSignedCa(name, kNow - absl::Hours(1), kNow + absl::Hours(1));
  EXPECT_TRUE(ca.ok()) << ca.status();
  auto pem = CertificateToPem((*ca)->certificate.get());
  EXPECT_TRUE(pem.ok()) << pem.status();
  return *pem;
}

TEST(PeerChainFromPropertiesTest, ReadsTheLeafOnceThenTheChain) {
  const std::string leaf = CaPem("leaf"), other = CaPem("other");
  SvidRenewalRequest req =
      PeerChainFromProperties(GRPC_SSL_TRANSPORT_SECURITY_TYPE, leaf, leaf + other);
  ASSERT_TRUE(req.peer_certificate_error.ok()) << req.peer_certificate_error;
  ASSERT_EQ(req.peer_chain_der.size(), 2u);
  EXPECT_EQ(req.peer_chain_der[0], *CertificateToDer(ParseCertificatePem(leaf)->get()));
  EXPECT_EQ(req.peer_chain_der[1], *CertificateToDer(ParseCertificatePem(other)->get()));
}

TEST(PeerChainFromPropertiesTest, LeafPemThatDoesNotParseIsPassedOnAsAnError) {
  SvidRenewalRequest req = PeerChainFromProperties(GRPC_TLS_TRANSPORT_SECURITY_TYPE,
                                                   "-----BEGIN CERTIFICATE-----\nxx", "");
  EXPECT_TRUE(req.peer_chain_der.empty());
  EXPECT_EQ(req.peer_certificate_error.code(), absl::StatusCode::kInvalidArgument);
}

TEST(PeerChainFromPropertiesTest, ChainThatDoesNotParseIsLeftOut) {
  SvidRenewalRequest req =
      PeerChainFromProperties(GRPC_SSL_TRANSPORT_SECURITY_TYPE, CaPem("leaf"), "junk");
  EXPECT_TRUE(req.peer_certificate_error.ok());
  EXPECT_EQ(req.peer_chain_der.size(), 1u);
}

TEST(PeerChainFromPropertiesTest, NoTlsOrNoLeafGivesNothing) {
  const std::string leaf = CaPem("leaf");
  for (SvidRenewalRequest req :
       {PeerChainFromProperties("", leaf, ""), PeerChainFromProperties("insecure", leaf, ""),
        PeerChainFromProperties(GRPC_SSL_TRANSPORT_SECURITY_TYPE, "", "")}) {
    EXPECT_TRUE(req.peer_chain_der.empty());
    EXPECT_TRUE(req.peer_certificate_error.ok());
  }
}

TEST(PeerChainDerTest, CallWithoutTlsIsUnauthenticated) {
  grpc::ServerContext ctx;
  auto req = PeerChainDer(ctx);
  EXPECT_EQ(req.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(req.status().message(), HasSubstr("no TLS"));
}

// A ServerContext outside a call has no peer (""), which is not loopback: the
// real KeyService must refuse it before touching the key manager.
TEST(KeyServiceTest, RefusesANonLoopbackPeerWithPermissionDenied) {
  test::FakeKeyManager keys(kNow);
  const std::vector<KeyInfo> before = keys.List();
  std::unique_ptr<grpc::Service> service = NewKeyService(&keys);
  auto* key_service = dynamic_cast<v1::KeyService::Service*>(service.get());
  ASSERT_NE(key_service, nullptr);

  grpc::ServerContext list_ctx;
  v1::ListKeysRequest list_in;
  v1::ListKeysResponse list_out;
  grpc::Status listed = key_service->ListKeys(&list_ctx, &list_in, &list_out);
  EXPECT_EQ(listed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(listed.error_message(), HasSubstr("loopback clients only"));
  EXPECT_EQ(list_out.keys_size(), 0);

  grpc::ServerContext rotate_ctx;
  v1::RotateKeyRequest rotate_in;
  rotate_in.set_purpose("x509-ca");
  rotate_in.set_force(true);
  v1::RotateKeyResponse rotate_out;
  grpc::Status rotated = key_service->RotateKey(&rotate_ctx, &rotate_in, &rotate_out);
  EXPECT_EQ(rotated.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(rotate_out.keys_size(), 0);
  std::vector<KeyInfo> after = keys.List();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].id, before[i].id);
}

using Call = test::GrpcCall;
using test::CallGrpc;

// Svid is an SVID with its key, as a workload holds it.
struct Svid {
  std::string key_pem;
  std::string chain_pem;
};

class CertificateServiceTest : public CertificateExchangeTest {
 protected:
  void SetUp() override {
    // The server's TLS certificate, for "localhost" at the real time (the
    // client checks it); client certificates are requested, not verified,
    // as GrpcApi does.
    auto key = GenerateKey(KeySpec::kEcP256);
    ASSERT_TRUE(key.ok());
    CertificateTemplate t;
    t.subject_common_name = "localhost";
    t.dns_sans = {"localhost"};
    t.not_before = absl::Now() - absl::Hours(1);
    t.not_after = absl::Now() + absl::Hours(1);
    t.serial = *RandomSerial();
    t.key_usage.digital_signature = true;
    t.extended_key_usage.server_auth = true;
    auto cert = IssueCertificate(t, key->get(), nullptr, key->get());
    ASSERT_TRUE(cert.ok()) << cert.status();
    server_cert_pem_ = *CertificateToPem(cert->get());
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*PrivateKeyToPem(key->get()), server_cert_pem_});
    ssl.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;

    service_ = NewCertificateService(exchange_.get(), &keys_, &pool_, &stopping_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(ssl), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    stub_ = v1::CertificateService::NewStub(Channel());
  }
  void TearDown() override {
    EXPECT_TRUE(blocker_.Unblock());
    ledger_->Release(absl::UnavailableError("test over"));
    if (server_ != nullptr) server_->Shutdown();
  }

  // Channel is a TLS channel trusting the server, presenting `svid` when given.
  std::shared_ptr<grpc::Channel> Channel(const Svid* svid = nullptr) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = server_cert_pem_;
    if (svid != nullptr) {
      tls.pem_cert_chain = svid->chain_pem;
      tls.pem_private_key = svid->key_pem;
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_), grpc::SslCredentials(tls),
                                     args);
  }

  v1::MintX509SvidRequest SvidRequest() {
    v1::MintX509SvidRequest req;
    req.set_subject_token("good");
    req.set_csr(Csr());
    return req;
  }
  Call MintSvid(v1::X509SvidResponse* out, const v1::MintX509SvidRequest& req) {
    return CallGrpc([&](grpc::ClientContext* c) { return stub_->MintX509Svid(c, req, out); });
  }
  Call MintSvid(v1::X509SvidResponse* out) { return MintSvid(out, SvidRequest()); }
  Call MintSsh(v1::SshCertificateResponse* out) {
    auto key = GenerateKey(KeySpec::kEd25519);
    v1::MintSshCertificateRequest req;
    req.set_subject_token("good");
    req.set_public_key(*OpenSshPublicKeyLine(key->get(), "alice@laptop"));
    return CallGrpc([&](grpc::ClientContext* c) { return stub_->MintSshCertificate(c, req, out); });
  }
  // IssueSvid gets an SVID from the exchange (recorded), for renewals.
  Svid IssueSvid() {
    auto key = GenerateKey(KeySpec::kEcP256);
    EXPECT_TRUE(key.ok());
    SvidExchangeRequest req;
    req.subject_token = "good";
    req.csr = *CertificateRequest::CreatePem(key->get(), {});
    CertificateResult res = exchange_->IssueSvid(req, {"http", "10.0.0.1"});
    EXPECT_TRUE(res.status.ok()) << res.status;
    if (!res.status.ok()) return {};
    return {*PrivateKeyToPem(key->get()), res.svid->certificate_pem + res.chain_pem};
  }
  Call Renew(const Svid* svid, v1::X509SvidResponse* out) {
    auto stub = v1::CertificateService::NewStub(Channel(svid));
    v1::RenewX509SvidRequest req;
    req.set_csr(Csr());
    return CallGrpc([&](grpc::ClientContext* c) { return stub->RenewX509Svid(c, req, out); });
  }

  // ExpectUnavailableWithoutACertificate checks an UNAVAILABLE
  // temporarily_unavailable, with a request id when the exchange took the
  // request on (`exchange_answered`), without one when it never did.
  static void ExpectUnavailableWithoutACertificate(const Call& call,
                                                   bool exchange_answered = true) {
    EXPECT_EQ(call.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << call.status.error_message();
    EXPECT_EQ(call.oauth_error, "temporarily_unavailable");
    EXPECT_EQ(call.request_id.empty(), !exchange_answered) << call.request_id;
  }

  // One worker and one queue slot: a PoolBlocker fills it.
  WorkPool pool_{1, 1};
  test::PoolBlocker blocker_{&pool_};
  // What GrpcApi::Stop sets before it shuts the server down.
  std::atomic<bool> stopping_{false};
  std::string server_cert_pem_;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::unique_ptr<v1::CertificateService::Stub> stub_;
};

TEST_F(CertificateServiceTest, SvidCallIsFinishedAfterItsRecordAndThePoolThreadIsFreeMeanwhile) {
  ledger_->Hold();
  v1::X509SvidResponse out;
  Call call;
  absl::Notification finished;
  std::jthread client([&] {
    call = MintSvid(&out);
    finished.Notify();
  });
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  // The decision waits for the ledger; neither the pool's only thread nor the
  // call's answer does anything meanwhile.
  ASSERT_TRUE(test::PoolBlocker::IsFree(&pool_));
  EXPECT_FALSE(finished.HasBeenNotified());
  EXPECT_THAT(Records(), IsEmpty());

  ledger_->Release(absl::OkStatus());
  client.join();
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(out.spiffe_id(), kSpiffeId);
  EXPECT_EQ(out.serial(), held[0].jti);
  EXPECT_EQ(out.rule(), "ci-svid");
  EXPECT_EQ(call.request_id, held[0].request_id);
  EXPECT_TRUE(call.oauth_error.empty());
  LedgerRecord rec = RecordOf(call.request_id);
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_EQ(rec.transport, "grpc");
  EXPECT_EQ(rec.client_address, "127.0.0.1");
}

TEST_F(CertificateServiceTest, SshCallIsFinishedAfterItsRecord) {
  AllowSsh();
  ledger_->Hold();
  v1::SshCertificateResponse out;
  Call call;
  std::jthread client([&] { call = MintSsh(&out); });
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  ASSERT_TRUE(test::PoolBlocker::IsFree(&pool_));
  ledger_->Release(absl::OkStatus());
  client.join();
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(absl::StrCat(out.serial()), held[0].jti);
  EXPECT_THAT(out.principals(), ElementsAre("deploy"));
  EXPECT_EQ(out.key_id(), absl::StrCat("writ:", call.request_id));
  EXPECT_EQ(RecordOf(call.request_id).credential_kind, "ssh");
}

TEST_F(CertificateServiceTest, RenewalReadsTheClientCertificateAndIsFinishedAfterItsRecord) {
  Svid presented = IssueSvid();
  ledger_->Hold();
  v1::X509SvidResponse out;
  Call call;
  std::jthread client([&] { call = Renew(&presented, &out); });
  ASSERT_TRUE(ledger_->WaitHeld(1));
  std::vector<LedgerRecord> held = ledger_->Held();
  EXPECT_FALSE(held[0].renewed_from.empty());
  ASSERT_TRUE(test::PoolBlocker::IsFree(&pool_));
  ledger_->Release(absl::OkStatus());
  client.join();
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(out.spiffe_id(), kSpiffeId);
  EXPECT_EQ(RecordOf(call.request_id).renewed_from, held[0].renewed_from);
}

TEST_F(CertificateServiceTest, RefusedRecordIsUnavailableWithoutACertificate) {
  ledger_->Hold();
  v1::X509SvidResponse svid;
  Call svid_call;
  std::jthread client([&] { svid_call = MintSvid(&svid); });
  ASSERT_TRUE(ledger_->WaitHeld(1));
  ledger_->Release(absl::UnavailableError("disk full"));
  client.join();
  ExpectUnavailableWithoutACertificate(svid_call);
  EXPECT_THAT(svid_call.status.error_message(), HasSubstr("could not be recorded"));
  EXPECT_TRUE(svid.x509_svid_pem().empty());

  AllowSsh();
  ledger_->fail_appends = true;
  v1::SshCertificateResponse ssh;
  Call ssh_call = MintSsh(&ssh);
  ExpectUnavailableWithoutACertificate(ssh_call);
  EXPECT_THAT(ssh_call.status.error_message(), HasSubstr("disk full"));
  EXPECT_TRUE(ssh.certificate().empty());
  EXPECT_THAT(attestor_.Forgotten(), ElementsAre(kWorkload, kWorkload));
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(CertificateServiceTest, FullPoolIsUnavailableAndNothingIsDecidedOrRecorded) {
  Svid presented = IssueSvid();
  const int attested = attestor_.Calls();
  const size_t recorded = Records().size();
  ASSERT_TRUE(blocker_.Block());
  v1::X509SvidResponse svid, renewed;
  v1::SshCertificateResponse ssh;
  for (const Call& call : {MintSvid(&svid), MintSsh(&ssh), Renew(&presented, &renewed)}) {
    ExpectUnavailableWithoutACertificate(call, /*exchange_answered=*/false);
    EXPECT_THAT(call.status.error_message(), HasSubstr("busy"));
  }
  EXPECT_TRUE(svid.x509_svid_pem().empty());
  EXPECT_TRUE(renewed.x509_svid_pem().empty());
  EXPECT_TRUE(ssh.certificate().empty());
  EXPECT_EQ(attestor_.Calls(), attested);
  EXPECT_EQ(Records().size(), recorded);

  // The refusals were the pool's: with it free again, the same call succeeds.
  ASSERT_TRUE(blocker_.Unblock());
  v1::X509SvidResponse later;
  Call after = MintSvid(&later);
  ASSERT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(later.spiffe_id(), kSpiffeId);
  EXPECT_EQ(Records().size(), recorded + 1);
}

TEST_F(CertificateServiceTest, IssuanceQueuedWhenTheServerStopsIsRefusedWithoutAttesting) {
  ASSERT_TRUE(blocker_.HoldThread());
  v1::X509SvidResponse out;
  Call call;
  bool queued = false;
  {
    std::jthread client([&] { call = MintSvid(&out); });
    // The issuance waits behind the held thread when the server begins to
    // stop (GrpcApi::Stop sets the flag before it shuts the server down).
    queued = pool_.WaitForQueuedForTesting(1, kWaitTimeout);
    stopping_ = true;
    EXPECT_TRUE(blocker_.Unblock());
  }  // the call is answered
  ASSERT_TRUE(queued);
  ExpectUnavailableWithoutACertificate(call, /*exchange_answered=*/false);
  EXPECT_THAT(call.status.error_message(), HasSubstr("shutting down"));
  EXPECT_TRUE(out.x509_svid_pem().empty());
  EXPECT_EQ(attestor_.Calls(), 0);  // no one-time token spent
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(CertificateServiceTest, RefusalsBeforeTheExchangeAreAnsweredWithoutARecord) {
  v1::MintX509SvidRequest negative = SvidRequest();
  negative.set_requested_lifetime_seconds(-1);
  v1::X509SvidResponse out;
  Call call = MintSvid(&out, negative);
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(call.oauth_error, "invalid_request");

  Call no_client_certificate = Renew(nullptr, &out);
  EXPECT_EQ(no_client_certificate.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(no_client_certificate.oauth_error, "invalid_grant");
  EXPECT_THAT(no_client_certificate.status.error_message(), HasSubstr("presented none"));

  ledger_->unhealthy = true;
  Call unhealthy = MintSvid(&out);
  ExpectUnavailableWithoutACertificate(unhealthy);
  EXPECT_THAT(unhealthy.status.error_message(), HasSubstr("cannot record"));
  EXPECT_EQ(attestor_.Calls(), 0);
  EXPECT_THAT(Records(), IsEmpty());
}

TEST_F(CertificateServiceTest, ExchangeRefusalsKeepTheirStatusCodes) {
  policy_.decision = Decision{};
  policy_.decision.reasons = {"no rule matches"};
  v1::X509SvidResponse out;
  Call denied = MintSvid(&out);
  EXPECT_EQ(denied.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(denied.oauth_error, "access_denied");
  EXPECT_EQ(RecordOf(denied.request_id).error, "access_denied");

  v1::MintX509SvidRequest forged = SvidRequest();
  forged.set_subject_token("forged");
  Call bad_grant = MintSvid(&out, forged);
  EXPECT_EQ(bad_grant.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(bad_grant.oauth_error, "invalid_grant");

  v1::MintX509SvidRequest no_csr = SvidRequest();
  no_csr.clear_csr();
  Call malformed = MintSvid(&out, no_csr);
  EXPECT_EQ(malformed.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(malformed.oauth_error, "invalid_request");
  EXPECT_TRUE(out.x509_svid_pem().empty());
}

TEST_F(CertificateServiceTest, TrustBundleIsAnsweredInline) {
  ASSERT_TRUE(blocker_.Block());  // not needed for a bundle
  v1::TrustBundleResponse bundle;
  Call call = CallGrpc([&](grpc::ClientContext* c) {
    return stub_->GetTrustBundle(c, v1::GetTrustBundleRequest(), &bundle);
  });
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_THAT(bundle.x509_bundle_pem(), HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_FALSE(bundle.spiffe_bundle_json().empty());
}

// Without an exchange the issuing RPCs are UNIMPLEMENTED; without keys there
// is no bundle to give.
TEST(CertificateServiceWithoutStagesTest, AnswersUnimplementedOrUnavailable) {
  WorkPool pool(1, 1);
  std::atomic<bool> stopping{false};
  std::unique_ptr<grpc::Service> service =
      NewCertificateService(nullptr, nullptr, &pool, &stopping);
  grpc::ServerBuilder builder;
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = v1::CertificateService::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  v1::X509SvidResponse svid;
  v1::SshCertificateResponse ssh;
  v1::TrustBundleResponse bundle;
  EXPECT_EQ(CallGrpc([&](grpc::ClientContext* c) {
              return stub->MintX509Svid(c, v1::MintX509SvidRequest(), &svid);
            }).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(CallGrpc([&](grpc::ClientContext* c) {
              return stub->RenewX509Svid(c, v1::RenewX509SvidRequest(), &svid);
            }).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(CallGrpc([&](grpc::ClientContext* c) {
              return stub->MintSshCertificate(c, v1::MintSshCertificateRequest(), &ssh);
            }).status.error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(CallGrpc([&](grpc::ClientContext* c) {
              return stub->GetTrustBundle(c, v1::GetTrustBundleRequest(), &bundle);
            }).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  server->Shutdown();
}

}  // namespace
}  // namespace writ::issuer::grpc_internal

#include "writ/svid/grpc_credentials.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "gtest/gtest.h"
#include "sdk/src/svid/svid_test_util.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/keys.h"
#include "writ/v1/writ.grpc.pb.h"
#include "writ/x509/certificate.h"
#include "writ/x509/verify.h"

namespace writ {
namespace {

using test::LeafOf;
using test::TestCa;
using ::testing::HasSubstr;

constexpr char kServerId[] = "spiffe://acme.example/ns/prod/sa/backend";
constexpr char kClientId[] = "spiffe://acme.example/ns/prod/sa/frontend";

// Der returns a certificate's DER, to compare certificates whatever their PEM
// line breaks.
std::string Der(absl::string_view pem) {
  SslPtr<X509> cert = LeafOf(pem);
  if (cert == nullptr) return "";
  return CertificateToDer(cert.get()).value_or("");
}

std::string PeerLeafDer(const grpc::AuthContext& ctx) {
  std::vector<grpc::string_ref> pems = ctx.FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.size() != 1) return "";
  return Der(absl::string_view(pems.front().data(), pems.front().size()));
}

// RecordingService answers GetTrustBundle and records who called.
class RecordingService final : public v1::CertificateService::Service {
 public:
  grpc::Status GetTrustBundle(grpc::ServerContext* context, const v1::GetTrustBundleRequest*,
                              v1::TrustBundleResponse* response) override {
    absl::StatusOr<std::string> id = PeerSpiffeId(*context->auth_context());
    absl::MutexLock lock(&mu_);
    ++calls_;
    peer_id_ = id;
    peer_leaf_der_ = PeerLeafDer(*context->auth_context());
    response->set_trust_domain("acme.example");
    return grpc::Status::OK;
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  absl::StatusOr<std::string> peer_id() const {
    absl::MutexLock lock(&mu_);
    return peer_id_;
  }
  std::string peer_leaf_der() const {
    absl::MutexLock lock(&mu_);
    return peer_leaf_der_;
  }

 private:
  mutable absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::StatusOr<std::string> peer_id_ ABSL_GUARDED_BY(mu_) = absl::UnknownError("no call");
  std::string peer_leaf_der_ ABSL_GUARDED_BY(mu_);
};

struct CallResult {
  grpc::Status status;
  absl::StatusOr<std::string> server_id = absl::UnknownError("no call");
  std::string server_leaf_der;
};

class GrpcCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(ca_, TestCa::New(&Clock::Real()));
    ca_->set_backdate(absl::Minutes(1));
    ASSERT_OK_AND_ASSIGN(server_source_, X509Source::New(ca_->Issuer(kServerId)));
    ASSERT_OK_AND_ASSIGN(client_source_, X509Source::New(ca_->Issuer(kClientId)));
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  }

  // StartServer serves RecordingService with `creds` on a loopback port.
  // With short_connections the server closes every connection after 200 ms,
  // so the client keeps making new handshakes on the same channel.
  void StartServer(std::shared_ptr<grpc::ServerCredentials> creds, bool short_connections = false) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", creds, &port_);
    builder.RegisterService(&service_);
    if (short_connections) {
      builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, 200);
      builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, 2000);
    }
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void StartSvidServer(SpiffePeerPolicy policy = {}, bool short_connections = false) {
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<grpc::ServerCredentials> creds,
                         SvidServerCredentials(*server_source_, std::move(policy)));
    StartServer(creds, short_connections);
  }

  std::shared_ptr<grpc::Channel> Channel(std::shared_ptr<grpc::ChannelCredentials> creds) {
    return grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), creds);
  }
  std::shared_ptr<grpc::Channel> SvidChannel(X509Source& source, SpiffePeerPolicy policy = {}) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        SvidChannelCredentials(source, std::move(policy));
    EXPECT_TRUE(creds.ok()) << creds.status();
    return creds.ok() ? Channel(*creds) : nullptr;
  }

  // Call makes one call. A call expected to succeed waits for the channel
  // to be ready; one expected to be refused fails as soon as the handshake
  // does.
  static CallResult Call(const std::shared_ptr<grpc::Channel>& channel, bool expect_ok = true) {
    CallResult result;
    if (channel == nullptr) {
      result.status = grpc::Status(grpc::StatusCode::INTERNAL, "no channel");
      return result;
    }
    auto stub = v1::CertificateService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    context.set_wait_for_ready(expect_ok);
    v1::TrustBundleResponse response;
    result.status = stub->GetTrustBundle(&context, v1::GetTrustBundleRequest(), &response);
    if (result.status.ok()) {
      result.server_id = PeerSpiffeId(*context.auth_context());
      result.server_leaf_der = PeerLeafDer(*context.auth_context());
    }
    return result;
  }

  // CallUntilRefused calls until a call fails, for up to 10 s, and returns
  // the last status.
  static grpc::Status CallUntilRefused(const std::shared_ptr<grpc::Channel>& channel) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    grpc::Status status;
    while (absl::Now() < deadline) {
      status = Call(channel, /*expect_ok=*/false).status;
      if (!status.ok()) break;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return status;
  }

  // ExpectRefused checks that a call on `channel` fails in the handshake:
  // UNAVAILABLE, and the server's handler never runs.
  void ExpectRefused(const std::shared_ptr<grpc::Channel>& channel) {
    const int before = service_.calls();
    CallResult result = Call(channel, /*expect_ok=*/false);
    EXPECT_EQ(result.status.error_code(), grpc::StatusCode::UNAVAILABLE)
        << result.status.error_message();
    EXPECT_EQ(service_.calls(), before);
  }

  // CallUntilBothSeeCurrentSvids calls on `channel` until the server has
  // seen the client source's current leaf and the client the server's, or
  // for up to 10 s (gRPC re-reads the files every second; the server drops
  // connections every 200 ms). Every call must succeed.
  bool CallUntilBothSeeCurrentSvids(const std::shared_ptr<grpc::Channel>& channel) {
    const std::string client_leaf = Der(client_source_->Current().certificate_chain_pem);
    const std::string server_leaf = Der(server_source_->Current().certificate_chain_pem);
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      CallResult result = Call(channel);
      EXPECT_TRUE(result.status.ok()) << result.status.error_message();
      if (!result.status.ok()) return false;
      if (result.server_leaf_der == server_leaf && service_.peer_leaf_der() == client_leaf) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

  void RotateBothAndWait() {
    ASSERT_OK(server_source_->RotateNow());
    ASSERT_OK(client_source_->RotateNow());
    ASSERT_TRUE(CallUntilBothSeeCurrentSvids(channel_));
  }

  std::unique_ptr<TestCa> ca_;
  std::unique_ptr<X509Source> server_source_;
  std::unique_ptr<X509Source> client_source_;
  RecordingService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(GrpcCredentialsTest, MutualTlsCallSeesBothSpiffeIds) {
  StartSvidServer();
  CallResult result = Call(SvidChannel(*client_source_));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.server_id.value_or(""), kServerId) << result.server_id.status();
  EXPECT_EQ(result.server_leaf_der, Der(server_source_->Current().certificate_chain_pem));
  EXPECT_EQ(service_.peer_id().value_or(""), kClientId);
  EXPECT_EQ(service_.peer_leaf_der(), Der(client_source_->Current().certificate_chain_pem));
}

TEST_F(GrpcCredentialsTest, AllowedIdsAcceptTheListedPeer) {
  StartSvidServer({.allowed_ids = {kClientId}});
  CallResult result = Call(SvidChannel(*client_source_, {.allowed_ids = {kServerId}}));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
}

TEST_F(GrpcCredentialsTest, ClientRefusesServerNotInAllowedIds) {
  StartSvidServer();
  ExpectRefused(
      SvidChannel(*client_source_, {.allowed_ids = {"spiffe://acme.example/ns/prod/sa/other"}}));
}

TEST_F(GrpcCredentialsTest, ServerRefusesClientNotInAllowedIds) {
  StartSvidServer({.allowed_ids = {"spiffe://acme.example/ns/prod/sa/other"}});
  ExpectRefused(SvidChannel(*client_source_));
}

TEST_F(GrpcCredentialsTest, ClientRefusesServerOfAnotherTrustDomain) {
  StartSvidServer();
  ExpectRefused(SvidChannel(*client_source_, {.trust_domain = "other.example"}));
}

TEST_F(GrpcCredentialsTest, ServerRefusesClientOfAnotherTrustDomain) {
  // Same CA, so the chain verifies: only the SPIFFE ID check refuses it.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<X509Source> stranger,
                       X509Source::New(ca_->Issuer("spiffe://other.example/ns/prod/sa/frontend")));
  StartSvidServer();
  ExpectRefused(SvidChannel(*stranger, {.trust_domain = "acme.example"}));
}

TEST_F(GrpcCredentialsTest, ServerAcceptsAnotherTrustDomainItNames) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<X509Source> stranger,
                       X509Source::New(ca_->Issuer("spiffe://other.example/ns/prod/sa/frontend")));
  StartSvidServer({.trust_domain = "other.example"});
  CallResult result = Call(SvidChannel(*stranger, {.trust_domain = "acme.example"}));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(service_.peer_id().value_or(""), "spiffe://other.example/ns/prod/sa/frontend");
}

TEST_F(GrpcCredentialsTest, ServerRefusesClientFromAnotherCa) {
  // The client's leaf comes from a CA the server does not trust; the client
  // itself trusts both, so the refusal is the server's.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestCa> other_ca, TestCa::New(&Clock::Real()));
  other_ca->set_backdate(absl::Minutes(1));
  SvidIssuer issuer = [&](absl::string_view csr) -> absl::StatusOr<SvidResponse> {
    absl::StatusOr<SvidResponse> response = other_ca->Issue(csr, kClientId);
    if (response.ok()) response->bundle_pem += ca_->BundlePem();
    return response;
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<X509Source> impostor, X509Source::New(issuer));
  StartSvidServer();
  ExpectRefused(SvidChannel(*impostor));
  EXPECT_TRUE(Call(SvidChannel(*client_source_)).status.ok());
}

TEST_F(GrpcCredentialsTest, ServerRefusesClientWithoutCertificate) {
  StartSvidServer();
  // A TLS client that trusts the server but has no certificate of its own...
  auto roots_only = [&](bool with_identity) {
    std::vector<grpc::experimental::IdentityKeyCertPair> identity;
    if (with_identity) {
      SslPtr<EVP_PKEY> key = GenerateKey(KeySpec::kEcP256).value();
      identity.push_back(
          {PrivateKeyToPem(key.get()).value(), ca_->IssueLeafPem(key.get(), {kClientId}).value()});
    }
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(ca_->BundlePem(),
                                                                            identity));
    options.watch_root_certs();
    if (with_identity) options.watch_identity_key_cert_pairs();
    options.set_check_call_host(false);
    options.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    return Channel(grpc::experimental::TlsCredentials(options));
  };
  ExpectRefused(roots_only(false));
  // ...while the same client with a certificate gets through.
  CallResult result = Call(roots_only(true));
  EXPECT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(service_.peer_id().value_or(""), kClientId);
}

TEST_F(GrpcCredentialsTest, RotationKeepsTheSameChannelWorking) {
  StartSvidServer({}, /*short_connections=*/true);
  channel_ = SvidChannel(*client_source_);
  ASSERT_TRUE(CallUntilBothSeeCurrentSvids(channel_));
  const std::string old_client_leaf = service_.peer_leaf_der();
  const std::string old_client_key =
      test::LeafKeyPem(client_source_->Current().certificate_chain_pem);

  ASSERT_NO_FATAL_FAILURE(RotateBothAndWait());
  EXPECT_NE(service_.peer_leaf_der(), old_client_leaf);
  EXPECT_NE(test::LeafKeyPem(client_source_->Current().certificate_chain_pem), old_client_key);
  EXPECT_EQ(service_.peer_id().value_or(""), kClientId);
}

TEST_F(GrpcCredentialsTest, CaRotationKeepsTheSameChannelWorking) {
  StartSvidServer({}, /*short_connections=*/true);
  channel_ = SvidChannel(*client_source_);
  ASSERT_TRUE(CallUntilBothSeeCurrentSvids(channel_));

  // 1. The new CA is published first. Two rotations: the second one proves
  // that both sides have re-read the files since the bundle changed.
  ASSERT_OK_AND_ASSIGN(const int next_ca, ca_->AddAuthority());
  ASSERT_NO_FATAL_FAILURE(RotateBothAndWait());
  ASSERT_NO_FATAL_FAILURE(RotateBothAndWait());
  // 2. Then SVIDs come from it.
  ca_->SignWith(next_ca);
  ASSERT_NO_FATAL_FAILURE(RotateBothAndWait());
  // 3. Then the old CA is dropped.
  ca_->Unpublish(0);
  ASSERT_NO_FATAL_FAILURE(RotateBothAndWait());
  ASSERT_NO_FATAL_FAILURE(RotateBothAndWait());

  ASSERT_OK_AND_ASSIGN(SslPtr<X509> new_root, ParseCertificatePem(ca_->AuthorityPem(next_ca)));
  SslPtr<X509> client_leaf = LeafOf(client_source_->Current().certificate_chain_pem);
  EXPECT_OK(VerifyCertificate(client_leaf.get(), {new_root.get()}, absl::Now()));
  EXPECT_EQ(server_source_->Current().bundle_pem, ca_->AuthorityPem(next_ca));
  EXPECT_TRUE(Call(channel_).status.ok());
}

TEST_F(GrpcCredentialsTest, ClientHandshakesFailOnceItsSourceIsGone) {
  // A server that asks for no client certificate: if the client still
  // connected without its source, nothing here would stop it.
  SslPtr<EVP_PKEY> key = GenerateKey(KeySpec::kEcP256).value();
  grpc::experimental::TlsServerCredentialsOptions options(
      std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
          std::vector<grpc::experimental::IdentityKeyCertPair>{
              {PrivateKeyToPem(key.get()).value(),
               ca_->IssueLeafPem(key.get(), {kServerId}).value()}}));
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  StartServer(grpc::experimental::TlsServerCredentials(options), /*short_connections=*/true);
  channel_ = SvidChannel(*client_source_);
  ASSERT_TRUE(Call(channel_).status.ok());
  client_source_.reset();
  // Within a refresh interval the client's files hold no key; the server's
  // 200 ms connections force new handshakes, which fail on the client.
  EXPECT_EQ(CallUntilRefused(channel_).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcCredentialsTest, ServerHandshakesFailOnceItsSourceIsGone) {
  StartSvidServer({}, /*short_connections=*/true);
  channel_ = SvidChannel(*client_source_);
  ASSERT_TRUE(Call(channel_).status.ok());
  server_source_.reset();
  EXPECT_EQ(CallUntilRefused(channel_).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcCredentialsTest, RefusesBadPolicies) {
  EXPECT_EQ(
      SvidChannelCredentials(*client_source_, {.trust_domain = "Acme.Example"}).status().code(),
      absl::StatusCode::kInvalidArgument);
  absl::Status status =
      SvidServerCredentials(*server_source_, {.allowed_ids = {"spiffe://other.example/x"}})
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("outside the trust domain \"acme.example\""));
  EXPECT_EQ(
      SvidServerCredentials(*server_source_, {.allowed_ids = {"acme.example/x"}}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST_F(GrpcCredentialsTest, PeerSpiffeIdIsUnauthenticatedWithoutTls) {
  StartServer(grpc::InsecureServerCredentials());
  CallResult result = Call(Channel(grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(service_.peer_id().status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(result.server_id.status().code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace writ

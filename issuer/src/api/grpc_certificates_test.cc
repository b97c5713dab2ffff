// The gRPC certificate and key services' own checks: reading the TLS client
// certificate for a renewal, and KeyService's operator-only wiring.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/api/grpc_services.h"
#include "tests/testing/fake_key_manager.h"
#include "writ/v1/writ.grpc.pb.h"
#include "writ/x509/certificate.h"

namespace writ::issuer::grpc_internal {
namespace {

using ::testing::HasSubstr;

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

}  // namespace
}  // namespace writ::issuer::grpc_internal

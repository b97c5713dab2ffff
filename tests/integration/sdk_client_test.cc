// The SDK's Client against the real issuer (IssuerServer in-process on
// loopback): token exchange, a policy refusal with the issuer's reason,
// X.509-SVIDs from a CSR, SSH certificates and the trust bundle.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "tests/integration/cert_fixture.h"
#include "tests/testing/status_test_util.h"
#include "writ/client/attestation.h"
#include "writ/client/client.h"
#include "writ/crypto/keys.h"

namespace writ::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class SdkClientTest : public IssuerCertFixture {
 protected:
  // NewClient returns a Client whose attestation is the "ci" provider's
  // token (kCiClaims + `claims`), minted per call by a callback.
  std::unique_ptr<Client> NewClient(std::string claims = "{}") {
    ClientOptions options;
    options.issuer_url = server_->issuer_url();
    options.attestation_audience = "writ";
    options.attestation = NewCallbackSource(
        [this, claims](absl::string_view audience) -> absl::StatusOr<std::string> {
          audiences_.push_back(std::string(audience));
          return ci_idp_->Mint(now(), MergeJson(kCiClaims, claims));
        },
        "test ci provider");
    absl::StatusOr<std::unique_ptr<Client>> client = Client::New(std::move(options));
    EXPECT_OK(client);
    return client.ok() ? *std::move(client) : nullptr;
  }

  // RequestIdOf returns the "(request_id X)" of a refusal's message.
  static std::string RequestIdOf(const absl::Status& status) {
    std::vector<std::string> parts = absl::StrSplit(status.message(), "(request_id ");
    if (parts.size() != 2 || parts[1].empty()) return "";
    return parts[1].substr(0, parts[1].size() - 1);
  }

  std::vector<std::string> audiences_;
};

TEST_F(SdkClientTest, ExchangeTokenGetsAVerifiableWritToken) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::unique_ptr<Client> client = NewClient();
  ASSERT_NE(client, nullptr);
  TokenRequest request;
  request.audience = kDeployAudience;
  request.scopes = {"deploy:write"};
  request.lifetime = absl::Minutes(10);
  ASSERT_OK_AND_ASSIGN(Token token, client->ExchangeToken(request));
  EXPECT_THAT(audiences_, ElementsAre("writ"));
  EXPECT_EQ(token.token_type, "Bearer");
  EXPECT_THAT(token.scopes, ElementsAre("deploy:write"));
  EXPECT_EQ(token.expires_at - token.issued_at, absl::Minutes(10));
  ASSERT_OK_AND_ASSIGN(VerifiedJwt jwt, VerifyIssued(token.access_token, kDeployAudience));
  EXPECT_EQ(jwt.claims.subject(), kGrantedSubject);
  EXPECT_EQ(jwt.claims.GetString("scope").value_or(""), "deploy:write");
}

TEST_F(SdkClientTest, DelegatedExchangeNamesTheActor) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  TokenRequest request;
  request.audience = kDeployAudience;
  request.actor_token = MintAgent();
  ASSERT_OK_AND_ASSIGN(Token token, NewClient()->ExchangeToken(request));
  ASSERT_OK_AND_ASSIGN(VerifiedJwt jwt, VerifyIssued(token.access_token, kDeployAudience));
  EXPECT_EQ(jwt.claims.GetStringAt({"act", "sub"}).value_or(""), kAgentSubject);
}

TEST_F(SdkClientTest, RefusedScopeIsPermissionDeniedWithTheIssuersReason) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  TokenRequest request;
  request.audience = kDeployAudience;
  request.scopes = {"deploy:read", "deploy:admin"};
  absl::StatusOr<Token> got = NewClient()->ExchangeToken(request);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied) << got.status();
  EXPECT_THAT(std::string(got.status().message()),
              StartsWith("the issuer refused: invalid_scope: "));
  // The description is the reason the ledger recorded for this request.
  const std::string request_id = RequestIdOf(got.status());
  ASSERT_FALSE(request_id.empty()) << got.status();
  issuer::LedgerRecord rec = RecordOf(request_id);
  ASSERT_FALSE(rec.reasons.empty());
  EXPECT_THAT(std::string(got.status().message()), HasSubstr(rec.reasons[0]));
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("deploy:admin"));
  EXPECT_EQ(rec.error, "invalid_scope");
}

TEST_F(SdkClientTest, ExpiredAttestationIsUnauthenticated) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ClientOptions options;
  options.issuer_url = server_->issuer_url();
  options.attestation = NewCallbackSource(
      [this](absl::string_view) { return ci_idp_->Mint(now() - absl::Hours(1), kCiClaims); });
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::New(std::move(options)));
  TokenRequest request;
  request.audience = kDeployAudience;
  EXPECT_EQ(client->ExchangeToken(request).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(SdkClientTest, MintX509SvidFromACsr) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  Workload workload = NewWorkload();
  ASSERT_OK_AND_ASSIGN(X509SvidReply svid,
                       NewClient()->MintX509Svid(workload.csr_pem, absl::Minutes(15)));
  EXPECT_EQ(svid.spiffe_id, kGrantedSubject);
  EXPECT_THAT(UriSans(svid.certificate_chain_pem), ElementsAre(kGrantedSubject));
  EXPECT_OK(VerifyInProcess(svid.certificate_chain_pem, svid.bundle_pem, now()));
  EXPECT_FALSE(svid.serial.empty());
  EXPECT_GE(svid.expires_at, now() + absl::Minutes(15) - absl::Seconds(5));
  EXPECT_LE(svid.expires_at, now() + absl::Minutes(15) + absl::Seconds(5));
  EXPECT_EQ(RecordOfSerial(svid.serial).decision, "allow");
}

TEST_F(SdkClientTest, MintX509SvidRefusedForAJwtOnlyWorkload) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  absl::StatusOr<X509SvidReply> got =
      NewClient(kJwtOnlyClaims)->MintX509Svid(NewWorkload().csr_pem);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr("the issuer refused: "));
}

TEST_F(SdkClientTest, MintSshCertificateForAPublicKey) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEd25519));
  ASSERT_OK_AND_ASSIGN(std::string line, issuer::OpenSshPublicKeyLine(key.get(), "me@ci"));
  std::unique_ptr<Client> client = NewClient();
  ASSERT_OK_AND_ASSIGN(SshCertificateReply cert,
                       client->MintSshCertificate(line, {"deploy"}, absl::Minutes(2)));
  EXPECT_THAT(cert.certificate, StartsWith("ssh-ed25519-cert-v01@openssh.com "));
  EXPECT_THAT(cert.principals, ElementsAre("deploy"));
  EXPECT_FALSE(cert.key_id.empty());
  EXPECT_GE(cert.expires_at, now() + absl::Minutes(2) - absl::Seconds(5));
  EXPECT_LE(cert.expires_at, now() + absl::Minutes(2) + absl::Seconds(5));
  // Every principal the policy allows, when none is named.
  ASSERT_OK_AND_ASSIGN(SshCertificateReply all, client->MintSshCertificate(line));
  EXPECT_THAT(all.principals, ElementsAre("deploy", "ci-acme"));
  absl::StatusOr<SshCertificateReply> root = client->MintSshCertificate(line, {"root"});
  EXPECT_EQ(root.status().code(), absl::StatusCode::kPermissionDenied) << root.status();
  EXPECT_THAT(std::string(root.status().message()), HasSubstr("invalid_scope"));
}

TEST_F(SdkClientTest, FetchBundlePemIsThePublishedBundle) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  ASSERT_OK_AND_ASSIGN(std::string pem, NewClient()->FetchBundlePem());
  EXPECT_EQ(pem, HttpGet(url("/v1/bundle.pem")).body);
  EXPECT_THAT(pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(audiences_.empty());  // a public document needs no attestation
}

}  // namespace
}  // namespace writ::integration

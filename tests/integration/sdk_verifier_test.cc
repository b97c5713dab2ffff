// End-to-end tests of the SDK's verifiers against the real issuer: tokens it
// mints verify with TokenVerifier found through discovery, before and after
// `writ keys rotate jwt`; SVIDs it issues verify with PeerSvidVerifier from
// the issuer URL, before and after a CA rotation.
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/cli/command.h"
#include "sdk/cli/commands.h"
#include "tests/integration/cert_fixture.h"
#include "tests/testing/status_test_util.h"
#include "writ/verify/svid_verifier.h"
#include "writ/verify/token_verifier.h"

namespace writ::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SdkVerifierTest : public IssuerCertFixture {
 protected:
  // RunWrit runs the `writ` CLI against this server's gRPC listener.
  void RunWrit(std::vector<std::string> args) {
    std::istringstream in;
    std::ostringstream out, err;
    cli::CommandEnv env{&in, &out, &err};
    args.push_back("--grpc");
    args.push_back(grpc_target());
    ASSERT_EQ(cli::RunWrit(args, env), cli::kExitOk) << err.str();
  }

  std::unique_ptr<TokenVerifier> NewTokenVerifier(absl::string_view audience = kDeployAudience) {
    TokenVerifierOptions options;
    options.issuer_url = server_->issuer_url();
    options.audience = std::string(audience);
    options.required_scopes = {"deploy:read"};
    auto verifier = TokenVerifier::New(std::move(options));
    EXPECT_OK(verifier);
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }

  std::string AccessToken(absl::string_view scope = "deploy:read deploy:write") {
    HttpResult r = Exchange(MintCi(), kDeployAudience, scope);
    EXPECT_EQ(r.status, 200) << r.body << r.error;
    return JsonString(r.body, "access_token").value_or("");
  }

  std::unique_ptr<PeerSvidVerifier> NewSvidVerifier(absl::string_view trust_domain = kTrustDomain) {
    PeerSvidVerifierOptions options;
    options.issuer_url = server_->issuer_url();
    options.trust_domain = std::string(trust_domain);
    options.allowed_ids = {absl::StrCat("spiffe://", trust_domain, "/ci/acme/app")};
    auto verifier = PeerSvidVerifier::New(std::move(options));
    EXPECT_OK(verifier);
    return verifier.ok() ? *std::move(verifier) : nullptr;
  }

  std::string Svid() {
    HttpResult r = PostSvid(MintCi(), NewWorkload().csr_pem);
    EXPECT_EQ(r.status, 200) << r.body << r.error;
    return JsonString(r.body, "x509_svid").value_or("");
  }
};

TEST_F(SdkVerifierTest, IssuedTokenVerifiesThroughDiscoveryBeforeAndAfterKeyRotation) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  std::unique_ptr<TokenVerifier> verifier = NewTokenVerifier();
  ASSERT_NE(verifier, nullptr);
  const std::string before = AccessToken();
  const std::vector<std::string> write = {"deploy:write"};
  ASSERT_OK_AND_ASSIGN(VerifiedToken token,
                       verifier->VerifyAuthorizationHeader("Bearer " + before, write));
  EXPECT_EQ(token.subject, kGrantedSubject);
  EXPECT_EQ(token.client_id, absl::StrCat("ci:", kCiSubject));
  EXPECT_THAT(token.scopes, ElementsAre("deploy:read", "deploy:write"));
  EXPECT_FALSE(token.jti.empty());
  EXPECT_FALSE(token.actor.has_value());
  EXPECT_EQ(token.claims.GetStringAt({"attest", "claims", "repository"}), "acme/app");
  EXPECT_GT(token.expires_at, absl::Now());
  JwksSourceState state = verifier->KeysState();
  EXPECT_EQ(state.source, "discovery");
  EXPECT_EQ(state.jwks_uri, url("/jwks"));
  EXPECT_EQ(state.fetches, 1u);

  // What the token does not grant, and who it is not for.
  const std::string read_only = AccessToken("deploy:read");
  EXPECT_EQ(verifier->Verify(read_only, write).status().code(),
            absl::StatusCode::kPermissionDenied);
  std::unique_ptr<TokenVerifier> other = NewTokenVerifier("https://other.acme.example");
  EXPECT_EQ(other->Verify(before).status().code(), absl::StatusCode::kUnauthenticated);

  // The first rotation activates the key already published as prepared: no
  // fetch. The second activates one generated after the verifier's fetch:
  // exactly one JWKS refetch. Tokens of retired keys keep verifying.
  const std::string first_kid = server_->keys()->JwtSigner()->kid();
  ASSERT_NO_FATAL_FAILURE(RunWrit({"keys", "rotate", "jwt", "--force"}));
  ASSERT_NE(server_->keys()->JwtSigner()->kid(), first_kid);
  EXPECT_OK(verifier->Verify(AccessToken()));
  EXPECT_EQ(verifier->KeysState().fetches, 1u);
  ASSERT_NO_FATAL_FAILURE(RunWrit({"keys", "rotate", "jwt", "--force"}));
  const std::string after = AccessToken();
  ASSERT_OK_AND_ASSIGN(token, verifier->Verify(after, write));
  EXPECT_EQ(token.subject, kGrantedSubject);
  EXPECT_EQ(verifier->KeysState().fetches, 2u);
  EXPECT_OK(verifier->Verify(before));
  EXPECT_EQ(verifier->KeysState().fetches, 2u);
}

TEST_F(SdkVerifierTest, DelegatedTokenNamesTheActor) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  std::unique_ptr<TokenVerifier> verifier = NewTokenVerifier();
  HttpResult r = ExchangeDelegated();
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_OK_AND_ASSIGN(VerifiedToken token,
                       verifier->Verify(JsonString(r.body, "access_token").value_or("")));
  EXPECT_EQ(token.subject, kGrantedSubject);
  EXPECT_EQ(token.actor, kAgentSubject);
}

TEST_F(SdkVerifierTest, IssuedSvidVerifiesFromTheIssuerUrlBeforeAndAfterCaRotation) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  std::unique_ptr<PeerSvidVerifier> verifier = NewSvidVerifier();
  ASSERT_NE(verifier, nullptr);
  const std::string svid = Svid();
  ASSERT_OK_AND_ASSIGN(std::string id, verifier->Verify(svid));
  EXPECT_EQ(id, kGrantedSubject);
  ASSERT_OK_AND_ASSIGN(std::vector<SslPtr<X509>> chain, ParseCertificateChainPem(svid));
  std::vector<std::string> der;
  for (const SslPtr<X509>& cert : chain) der.push_back(*CertificateToDer(cert.get()));
  ASSERT_OK_AND_ASSIGN(id, verifier->Verify(absl::MakeConstSpan(der)));
  EXPECT_EQ(id, kGrantedSubject);
  EXPECT_EQ(verifier->State().fetches, 1u);

  // Another trust domain's verifier refuses it without a fetch.
  std::unique_ptr<PeerSvidVerifier> stranger = NewSvidVerifier("other.example");
  absl::StatusOr<std::string> refused = stranger->Verify(svid);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("not in trust domain"));
  EXPECT_EQ(stranger->State().fetches, 0u);

  // As with JWT keys: the first rotation activates a CA already in the
  // fetched bundle, the second one a CA the verifier has to re-fetch for.
  ASSERT_NO_FATAL_FAILURE(RunWrit({"keys", "rotate", "x509-ca", "--force"}));
  EXPECT_OK(verifier->Verify(Svid()));
  EXPECT_EQ(verifier->State().fetches, 1u);
  ASSERT_NO_FATAL_FAILURE(RunWrit({"keys", "rotate", "x509-ca", "--force"}));
  ASSERT_OK_AND_ASSIGN(id, verifier->Verify(Svid()));
  EXPECT_EQ(id, kGrantedSubject);
  EXPECT_EQ(verifier->State().fetches, 2u);
  // The first SVID's CA is retired but still published.
  EXPECT_OK(verifier->Verify(svid));
}

}  // namespace
}  // namespace writ::integration

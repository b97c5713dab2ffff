#include "issuer/src/mint/jwt_minter.h"

#include "gtest/gtest.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwt_validator.h"
#include "writ/jose/signer.h"

namespace writ::issuer {
namespace {

class TestKeys final : public KeyManager {
 public:
  TestKeys() {
    auto key = GenerateKey(KeySpec::kEcP256);
    auto signer = PrivateKeySigner::New(*std::move(key), JwsAlgorithm::kEs256);
    signer_ = std::shared_ptr<const Signer>(*std::move(signer));
  }
  std::shared_ptr<const Signer> JwtSigner() const override { return signer_; }
  std::string PublicJwks() const override {
    return "{\"keys\":[" + signer_->public_jwk().ToJson() + "]}";
  }

 private:
  std::shared_ptr<const Signer> signer_;
};

class JwtMinterTest : public ::testing::Test {
 protected:
  JwtMinterTest() : clock_(absl::FromUnixSeconds(1'800'000'000)), minter_(kIss, &keys_, &clock_) {}

  MintRequest Request() {
    MintRequest r;
    r.subject = "spiffe://acme.example/ci/acme/app";
    r.audience = "https://deploy.acme.example";
    r.scopes = {"deploy:read", "deploy:write"};
    r.lifetime = absl::Minutes(5);
    r.client_id = "github:repo:acme/app:ref:refs/heads/main";
    r.attested_issuer = "https://token.actions.githubusercontent.com";
    r.attested_subject = "repo:acme/app:ref:refs/heads/main";
    r.facts = {{"repository", "acme/app"}, {"run_id", "42"}};
    r.rule = "deploy-from-main";
    return r;
  }

  absl::StatusOr<VerifiedJwt> Verify(const std::string& token) {
    JwtValidatorOptions opts;
    opts.issuer = kIss;
    opts.audiences = {"https://deploy.acme.example"};
    opts.expected_type = "at+jwt";
    auto validator = JwtValidator::New(opts, &clock_);
    if (!validator.ok()) return validator.status();
    auto jwks = JwkSet::Parse(keys_.PublicJwks());
    if (!jwks.ok()) return jwks.status();
    return validator->Verify(token, *jwks);
  }

  static constexpr char kIss[] = "http://127.0.0.1:8080";
  FakeClock clock_;
  TestKeys keys_;
  JwtMinter minter_;
};

TEST_F(JwtMinterTest, MintsAnRfc9068TokenThatVerifies) {
  auto minted = minter_.Mint(Request());
  ASSERT_TRUE(minted.ok()) << minted.status();
  auto jwt = Verify(minted->token);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  const JwtClaims& c = jwt->claims;
  EXPECT_EQ(jwt->jws.type(), "at+jwt");
  EXPECT_EQ(c.issuer(), kIss);
  EXPECT_EQ(c.subject(), "spiffe://acme.example/ci/acme/app");
  EXPECT_EQ(c.audiences(), std::vector<std::string>{"https://deploy.acme.example"});
  EXPECT_EQ(c.jwt_id(), minted->jti);
  EXPECT_EQ(*c.issued_at(), clock_.Now());
  EXPECT_EQ(*c.not_before(), clock_.Now());
  EXPECT_EQ(*c.expires_at(), clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(minted->expires_at, clock_.Now() + absl::Minutes(5));
  EXPECT_EQ(c.GetString("scope"), "deploy:read deploy:write");
  EXPECT_EQ(c.GetString("client_id"), "github:repo:acme/app:ref:refs/heads/main");
  EXPECT_EQ(c.GetString("writ_rule"), "deploy-from-main");
  EXPECT_EQ(c.GetStringAt({"attest", "iss"}), "https://token.actions.githubusercontent.com");
  EXPECT_EQ(c.GetStringAt({"attest", "sub"}), "repo:acme/app:ref:refs/heads/main");
  EXPECT_EQ(c.GetStringAt({"attest", "claims", "repository"}), "acme/app");
  EXPECT_EQ(c.GetStringAt({"attest", "claims", "run_id"}), "42");
  EXPECT_FALSE(c.Has("act"));
  EXPECT_EQ(minted->sha256_hex, Sha256Hex(minted->token));
}

TEST_F(JwtMinterTest, EveryTokenHasItsOwnJti) {
  auto a = minter_.Mint(Request());
  auto b = minter_.Mint(Request());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->jti, b->jti);
  EXPECT_GE(a->jti.size(), 22u);  // 128 bits, base64url
}

TEST_F(JwtMinterTest, DelegationChainBecomesNestedActClaims) {
  MintRequest r = Request();
  r.actors = {{"agent:build-bot", "https://agents.acme.example"}, {"user:alice", ""}};
  auto minted = minter_.Mint(r);
  ASSERT_TRUE(minted.ok());
  auto jwt = Verify(minted->token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->claims.GetStringAt({"act", "sub"}), "agent:build-bot");
  EXPECT_EQ(jwt->claims.GetStringAt({"act", "iss"}), "https://agents.acme.example");
  EXPECT_EQ(jwt->claims.GetStringAt({"act", "act", "sub"}), "user:alice");
  EXPECT_FALSE(jwt->claims.GetStringAt({"act", "act", "iss"}).has_value());
}

TEST_F(JwtMinterTest, ClaimValuesAreEscapedNotInjected) {
  MintRequest r = Request();
  r.facts = {{"ref", "x\",\"sub\":\"admin"}};
  auto minted = minter_.Mint(r);
  ASSERT_TRUE(minted.ok());
  auto jwt = Verify(minted->token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->claims.subject(), "spiffe://acme.example/ci/acme/app");
  EXPECT_EQ(jwt->claims.GetStringAt({"attest", "claims", "ref"}), "x\",\"sub\":\"admin");
}

TEST_F(JwtMinterTest, ExpiredTokenNoLongerVerifies) {
  auto minted = minter_.Mint(Request());
  ASSERT_TRUE(minted.ok());
  clock_.Advance(absl::Minutes(5) + absl::Seconds(61));
  EXPECT_EQ(Verify(minted->token).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(JwtMinterTest, RefusesMissingSubjectAudienceOrLifetime) {
  MintRequest r = Request();
  r.subject.clear();
  EXPECT_EQ(minter_.Mint(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Request();
  r.audience.clear();
  EXPECT_EQ(minter_.Mint(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = Request();
  r.lifetime = absl::ZeroDuration();
  EXPECT_EQ(minter_.Mint(r).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace writ::issuer

namespace writ::issuer {
namespace {

TEST_F(JwtMinterTest, NoScopeClaimWhenNoScopeIsGranted) {
  MintRequest r = Request();
  r.scopes.clear();
  auto minted = minter_.Mint(r);
  ASSERT_TRUE(minted.ok());
  auto jwt = Verify(minted->token);
  ASSERT_TRUE(jwt.ok());
  EXPECT_FALSE(jwt->claims.Has("scope"));
}

TEST_F(JwtMinterTest, SubSecondLifetimeIsRefusedNotTruncatedToZero) {
  MintRequest r = Request();
  r.lifetime = absl::Milliseconds(500);
  EXPECT_EQ(minter_.Mint(r).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace writ::issuer

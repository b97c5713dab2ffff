// SSH user certificates from SshCertMinter against the real sshd: the right
// certificate logs in (and sshd logs its key id), every wrong one is refused.
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "tests/testing/status_test_util.h"
#include "tests/testing/test_sshd.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/keys.h"

namespace writ::issuer {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

// LoginUser is the Unix account the tests log in to; "deploy" is the
// certificate principal the principals file maps to it.
constexpr char kLoginUser[] = "root";
constexpr char kPrincipal[] = "deploy";

std::string LogText(const test::SshLoginResult& login) {
  return absl::StrCat("ssh exit ", login.ssh_exit_code, ": ", login.ssh_output, "\nsshd log:\n  ",
                      absl::StrJoin(login.sshd_log, "\n  "));
}

bool Accepted(const test::SshLoginResult& login) {
  for (const std::string& line : login.sshd_log) {
    if (absl::StrContains(line, "Accepted publickey")) return true;
  }
  return false;
}

class SshdLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      GTEST_SKIP() << "sshd login tests need root (CI runs them as root)";
    }
    ASSERT_OK_AND_ASSIGN(minter_, NewMinter(&Clock::Real()));
    ASSERT_OK_AND_ASSIGN(
        sshd_, test::TestSshd::Start({.trusted_user_ca_keys = minter_->ca_public_key_line(),
                                      .authorized_principals = {{kLoginUser, {kPrincipal}}}}));
    ASSERT_OK_AND_ASSIGN(key_, test::GenerateSshKey(sshd_->dir(), "client_ed25519"));
  }

  static absl::StatusOr<std::unique_ptr<SshCertMinter>> NewMinter(const Clock* clock) {
    ASSIGN_OR_RETURN(SslPtr<EVP_PKEY> ca, GenerateKey(KeySpec::kEd25519));
    return SshCertMinter::New(std::move(ca), clock);
  }

  static SshCertRequest Request(const std::string& public_key, const std::string& key_id) {
    SshCertRequest r;
    r.public_key = public_key;
    r.principals = {kPrincipal};
    r.lifetime = absl::Minutes(5);
    r.key_id = key_id;
    return r;
  }

  // CertFile writes `cert` where ssh's CertificateFile can read it.
  std::string CertFile(const MintedSshCert& cert, const std::string& name) {
    const std::string path = absl::StrCat(sshd_->dir(), "/", name, "-cert.pub");
    std::ofstream(path) << cert.certificate << "\n";
    return path;
  }

  test::SshLoginResult Login(const std::string& cert_file,
                             const std::string& source_address = "127.0.0.1") {
    absl::StatusOr<test::SshLoginResult> login =
        sshd_->TryLogin(kLoginUser, key_.private_key_path, cert_file, source_address);
    EXPECT_TRUE(login.ok()) << login.status();
    return login.ok() ? *std::move(login) : test::SshLoginResult{};
  }

  std::unique_ptr<SshCertMinter> minter_;
  std::unique_ptr<test::TestSshd> sshd_;
  test::SshKeyFiles key_;
};

TEST_F(SshdLoginTest, CertificateForTheMappedPrincipalLogsInAndSshdLogsItsKeyId) {
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert,
                       minter_->Mint(Request(key_.public_key_line, "writ-issuance-7f3a")));
  test::SshLoginResult login = Login(CertFile(cert, "good"));
  EXPECT_TRUE(login.ok) << LogText(login);
  EXPECT_THAT(
      login.sshd_log,
      Contains(AllOf(HasSubstr("Accepted publickey for root from 127.0.0.1"),
                     HasSubstr(absl::StrCat("ID writ-issuance-7f3a (serial ", cert.serial, ")")))))
      << LogText(login);
}

TEST_F(SshdLoginTest, CertificateForAnotherPrincipalIsRefused) {
  SshCertRequest request = Request(key_.public_key_line, "writ-other-principal");
  request.principals = {"intruder"};
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter_->Mint(request));
  test::SshLoginResult login = Login(CertFile(cert, "other-principal"));
  EXPECT_FALSE(login.ok) << LogText(login);
  EXPECT_EQ(login.ssh_exit_code, 255);
  EXPECT_THAT(login.ssh_output, HasSubstr("Permission denied"));
  EXPECT_FALSE(Accepted(login)) << LogText(login);
  EXPECT_THAT(login.sshd_log,
              Contains(HasSubstr("Certificate does not contain an authorized principal")))
      << LogText(login);
  // The principals file maps "deploy" only; adding "intruder" lets it in.
  ASSERT_OK(sshd_->SetAuthorizedPrincipals(kLoginUser, {kPrincipal, "intruder"}));
  login = Login(CertFile(cert, "other-principal"));
  EXPECT_TRUE(login.ok) << LogText(login);
}

TEST_F(SshdLoginTest, ExpiredCertificateIsRefused) {
  // Minted an hour ago for 30 minutes: valid_before is in the real past.
  FakeClock past(Clock::Real().Now() - absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SshCertMinter> minter, NewMinter(&past));
  SshCertRequest request = Request(key_.public_key_line, "writ-expired");
  request.lifetime = absl::Minutes(30);
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter->Mint(request));
  ASSERT_LT(cert.valid_before, Clock::Real().Now());
  // sshd must trust this minter's CA, or the refusal would prove nothing.
  ASSERT_OK_AND_ASSIGN(
      auto sshd, test::TestSshd::Start({.trusted_user_ca_keys = minter->ca_public_key_line(),
                                        .authorized_principals = {{kLoginUser, {kPrincipal}}}}));
  ASSERT_OK_AND_ASSIGN(test::SshLoginResult login, sshd->TryLogin(kLoginUser, key_.private_key_path,
                                                                  CertFile(cert, "expired")));
  EXPECT_FALSE(login.ok) << LogText(login);
  EXPECT_FALSE(Accepted(login)) << LogText(login);
  EXPECT_THAT(login.sshd_log, Contains(HasSubstr("Certificate invalid: expired")))
      << LogText(login);
  // The same CA, key and principal with a current certificate log in.
  past.Set(Clock::Real().Now());
  ASSERT_OK_AND_ASSIGN(cert, minter->Mint(request));
  ASSERT_OK_AND_ASSIGN(
      login, sshd->TryLogin(kLoginUser, key_.private_key_path, CertFile(cert, "current")));
  EXPECT_TRUE(login.ok) << LogText(login);
}

TEST_F(SshdLoginTest, SourceAddressPinIsEnforced) {
  SshCertRequest request = Request(key_.public_key_line, "writ-pinned-127.0.0.2");
  request.source_addresses = {"127.0.0.2"};
  ASSERT_OK_AND_ASSIGN(MintedSshCert pinned_elsewhere, minter_->Mint(request));
  test::SshLoginResult login = Login(CertFile(pinned_elsewhere, "pinned-2"), "127.0.0.1");
  EXPECT_FALSE(login.ok) << LogText(login);
  EXPECT_FALSE(Accepted(login)) << LogText(login);
  EXPECT_THAT(login.sshd_log, Contains(HasSubstr("not from a permitted source address")))
      << LogText(login);
  // From 127.0.0.2 (loopback on Linux) the same certificate is good.
  login = Login(CertFile(pinned_elsewhere, "pinned-2"), "127.0.0.2");
  EXPECT_TRUE(login.ok) << LogText(login);

  request.key_id = "writ-pinned-127.0.0.1";
  request.source_addresses = {"127.0.0.1"};
  ASSERT_OK_AND_ASSIGN(MintedSshCert pinned_here, minter_->Mint(request));
  login = Login(CertFile(pinned_here, "pinned-1"), "127.0.0.1");
  EXPECT_TRUE(login.ok) << LogText(login);
  EXPECT_THAT(login.sshd_log, Contains(HasSubstr("ID writ-pinned-127.0.0.1"))) << LogText(login);

  request.key_id = "writ-pinned-cidr";
  request.source_addresses = {"192.0.2.0/24", "127.0.0.0/30"};
  ASSERT_OK_AND_ASSIGN(MintedSshCert pinned_cidr, minter_->Mint(request));
  login = Login(CertFile(pinned_cidr, "pinned-cidr"), "127.0.0.2");
  EXPECT_TRUE(login.ok) << LogText(login);
}

TEST_F(SshdLoginTest, CertificateFromAnotherCaIsRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SshCertMinter> stranger, NewMinter(&Clock::Real()));
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert,
                       stranger->Mint(Request(key_.public_key_line, "writ-stranger")));
  test::SshLoginResult login = Login(CertFile(cert, "stranger"));
  EXPECT_FALSE(login.ok) << LogText(login);
  EXPECT_EQ(login.ssh_exit_code, 255);
  EXPECT_FALSE(Accepted(login)) << LogText(login);
  // sshd saw the certificate (it logs the untrusted CA itself only at DEBUG2).
  EXPECT_THAT(login.sshd_log, Contains(AllOf(HasSubstr("Failed publickey for root"),
                                             HasSubstr("ID writ-stranger"))))
      << LogText(login);
}

TEST_F(SshdLoginTest, PlainKeyWithoutCertificateIsRefused) {
  // sshd has no authorized_keys: only a certificate can log in. ssh falls
  // back to the bare key when the certificate file is missing.
  test::SshLoginResult login = Login(sshd_->dir() + "/no-such-cert.pub");
  EXPECT_FALSE(login.ok) << LogText(login);
  EXPECT_FALSE(Accepted(login)) << LogText(login);
}

TEST_F(SshdLoginTest, EcdsaCaAndRsaUserKeyLogIn) {
  FakeClock now(Clock::Real().Now());
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> ca, GenerateKey(KeySpec::kEcP384));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SshCertMinter> ecdsa_ca,
                       SshCertMinter::New(std::move(ca), &now));
  ASSERT_OK_AND_ASSIGN(test::SshKeyFiles rsa_key,
                       test::GenerateSshKey(sshd_->dir(), "client_rsa", "rsa", 3072));
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert,
                       ecdsa_ca->Mint(Request(rsa_key.public_key_line, "writ-ecdsa-ca-rsa-key")));
  ASSERT_OK_AND_ASSIGN(
      auto sshd, test::TestSshd::Start({.trusted_user_ca_keys = ecdsa_ca->ca_public_key_line(),
                                        .authorized_principals = {{kLoginUser, {kPrincipal}}}}));
  ASSERT_OK_AND_ASSIGN(
      test::SshLoginResult login,
      sshd->TryLogin(kLoginUser, rsa_key.private_key_path, CertFile(cert, "client_rsa")));
  EXPECT_TRUE(login.ok) << LogText(login);
  EXPECT_THAT(login.sshd_log,
              Contains(AllOf(HasSubstr("RSA-CERT"), HasSubstr("ID writ-ecdsa-ca-rsa-key"),
                             HasSubstr("CA ECDSA"))))
      << LogText(login);
}

}  // namespace
}  // namespace writ::issuer

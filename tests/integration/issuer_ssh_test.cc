// End-to-end tests of SSH certificates over HTTP: the issuer's certificate,
// with the CA keys it publishes at /v1/ssh/ca-keys, logs in to the real sshd
// (and sshd logs the issuance id); refusals are recorded.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/cert_fixture.h"
#include "tests/testing/status_test_util.h"
#include "tests/testing/test_sshd.h"

namespace writ::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class IssuerSshTest : public IssuerCertFixture {
 protected:
  void SetUp() override {
    IssuerCertFixture::SetUp();
    ASSERT_OK_AND_ASSIGN(dir_, test::MakeTempDir());
    ASSERT_OK_AND_ASSIGN(key_, test::GenerateSshKey(dir_, "client_ed25519"));
  }
  void TearDown() override {
    IssuerCertFixture::TearDown();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  test::SshKeyFiles key_;
};

TEST_F(IssuerSshTest, CertificateOverHttpLogsInToSshdTrustingThePublishedCaKeys) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  // A trailing '&', as some URL builders leave it, is fine in a query.
  HttpResult r = PostSsh(MintCi(), key_.public_key_line + "\n", "?principal=deploy&lifetime=2m&");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string certificate = JsonString(r.body, "certificate").value_or("");
  const std::string key_id = JsonString(r.body, "key_id").value_or("");
  const std::string serial = JsonString(r.body, "serial").value_or("");
  EXPECT_EQ(key_id, absl::StrCat("writ:", r.headers["x-request-id"]));
  EXPECT_THAT(certificate, testing::StartsWith("ssh-ed25519-cert-v01@openssh.com "));
  EXPECT_EQ(JsonString(r.body, "rule"), "ci-ssh");
  EXPECT_NEAR(JsonInt(r.body, "expires_at").value_or(0) - absl::ToUnixSeconds(absl::Now()), 120, 5);

  issuer::LedgerRecord rec = RecordOfSerial(serial);
  EXPECT_EQ(rec.credential_kind, "ssh");
  EXPECT_EQ(rec.decision, "allow");
  EXPECT_THAT(rec.principals, ElementsAre("deploy"));
  EXPECT_THAT(rec.source_addresses, ElementsAre("127.0.0.1"));
  EXPECT_EQ(rec.granted_subject, kGrantedSubject);
  EXPECT_EQ(rec.signing_key, server_->keys()->ActiveSshCa()->id);

  // ssh-keygen reads what sshd will enforce.
  const std::string cert_file = key_.private_key_path + "-cert.pub";
  std::ofstream(cert_file) << certificate << "\n";
  ASSERT_OK_AND_ASSIGN(test::ProcessResult shown,
                       test::RunProcess({test::kSshKeygenPath, "-L", "-f", cert_file}));
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_THAT(shown.output, HasSubstr(absl::StrCat("Key ID: \"", key_id, "\"")));
  EXPECT_THAT(shown.output, HasSubstr(absl::StrCat("Serial: ", serial)));
  EXPECT_THAT(shown.output, HasSubstr("source-address 127.0.0.1"));

  if (geteuid() != 0) GTEST_SKIP() << "the sshd login needs root (CI runs as root)";
  HttpResult ca_keys = HttpGet(url("/v1/ssh/ca-keys"));
  ASSERT_EQ(ca_keys.status, 200);
  ASSERT_OK_AND_ASSIGN(auto sshd,
                       test::TestSshd::Start({.trusted_user_ca_keys = ca_keys.body,
                                              .authorized_principals = {{"root", {"deploy"}}}}));
  ASSERT_OK_AND_ASSIGN(test::SshLoginResult login,
                       sshd->TryLogin("root", key_.private_key_path, cert_file));
  EXPECT_TRUE(login.ok) << login.ssh_output << "\n" << absl::StrJoin(login.sshd_log, "\n");
  EXPECT_THAT(absl::StrJoin(login.sshd_log, "\n"), HasSubstr(absl::StrCat("ID ", key_id)));
  // The source-address pin holds: from another loopback address, refused.
  ASSERT_OK_AND_ASSIGN(test::SshLoginResult elsewhere,
                       sshd->TryLogin("root", key_.private_key_path, cert_file, "127.0.0.2"));
  EXPECT_FALSE(elsewhere.ok);
}

TEST_F(IssuerSshTest, AllGrantedPrincipalsWhenNoneIsAsked) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  HttpResult r = PostSsh(MintCi(), key_.public_key_line);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(RecordOfSerial(JsonString(r.body, "serial").value_or("")).principals,
            (std::vector<std::string>{"deploy", "ci-acme"}));
}

TEST_F(IssuerSshTest, RefusalsAreRecorded) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  issuer::LedgerRecord root = ExpectDenialRecorded(
      PostSsh(MintCi(), key_.public_key_line, "?principal=root"), "invalid_scope");
  EXPECT_THAT(absl::StrJoin(root.reasons, " "), HasSubstr("root"));
  EXPECT_EQ(root.credential_kind, "ssh");
  ExpectDenialRecorded(PostSsh(MintCi(), "ssh-ed25519 AAAAnot-a-key"), "invalid_request");
  ExpectDenialRecorded(PostSsh(MintCi(kJwtOnlyClaims), key_.public_key_line), "invalid_target");
  ExpectDenialRecorded(PostSsh("forged", key_.public_key_line), "invalid_grant");
  HttpResult no_auth = PostSsh("", key_.public_key_line);
  EXPECT_EQ(no_auth.status, 401);
  EXPECT_THAT(no_auth.headers["www-authenticate"], HasSubstr("Bearer"));
  HttpResult bad_param = PostSsh(MintCi(), key_.public_key_line, "?principals=deploy");
  EXPECT_EQ(bad_param.status, 400);
  EXPECT_THAT(bad_param.body, HasSubstr("principals"));
}

TEST_F(IssuerSshTest, SshOverGrpc) {
  ASSERT_NO_FATAL_FAILURE(StartCertServer());
  v1::MintSshCertificateRequest req;
  req.set_subject_token(MintCi());
  req.set_public_key(key_.public_key_line);
  req.add_principals("ci-acme");
  v1::SshCertificateResponse resp;
  GrpcCall call =
      CallGrpc([&](grpc::ClientContext* c) { return certs_->MintSshCertificate(c, req, &resp); });
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_THAT(resp.principals(), ElementsAre("ci-acme"));
  issuer::LedgerRecord rec = RecordOfSerial(absl::StrCat(resp.serial()));
  EXPECT_EQ(rec.request_id, call.request_id);
  EXPECT_EQ(rec.transport, "grpc");
  v1::GetByJtiRequest get;
  get.set_jti(absl::StrCat(resp.serial()));
  v1::LedgerRecord proto;
  call = CallGrpc([&](grpc::ClientContext* c) { return ledger_stub_->GetByJti(c, get, &proto); });
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_THAT(proto.principals(), ElementsAre("ci-acme"));
  EXPECT_THAT(proto.source_addresses(), ElementsAre("127.0.0.1"));
}

}  // namespace
}  // namespace writ::integration

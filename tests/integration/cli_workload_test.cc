// The pipeline commands of the `writ` CLI against a real issuer: writ cert
// (key, SVID and bundle files), writ ssh (a certificate for a new or an
// existing key, used to log in to a real sshd) and writ verify.

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/cli/commands.h"
#include "tests/integration/cert_fixture.h"
#include "tests/testing/status_test_util.h"
#include "tests/testing/test_sshd.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"

namespace writ::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct CliResult {
  int code = 0;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Mode(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

class CliWorkloadTest : public IssuerCertFixture {
 protected:
  void SetUp() override {
    IssuerCertFixture::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartCertServer());
    ASSERT_OK_AND_ASSIGN(dir_, test::MakeTempDir());
  }
  void TearDown() override {
    if (!dir_.empty()) test::RunProcess({"/bin/rm", "-rf", dir_}).IgnoreError();
    IssuerCertFixture::TearDown();
  }
  // Run runs `writ args...` in-process with OIDC_TOKEN = `oidc_token`.
  CliResult Run(std::vector<std::string> args, const std::string& oidc_token = "",
                const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    std::ostringstream out, err;
    cli::CommandEnv env{&in, &out, &err};
    env.getenv = [oidc_token](const std::string& name) -> std::optional<std::string> {
      if (name == "OIDC_TOKEN" && !oidc_token.empty()) return oidc_token;
      return std::nullopt;
    };
    CliResult r;
    r.code = cli::RunWrit(args, env);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  std::vector<std::string> Workload(std::vector<std::string> args) {
    std::vector<std::string> all = {args[0], "--issuer", server_->issuer_url(), "--oidc-token-env",
                                    "OIDC_TOKEN"};
    all.insert(all.end(), args.begin() + 1, args.end());
    return all;
  }
  std::string dir_;
};

TEST_F(CliWorkloadTest, CertWritesKeySvidAndBundleThatVerify) {
  CliResult r = Run(Workload({"cert", "--dir", dir_, "--format", "json"}), MintCi());
  ASSERT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(JsonString(r.out, "spiffe_id"), kGrantedSubject);
  const std::string key = ReadFile(dir_ + "/svid.key");
  const std::string svid = ReadFile(dir_ + "/svid.pem");
  const std::string bundle = ReadFile(dir_ + "/bundle.pem");
  EXPECT_EQ(Mode(dir_ + "/svid.key"), 0600);
  ASSERT_OK(OpensslVerify(svid, bundle));
  EXPECT_THAT(UriSans(svid), testing::ElementsAre(kGrantedSubject));
  // The key written is the certified one.
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> private_key, ParsePrivateKeyPem(key));
  ASSERT_OK_AND_ASSIGN(SslPtr<X509> leaf, ParseCertificatePem(svid.substr(
                                              0, svid.find("-----END CERTIFICATE-----") + 25)));
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), private_key.get()), 1);
  // The issuance is on record under the serial printed.
  EXPECT_EQ(RecordOfSerial(JsonString(r.out, "serial").value_or("")).granted_subject,
            kGrantedSubject);

  CliResult raw = Run(Workload({"cert", "--dir", dir_, "--key-type", "ed25519"}), MintCi());
  ASSERT_EQ(raw.code, cli::kExitOk) << raw.err;
  EXPECT_EQ(raw.out, absl::StrCat(kGrantedSubject, "\n"));
  EXPECT_NE(ReadFile(dir_ + "/svid.key"), key);  // replaced atomically by a new key
}

TEST_F(CliWorkloadTest, CertRefusalsSayWhyAndWriteNothing) {
  CliResult refused = Run(Workload({"cert", "--dir", dir_}), MintCi(kJwtOnlyClaims));
  EXPECT_EQ(refused.code, cli::kExitRefused);
  EXPECT_THAT(refused.err, StartsWith("writ: "));
  EXPECT_THAT(refused.err, HasSubstr("invalid_target"));
  EXPECT_EQ(Mode(dir_ + "/svid.key"), -1);
  CliResult forged = Run(Workload({"cert", "--dir", dir_}), "not-a-token");
  EXPECT_EQ(forged.code, cli::kExitRefused);
  EXPECT_THAT(forged.err, HasSubstr("invalid_grant"));
  EXPECT_EQ(Run(Workload({"cert", "--key-type", "rsa"}), MintCi()).code, cli::kExitUsage);
  EXPECT_EQ(Run({"cert", "--issuer", server_->issuer_url()}).code, cli::kExitUsage);
}

TEST_F(CliWorkloadTest, SshNewKeyLogsInToARealSshd) {
  const std::string key = dir_ + "/deploy";
  CliResult r = Run(Workload({"ssh", "--new-key", key, "--principal", "deploy", "--format", "env"}),
                    MintCi());
  ASSERT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("WRIT_SSH_CERT=", key, "-cert.pub\n")));
  EXPECT_THAT(r.out, HasSubstr("WRIT_SSH_PRINCIPALS=deploy\n"));
  EXPECT_EQ(Mode(key), 0600);
  EXPECT_THAT(ReadFile(key + "-cert.pub"), StartsWith("ecdsa-sha2-nistp256-cert-v01@openssh.com "));
  ASSERT_OK_AND_ASSIGN(test::ProcessResult shown,
                       test::RunProcess({test::kSshKeygenPath, "-L", "-f", key + "-cert.pub"}));
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_THAT(shown.output, HasSubstr("deploy"));

  // --new-key never overwrites.
  CliResult again = Run(Workload({"ssh", "--new-key", key}), MintCi());
  EXPECT_EQ(again.code, cli::kExitFailure);
  EXPECT_THAT(again.err, HasSubstr("never overwrites"));

  if (geteuid() != 0) GTEST_SKIP() << "the sshd login needs root (CI runs as root)";
  HttpResult ca_keys = HttpGet(url("/v1/ssh/ca-keys"));
  ASSERT_EQ(ca_keys.status, 200);
  ASSERT_OK_AND_ASSIGN(auto sshd,
                       test::TestSshd::Start({.trusted_user_ca_keys = ca_keys.body,
                                              .authorized_principals = {{"root", {"deploy"}}}}));
  ASSERT_OK_AND_ASSIGN(test::SshLoginResult login, sshd->TryLogin("root", key, key + "-cert.pub"));
  EXPECT_TRUE(login.ok) << login.ssh_output << "\n" << absl::StrJoin(login.sshd_log, "\n");
}

TEST_F(CliWorkloadTest, SshForAnExistingKey) {
  ASSERT_OK_AND_ASSIGN(test::SshKeyFiles existing, test::GenerateSshKey(dir_, "id_ed25519"));
  CliResult r =
      Run(Workload({"ssh", "--public-key", existing.private_key_path + ".pub", "--format", "json"}),
          MintCi());
  ASSERT_EQ(r.code, cli::kExitOk) << r.err;
  EXPECT_EQ(JsonString(r.out, "certificate_file"), existing.private_key_path + "-cert.pub");
  EXPECT_THAT(r.out, HasSubstr(R"("principals":["deploy","ci-acme"])"));
  EXPECT_THAT(ReadFile(existing.private_key_path + "-cert.pub"),
              StartsWith("ssh-ed25519-cert-v01@openssh.com "));

  CliResult root = Run(
      Workload({"ssh", "--public-key", existing.private_key_path + ".pub", "--principal", "root"}),
      MintCi());
  EXPECT_EQ(root.code, cli::kExitRefused);
  EXPECT_THAT(root.err, HasSubstr("invalid_scope"));
  EXPECT_EQ(Run(Workload({"ssh"}), MintCi()).code, cli::kExitUsage);
  EXPECT_EQ(Run(Workload({"ssh", "--public-key", dir_ + "/missing.pub"}), MintCi()).code,
            cli::kExitFailure);
}

TEST_F(CliWorkloadTest, VerifyChecksTokensAsARelyingParty) {
  HttpResult exchanged = Exchange(MintCi(), kDeployAudience, "deploy:read");
  ASSERT_EQ(exchanged.status, 200) << exchanged.body;
  const std::string token = JsonString(exchanged.body, "access_token").value_or("");
  const std::vector<std::string> base = {"verify",     "--issuer",      server_->issuer_url(),
                                         "--audience", kDeployAudience, "--token-file",
                                         "-"};
  CliResult ok = Run(base, "", token + "\n");
  ASSERT_EQ(ok.code, cli::kExitOk) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr(kGrantedSubject));
  EXPECT_THAT(ok.out, HasSubstr("deploy:read"));

  std::vector<std::string> needs_write = base;
  needs_write.insert(needs_write.end(), {"--scope", "deploy:write"});
  CliResult missing = Run(needs_write, "", token);
  EXPECT_EQ(missing.code, cli::kExitRefused);
  EXPECT_THAT(missing.err, HasSubstr("deploy:write"));

  CliResult audience = Run({"verify", "--issuer", server_->issuer_url(), "--audience",
                            "https://other.acme.example", "--token", token});
  EXPECT_EQ(audience.code, cli::kExitRefused);
  // One payload character changed: the signature no longer matches.
  std::string tampered_token = token;
  const size_t in_payload = token.find('.') + 5;
  tampered_token[in_payload] = tampered_token[in_payload] == 'A' ? 'B' : 'A';
  CliResult tampered = Run(base, "", tampered_token);
  EXPECT_EQ(tampered.code, cli::kExitRefused);
  EXPECT_EQ(Run({"verify", "--audience", "x"}).code, cli::kExitUsage);
  EXPECT_EQ(Run({"verify", "--token", "t"}).code, cli::kExitUsage);
}

}  // namespace
}  // namespace writ::integration

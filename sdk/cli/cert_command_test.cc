// writ cert against a loopback stand-in for Writ's /v1/x509-svid: what it
// writes, and the answers it refuses to write (an SVID for another key, a
// chain that does not verify against the bundle).
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sdk/cli/commands.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"

namespace writ::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kId[] = "spiffe://acme.example/ci/acme/app";

struct Ca {
  SslPtr<EVP_PKEY> key;
  SslPtr<X509> cert;
  std::string pem;
};

Ca NewCa(absl::string_view name) {
  Ca ca;
  ca.key = *GenerateKey(KeySpec::kEcP256);
  CertificateTemplate t;
  t.subject_common_name = std::string(name);
  t.not_before = absl::Now() - absl::Hours(1);
  t.not_after = absl::Now() + absl::Hours(1);
  t.serial = *RandomSerial();
  t.is_ca = true;
  t.key_usage.key_cert_sign = true;
  ca.cert = *IssueCertificate(t, ca.key.get(), nullptr, ca.key.get());
  ca.pem = *CertificateToPem(ca.cert.get());
  return ca;
}

std::string SvidFor(const EVP_PKEY* subject, const Ca& ca) {
  CertificateTemplate t;
  t.uri_sans = {kId};
  t.not_before = absl::Now() - absl::Minutes(1);
  t.not_after = absl::Now() + absl::Minutes(10);
  t.serial = *RandomSerial();
  t.key_usage.digital_signature = true;
  return *CertificateToPem(IssueCertificate(t, subject, ca.cert.get(), ca.key.get())->get());
}

std::string Reply(const std::string& svid, const std::string& bundle) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : {std::pair<const char*, std::string>{"spiffe_id", kId},
                             {"x509_svid", svid},
                             {"bundle", bundle},
                             {"serial", "0a"},
                             {"rule", "ci-svid"}}) {
    w.Key(k);
    w.String(v.c_str());
  }
  w.Key("expires_at");
  w.Int64(absl::ToUnixSeconds(absl::Now() + absl::Minutes(10)));
  w.EndObject();
  return buf.GetString();
}

enum class Mode { kGood, kAnotherKey, kAnotherCa };

class CertCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Post("/v1/x509-svid", [this](const httplib::Request& req, httplib::Response& res) {
      auto csr = CertificateRequest::ParsePem(req.body);
      if (!csr.ok()) {
        res.status = 400;
        return;
      }
      SslPtr<EVP_PKEY> other = *GenerateKey(KeySpec::kEcP256);
      const EVP_PKEY* subject = mode_ == Mode::kAnotherKey ? other.get() : csr->public_key();
      const std::string bundle = mode_ == Mode::kAnotherCa ? other_ca_.pem : ca_.pem;
      res.set_content(Reply(SvidFor(subject, ca_), bundle), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
    char dir[] = "/tmp/writ-cert-test-XXXXXX";
    dir_ = ::mkdtemp(dir);
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
    for (const char* f : {"svid.key", "svid.pem", "bundle.pem"}) {
      ::unlink(absl::StrCat(dir_, "/", f).c_str());
    }
    ::rmdir(dir_.c_str());
  }
  int Run() {
    std::istringstream in;
    out_.str("");
    err_.str("");
    CommandEnv env{&in, &out_, &err_};
    env.getenv = [](const std::string& name) -> std::optional<std::string> {
      if (name == "T") return "oidc-token";
      return std::nullopt;
    };
    return RunWrit({"cert", "--issuer", absl::StrCat("http://127.0.0.1:", port_),
                    "--oidc-token-env", "T", "--dir", dir_},
                   env);
  }
  bool Exists(const char* name) {
    struct stat st;
    return ::stat(absl::StrCat(dir_, "/", name).c_str(), &st) == 0;
  }

  Ca ca_ = NewCa("CA A");
  Ca other_ca_ = NewCa("CA B");
  Mode mode_ = Mode::kGood;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string dir_;
  std::ostringstream out_, err_;
};

TEST_F(CertCommandTest, WritesKeySvidAndBundle) {
  ASSERT_EQ(Run(), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), absl::StrCat(kId, "\n"));
  EXPECT_TRUE(Exists("svid.key"));
  EXPECT_TRUE(Exists("svid.pem"));
  EXPECT_TRUE(Exists("bundle.pem"));
}

TEST_F(CertCommandTest, RefusesAnSvidForAnotherKeyAndWritesNothing) {
  mode_ = Mode::kAnotherKey;
  EXPECT_EQ(Run(), kExitUnavailable);
  EXPECT_THAT(err_.str(), HasSubstr("certifies another key"));
  EXPECT_FALSE(Exists("svid.key"));
  EXPECT_FALSE(Exists("svid.pem"));
}

TEST_F(CertCommandTest, RefusesAChainThatDoesNotVerifyAgainstTheBundle) {
  mode_ = Mode::kAnotherCa;
  EXPECT_EQ(Run(), kExitUnavailable);
  EXPECT_THAT(err_.str(), HasSubstr("the issuer's SVID is unusable"));
  EXPECT_FALSE(Exists("svid.key"));
}

}  // namespace
}  // namespace writ::cli

// HttpServer with TLS: a self-signed certificate made with the SDK, curl
// trusting only it, and Bind's refusals of unusable files.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/http/http_server.h"
#include "issuer/src/http/http_test_util.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"

namespace writ::issuer::http {
namespace {

using testing::CurlClient;
using testing::CurlResult;
using ::testing::HasSubstr;
using testing::RawSocket;

void WriteFile(const std::string& path, absl::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/writ-http-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
    ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEcP256));
    CertificateTemplate t;
    t.subject_common_name = "localhost";
    t.dns_sans = {"localhost"};
    const absl::Time now = absl::Now();
    t.not_before = now - absl::Hours(1);
    t.not_after = now + absl::Hours(1);
    ASSERT_OK_AND_ASSIGN(t.serial, RandomSerial());
    t.key_usage.digital_signature = true;
    t.extended_key_usage.server_auth = true;
    ASSERT_OK_AND_ASSIGN(SslPtr<X509> cert, IssueCertificate(t, key.get(), nullptr, key.get()));
    ASSERT_OK_AND_ASSIGN(std::string cert_pem, CertificateToPem(cert.get()));
    ASSERT_OK_AND_ASSIGN(std::string key_pem, PrivateKeyToPem(key.get()));
    WriteFile(cert_, cert_pem);
    WriteFile(key_, key_pem);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  HttpServerOptions TlsOptions() const {
    HttpServerOptions o;
    o.tls_cert_file = cert_;
    o.tls_key_file = key_;
    return o;
  }

  std::string dir_, cert_, key_;
};

TEST_F(HttpServerTlsTest, ServesHttpsWithKeepAlive) {
  HttpServerOptions o = TlsOptions();
  o.io_threads = 2;
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Bind(o));
  server->Handle("/hello", [](HttpRequest req, Responder res) {
    std::move(res).Send({200, {}, "hello over tls " + req.body, "text/plain"});
  });
  server->Start();
  const std::string url = absl::StrCat("https://localhost:", server->port(), "/hello");
  CurlClient client;
  long connects = 0;
  for (int i = 0; i < 3; ++i) {
    CurlResult r = client.Request("POST", url, absl::StrCat(i), {}, cert_);
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.body, absl::StrCat("hello over tls ", i));
    connects += r.connects;
  }
  EXPECT_EQ(connects, 1);
  // A large body crosses several TLS records.
  CurlResult big = client.Request("POST", url, std::string(60000, 'z'), {}, cert_);
  ASSERT_EQ(big.status, 200) << big.error;
  EXPECT_EQ(big.body.size(), std::string("hello over tls ").size() + 60000);
  // Plain HTTP to the TLS port, and a silent peer, are closed without harm.
  RawSocket plain(server->port());
  ASSERT_TRUE(plain.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_GE(plain.WaitClosed(std::chrono::seconds(2)).count(), 0);
  CurlResult after = client.Request("GET", url, "", {}, cert_);
  EXPECT_EQ(after.status, 200) << after.error;
}

TEST_F(HttpServerTlsTest, PeerClosingDuringALargeResponseIsHarmless) {
  // OpenSSL writes with write(2): without SIGPIPE blocked on the I/O thread,
  // writing to the reset connection would kill this process.
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Bind(TlsOptions()));
  server->Handle("/big", [](HttpRequest, Responder res) {
    std::move(res).Send({200, {}, std::string(16 << 20, 'x'), "text/plain"});
  });
  server->Handle("/small", [](HttpRequest, Responder res) {
    std::move(res).Send({200, {}, "small", "text/plain"});
  });
  server->Start();
  const std::string port = absl::StrCat(server->port());
  for (int i = 0; i < 3; ++i) {
    CURL* c = curl_easy_init();
    ASSERT_NE(c, nullptr);
    const std::string url = "https://localhost:" + port + "/big";
    curl_slist* resolve = curl_slist_append(nullptr, ("localhost:" + port + ":127.0.0.1").c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_CAINFO, cert_.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE, 1000L);  // gives up on seeing Content-Length
    EXPECT_EQ(curl_easy_perform(c), CURLE_FILESIZE_EXCEEDED);
    curl_easy_cleanup(c);
    curl_slist_free_all(resolve);
  }
  CurlClient client;
  CurlResult r = client.Request("GET", "https://localhost:" + port + "/small", "", {}, cert_);
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "small");
}

TEST_F(HttpServerTlsTest, UntrustedClientFailsAndServerStaysUp) {
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Bind(TlsOptions()));
  server->Handle("/x", [](HttpRequest, Responder res) { std::move(res).Send({200, {}, "", ""}); });
  server->Start();
  const std::string url = absl::StrCat("https://localhost:", server->port(), "/x");
  const std::string other_ca = dir_ + "/other.pem";
  {
    // Trust a different self-signed certificate: the handshake must fail.
    ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEcP256));
    CertificateTemplate t;
    t.subject_common_name = "other";
    t.not_before = absl::Now() - absl::Hours(1);
    t.not_after = absl::Now() + absl::Hours(1);
    ASSERT_OK_AND_ASSIGN(t.serial, RandomSerial());
    ASSERT_OK_AND_ASSIGN(SslPtr<X509> cert, IssueCertificate(t, key.get(), nullptr, key.get()));
    ASSERT_OK_AND_ASSIGN(std::string pem, CertificateToPem(cert.get()));
    WriteFile(other_ca, pem);
  }
  CurlClient client;
  EXPECT_EQ(client.Request("GET", url, "", {}, other_ca).status, 0);
  CurlClient good;
  EXPECT_EQ(good.Request("GET", url, "", {}, cert_).status, 200);
}

TEST_F(HttpServerTlsTest, HandshakeCountsAgainstReadTimeout) {
  HttpServerOptions o = TlsOptions();
  o.read_timeout = absl::Milliseconds(200);
  ASSERT_OK_AND_ASSIGN(auto server, HttpServer::Bind(o));
  server->Start();
  RawSocket s(server->port());
  ASSERT_TRUE(s.ok());
  const auto took = s.WaitClosed(std::chrono::seconds(3));
  EXPECT_GE(took.count(), 150);
  EXPECT_LT(took.count(), 1000);
}

TEST_F(HttpServerTlsTest, BindRefusesMissingFiles) {
  HttpServerOptions o = TlsOptions();
  o.tls_cert_file = dir_ + "/missing.pem";
  absl::Status s = HttpServer::Bind(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tls_cert_file " + dir_ + "/missing.pem"));
  o = TlsOptions();
  o.tls_key_file = dir_ + "/missing-key.pem";
  s = HttpServer::Bind(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tls_key_file " + dir_ + "/missing-key.pem"));
}

TEST_F(HttpServerTlsTest, BindRefusesGarbageFiles) {
  const std::string garbage = dir_ + "/garbage.pem";
  WriteFile(garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
  HttpServerOptions o = TlsOptions();
  o.tls_cert_file = garbage;
  absl::Status s = HttpServer::Bind(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tls_cert_file " + garbage));
  o = TlsOptions();
  o.tls_key_file = garbage;
  s = HttpServer::Bind(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tls_key_file " + garbage));
  // The certificate file given as the key (and vice versa) is refused too.
  o = TlsOptions();
  o.tls_key_file = cert_;
  EXPECT_EQ(HttpServer::Bind(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTlsTest, BindRefusesAKeyThatIsNotTheCertificates) {
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> other, GenerateKey(KeySpec::kEcP256));
  ASSERT_OK_AND_ASSIGN(std::string pem, PrivateKeyToPem(other.get()));
  const std::string other_key = dir_ + "/other-key.pem";
  WriteFile(other_key, pem);
  HttpServerOptions o = TlsOptions();
  o.tls_key_file = other_key;
  absl::Status s = HttpServer::Bind(o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("is not the key of tls_cert_file"));
}

}  // namespace
}  // namespace writ::issuer::http

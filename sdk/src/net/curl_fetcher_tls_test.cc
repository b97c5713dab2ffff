// CurlFetcher over TLS: a private CA given as ca_pem is the only trust
// anchor; a server certified by any other CA is refused.

#include <httplib.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/keys.h"
#include "writ/net/curl_fetcher.h"
#include "writ/x509/certificate.h"

namespace writ {
namespace {

struct Pki {
  std::string ca_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

// NewPki makes a CA and a server certificate for "localhost" signed by it.
Pki NewPki(absl::string_view name) {
  Pki pki;
  const absl::Time now = absl::Now();
  auto ca_key = GenerateKey(KeySpec::kEcP256);
  EXPECT_OK(ca_key);
  CertificateTemplate ca;
  ca.subject_common_name = absl::StrCat("test CA ", name);
  ca.not_before = now - absl::Hours(1);
  ca.not_after = now + absl::Hours(1);
  ca.serial = *RandomSerial();
  ca.is_ca = true;
  ca.key_usage.key_cert_sign = true;
  ca.key_usage.crl_sign = true;
  auto ca_cert = IssueCertificate(ca, ca_key->get(), nullptr, ca_key->get());
  EXPECT_OK(ca_cert);
  auto server_key = GenerateKey(KeySpec::kEcP256);
  EXPECT_OK(server_key);
  CertificateTemplate server;
  server.subject_common_name = "localhost";
  server.dns_sans = {"localhost"};
  server.not_before = ca.not_before;
  server.not_after = ca.not_after;
  server.serial = *RandomSerial();
  server.key_usage.digital_signature = true;
  server.extended_key_usage.server_auth = true;
  auto server_cert = IssueCertificate(server, server_key->get(), ca_cert->get(), ca_key->get());
  EXPECT_OK(server_cert);
  pki.ca_pem = *CertificateToPem(ca_cert->get());
  pki.server_cert_pem = *CertificateToPem(server_cert->get());
  pki.server_key_pem = *PrivateKeyToPem(server_key->get());
  return pki;
}

// TlsServer serves GET /ok over https on localhost with `pki`'s certificate.
class TlsServer {
 public:
  explicit TlsServer(const Pki& pki) {
    // SSLServer's SSL_CTX takes its own references to the certificate and key.
    auto cert = ParseCertificatePem(pki.server_cert_pem);
    auto key = ParsePrivateKeyPem(pki.server_key_pem);
    EXPECT_OK(cert);
    EXPECT_OK(key);
    server_ = std::make_unique<httplib::SSLServer>(cert->get(), key->get());
    server_->Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::yield();
  }
  ~TlsServer() {
    server_->stop();
    thread_.join();
  }
  std::string Url() const { return absl::StrCat("https://localhost:", port_, "/ok"); }

 private:
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(CurlFetcherTlsTest, TrustsTheGivenCa) {
  const Pki pki = NewPki("a");
  TlsServer server(pki);
  CurlFetcher fetcher(CurlFetcher::Options{.ca_pem = pki.ca_pem});
  ASSERT_OK_AND_ASSIGN(HttpResponse got, fetcher.Get(server.Url(), {}));
  EXPECT_EQ(got.body, "hello");
}

TEST(CurlFetcherTlsTest, RefusesAServerCertifiedByAnotherCa) {
  const Pki a = NewPki("a");
  const Pki b = NewPki("b");
  TlsServer server(b);
  CurlFetcher fetcher(CurlFetcher::Options{.ca_pem = a.ca_pem});
  auto got = fetcher.Get(server.Url(), {});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(got.status().message()), testing::HasSubstr("TLS"));
}

TEST(CurlFetcherTlsTest, SystemStoreDoesNotTrustAPrivateCa) {
  const Pki pki = NewPki("a");
  TlsServer server(pki);
  CurlFetcher fetcher;
  EXPECT_EQ(fetcher.Get(server.Url(), {}).status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace writ

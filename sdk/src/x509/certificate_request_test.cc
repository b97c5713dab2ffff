#include "writ/x509/certificate_request.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/x509/x509_util.h"
#include "writ/crypto/keys.h"

namespace writ {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kSpiffeId[] = "spiffe://example.org/ns/ci/sa/deploy";

SslPtr<EVP_PKEY> Key(KeySpec spec) {
  absl::StatusOr<SslPtr<EVP_PKEY>> key = GenerateKey(spec);
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

// CsrWithExtensions builds a CSR with arbitrary extensions given as OpenSSL
// config strings: test-only, to make requests CreateDer refuses to.
std::string CsrWithExtensions(const EVP_PKEY* key, const std::vector<const char*>& sans) {
  SslPtr<X509_REQ> req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  X509_REQ_set_pubkey(req.get(), const_cast<EVP_PKEY*>(key));
  x509_internal::ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
  for (const char* value : sans) {
    sk_X509_EXTENSION_push(exts.get(),
                           X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, value));
  }
  X509_REQ_add_extensions(req.get(), exts.get());
  EXPECT_GT(X509_REQ_sign(req.get(), const_cast<EVP_PKEY*>(key), EVP_sha256()), 0);
  absl::StatusOr<std::string> der = x509_internal::EncodeDer<X509_REQ>(i2d_X509_REQ, req.get());
  EXPECT_TRUE(der.ok());
  return der.value_or("");
}

class CsrRoundTripTest : public ::testing::TestWithParam<KeySpec> {};

TEST_P(CsrRoundTripTest, CreatesParsesAndVerifies) {
  SslPtr<EVP_PKEY> key = Key(GetParam());
  CertificateRequestTemplate tmpl;
  tmpl.common_name = "deploy job";
  tmpl.uri_sans = {kSpiffeId};
  tmpl.dns_sans = {"deploy.example.org", "*.example.org"};
  absl::StatusOr<std::string> pem = CertificateRequest::CreatePem(key.get(), tmpl);
  ASSERT_TRUE(pem.ok()) << pem.status();
  EXPECT_THAT(*pem, HasSubstr("-----BEGIN CERTIFICATE REQUEST-----"));

  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(*pem);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_TRUE(csr->VerifySignature().ok()) << csr->VerifySignature();
  EXPECT_EQ(EVP_PKEY_eq(csr->public_key(), key.get()), 1);
  EXPECT_EQ(csr->subject(), "CN=deploy job");
  EXPECT_EQ(csr->common_name(), "deploy job");
  EXPECT_THAT(csr->uri_sans(), ElementsAre(kSpiffeId));
  EXPECT_THAT(csr->dns_sans(), ElementsAre("deploy.example.org", "*.example.org"));
  EXPECT_FALSE(csr->requests_other_sans());

  absl::StatusOr<CertificateRequest> again = CertificateRequest::ParseDer(csr->der());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->der(), csr->der());
  EXPECT_TRUE(again->VerifySignature().ok());
}

INSTANTIATE_TEST_SUITE_P(AllKeyKinds, CsrRoundTripTest,
                         ::testing::Values(KeySpec::kEcP256, KeySpec::kEcP384, KeySpec::kEcP521,
                                           KeySpec::kEd25519, KeySpec::kRsa2048));

TEST(CertificateRequestTest, CreatesCsrWithEmptySubjectAndOnlyUriSan) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<std::string> der =
      CertificateRequest::CreateDer(key.get(), {.uri_sans = {kSpiffeId}});
  ASSERT_TRUE(der.ok()) << der.status();
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(*der);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_EQ(csr->subject(), "");
  EXPECT_EQ(csr->common_name(), "");
  EXPECT_THAT(csr->uri_sans(), ElementsAre(kSpiffeId));
  EXPECT_THAT(csr->dns_sans(), IsEmpty());
  EXPECT_TRUE(csr->VerifySignature().ok());
}

TEST(CertificateRequestTest, CsrWithoutExtensionsHasNoSans) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<std::string> der = CertificateRequest::CreateDer(key.get(), {.common_name = "x"});
  ASSERT_TRUE(der.ok()) << der.status();
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(*der);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_THAT(csr->uri_sans(), IsEmpty());
  EXPECT_THAT(csr->dns_sans(), IsEmpty());
  EXPECT_FALSE(csr->requests_other_sans());
}

TEST(CertificateRequestTest, RejectsCsrWithBadSignature) {
  for (KeySpec spec : {KeySpec::kEcP256, KeySpec::kEd25519, KeySpec::kRsa2048}) {
    SslPtr<EVP_PKEY> key = Key(spec);
    absl::StatusOr<std::string> der =
        CertificateRequest::CreateDer(key.get(), {.uri_sans = {kSpiffeId}});
    ASSERT_TRUE(der.ok()) << der.status();
    std::string tampered = *der;
    tampered[tampered.size() - 3] ^= 0x01;  // Inside the signature value.
    absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(tampered);
    ASSERT_TRUE(csr.ok()) << csr.status();
    absl::Status status = csr->VerifySignature();
    EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated) << KeyDescription(key.get());
    EXPECT_THAT(status.message(), HasSubstr("proves no possession"));
  }
}

TEST(CertificateRequestTest, RejectsCsrWhoseSignedContentWasAltered) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<std::string> der =
      CertificateRequest::CreateDer(key.get(), {.uri_sans = {"spiffe://example.org/a"}});
  ASSERT_TRUE(der.ok()) << der.status();
  std::string tampered = *der;
  const size_t at = tampered.find("example.org/a");
  ASSERT_NE(at, std::string::npos);
  tampered[at + 12] = 'b';  // Ask for spiffe://example.org/b instead.
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(tampered);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_THAT(csr->uri_sans(), ElementsAre("spiffe://example.org/b"));
  EXPECT_EQ(csr->VerifySignature().code(), absl::StatusCode::kUnauthenticated);
}

TEST(CertificateRequestTest, RejectsGarbagePem) {
  for (absl::string_view pem : {
           absl::string_view(""),
           absl::string_view("not pem at all"),
           absl::string_view("-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n"
                             "-----END CERTIFICATE REQUEST-----\n"),
           absl::string_view("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                             "-----END CERTIFICATE REQUEST-----\n"),
           absl::string_view("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n"),
       }) {
    absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(pem);
    EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument) << pem;
  }
}

TEST(CertificateRequestTest, RejectsPemWithWrongLabelOrTwoBlocks) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<std::string> pem = CertificateRequest::CreatePem(key.get(), {.common_name = "a"});
  ASSERT_TRUE(pem.ok());
  absl::StatusOr<std::string> key_pem = PublicKeyToPem(key.get());
  ASSERT_TRUE(key_pem.ok());
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(*key_pem);
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(csr.status().message(), HasSubstr("PUBLIC KEY"));

  csr = CertificateRequest::ParsePem(*pem + *pem);
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(csr.status().message(), HasSubstr("found 2"));
}

TEST(CertificateRequestTest, AcceptsPemWithExplanatoryTextAndLegacyLabel) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<std::string> pem = CertificateRequest::CreatePem(key.get(), {.common_name = "a"});
  ASSERT_TRUE(pem.ok());
  const std::string legacy =
      "Subject: CN=a\n" +
      absl::StrReplaceAll(*pem, {{"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}}) +
      "trailing words\n";
  ASSERT_THAT(legacy, HasSubstr("BEGIN NEW CERTIFICATE REQUEST"));
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(legacy);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_TRUE(csr->VerifySignature().ok());
}

TEST(CertificateRequestTest, RejectsGarbageDer) {
  for (absl::string_view der :
       {absl::string_view(""),
        absl::string_view("\x30\x03"
                          "abc",
                          5),
        absl::string_view("\x30\x80\x00\x00", 4), absl::string_view("garbage garbage")}) {
    absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(der);
    EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(CertificateRequestTest, RejectsDerWithTrailingBytes) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<std::string> der = CertificateRequest::CreateDer(key.get(), {.common_name = "a"});
  ASSERT_TRUE(der.ok());
  absl::StatusOr<CertificateRequest> csr =
      CertificateRequest::ParseDer(*der + std::string(1, '\0'));
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(csr.status().message(), HasSubstr("1 trailing bytes"));
  // A truncated CSR is no better.
  csr = CertificateRequest::ParseDer(absl::string_view(*der).substr(0, der->size() - 1));
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CertificateRequestTest, RejectsOversizedInput) {
  const std::string big(CertificateRequest::kMaxBytes + 1, 'A');
  EXPECT_THAT(CertificateRequest::ParseDer(big).status().message(), HasSubstr("limit"));
  EXPECT_THAT(CertificateRequest::ParsePem(big).status().message(), HasSubstr("limit"));
}

TEST(CertificateRequestTest, FlagsRequestedSansOfOtherKinds) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(
      CsrWithExtensions(key.get(), {"URI:spiffe://example.org/a,IP:10.0.0.1"}));
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_THAT(csr->uri_sans(), ElementsAre("spiffe://example.org/a"));
  EXPECT_TRUE(csr->requests_other_sans());
  EXPECT_TRUE(csr->VerifySignature().ok());
}

TEST(CertificateRequestTest, RejectsDuplicatedOrUnprintableRequestedSans) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(
      CsrWithExtensions(key.get(), {"URI:spiffe://example.org/a", "URI:spiffe://example.org/b"}));
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(csr.status().message(), HasSubstr("more than one subjectAltName"));

  csr = CertificateRequest::ParseDer(CsrWithExtensions(key.get(), {"DNS:a b.example.org"}));
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(csr.status().message(), HasSubstr("not printable ASCII"));
}

TEST(CertificateRequestTest, CreateRefusesBadNamesAndKeys) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  EXPECT_EQ(
      CertificateRequest::CreateDer(key.get(), {.uri_sans = {"spiffe://a b"}}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CertificateRequest::CreateDer(key.get(), {.dns_sans = {""}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CertificateRequest::CreateDer(key.get(), {.common_name = std::string(65, 'a')})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CertificateRequest::CreateDer(nullptr, {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  SslPtr<EVP_PKEY> x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_NE(x25519, nullptr);
  absl::StatusOr<std::string> der = CertificateRequest::CreateDer(x25519.get(), {});
  EXPECT_EQ(der.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(der.status().message(), HasSubstr("cannot sign"));

  absl::StatusOr<SslPtr<EVP_PKEY>> public_only = ParsePublicKeyPem(*PublicKeyToPem(key.get()));
  ASSERT_TRUE(public_only.ok());
  EXPECT_FALSE(CertificateRequest::CreateDer(public_only->get(), {}).ok());
}

// Interop with the openssl CLI in both directions: it accepts our CSRs, and
// we accept its CSRs.
TEST(CertificateRequestTest, InteroperatesWithOpensslCli) {
  if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/openssl";
  std::string dir_template = testing::TempDir() + "writ_csr_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
  const std::filesystem::path dir(dir_template);

  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP384);
  absl::StatusOr<std::string> pem =
      CertificateRequest::CreatePem(key.get(), {.common_name = "ours", .uri_sans = {kSpiffeId}});
  ASSERT_TRUE(pem.ok());
  std::ofstream(dir / "ours.csr") << *pem;
  const std::string verify_cmd =
      "/usr/bin/openssl req -verify -noout -in " + (dir / "ours.csr").string() + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(verify_cmd.c_str()), 0) << verify_cmd;

  const std::string make_cmd =
      "/usr/bin/openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
      (dir / "theirs.key").string() + " -subj /CN=theirs -addext subjectAltName=URI:" + kSpiffeId +
      " -out " + (dir / "theirs.csr").string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_cmd.c_str()), 0) << make_cmd;
  std::stringstream theirs;
  theirs << std::ifstream(dir / "theirs.csr").rdbuf();
  absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(theirs.str());
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_TRUE(csr->VerifySignature().ok());
  EXPECT_EQ(csr->common_name(), "theirs");
  EXPECT_THAT(csr->uri_sans(), ElementsAre(kSpiffeId));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace writ

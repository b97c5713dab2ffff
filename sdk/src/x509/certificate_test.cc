#include "writ/x509/certificate.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kSpiffeId[] = "spiffe://example.org/ns/ci/sa/deploy";
const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z
const absl::Time kRootNotBefore = kT0 - absl::Hours(1);
const absl::Time kRootNotAfter = kT0 + absl::Hours(24 * 365);
const absl::Time kLeafNotBefore = kT0;
const absl::Time kLeafNotAfter = kT0 + absl::Minutes(10);

SslPtr<EVP_PKEY> Key(KeySpec spec) {
  absl::StatusOr<SslPtr<EVP_PKEY>> key = GenerateKey(spec);
  EXPECT_TRUE(key.ok()) << key.status();
  return *std::move(key);
}

CertificateTemplate CaTemplate(absl::string_view name) {
  CertificateTemplate tmpl;
  tmpl.subject_common_name = std::string(name);
  tmpl.not_before = kRootNotBefore;
  tmpl.not_after = kRootNotAfter;
  tmpl.serial = *RandomSerial();
  tmpl.is_ca = true;
  tmpl.key_usage = {.digital_signature = true, .key_cert_sign = true, .crl_sign = true};
  return tmpl;
}

// SvidTemplate is an X.509-SVID as DESIGN.md describes it.
CertificateTemplate SvidTemplate() {
  CertificateTemplate tmpl;
  tmpl.uri_sans = {kSpiffeId};
  tmpl.not_before = kLeafNotBefore;
  tmpl.not_after = kLeafNotAfter;
  tmpl.serial = *RandomSerial();
  tmpl.key_usage = {.digital_signature = true};
  tmpl.extended_key_usage = {.server_auth = true, .client_auth = true};
  return tmpl;
}

SslPtr<X509> SelfSigned(const EVP_PKEY* key, absl::string_view name = "Writ Test Root") {
  absl::StatusOr<SslPtr<X509>> cert = IssueCertificate(CaTemplate(name), key, nullptr, key);
  EXPECT_TRUE(cert.ok()) << cert.status();
  return cert.ok() ? *std::move(cert) : nullptr;
}

bool ExtensionIsCritical(const X509* cert, int nid) {
  const int index = X509_get_ext_by_NID(cert, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = Key(KeySpec::kEcP256);
    root_ = SelfSigned(root_key_.get());
    ASSERT_NE(root_, nullptr);
  }

  // IssueSvid issues an SVID for a fresh P-256 key through a CSR, the way the
  // issuer will.
  absl::StatusOr<SslPtr<X509>> IssueSvid(const CertificateTemplate& tmpl) {
    SslPtr<EVP_PKEY> workload_key = Key(KeySpec::kEcP256);
    absl::StatusOr<std::string> pem =
        CertificateRequest::CreatePem(workload_key.get(), {.uri_sans = {kSpiffeId}});
    if (!pem.ok()) return pem.status();
    absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParsePem(*pem);
    if (!csr.ok()) return csr.status();
    if (absl::Status s = csr->VerifySignature(); !s.ok()) return s;
    return IssueCertificate(tmpl, csr->public_key(), root_.get(), root_key_.get());
  }

  SslPtr<EVP_PKEY> root_key_;
  SslPtr<X509> root_;
};

TEST_F(CertificateTest, CreatesSelfSignedRoot) {
  EXPECT_EQ(X509_get_version(root_.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(root_.get()), 1);
  EXPECT_EQ(X509_self_signed(root_.get(), /*verify_signature=*/1), 1);
  EXPECT_EQ(CertificateSubject(root_.get()), "CN=Writ Test Root");
  EXPECT_TRUE(ExtensionIsCritical(root_.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(root_.get()), KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  EXPECT_EQ(X509_get_signature_nid(root_.get()), NID_ecdsa_with_SHA256);
  ASSERT_NE(X509_get0_subject_key_id(root_.get()), nullptr);
  EXPECT_EQ(ASN1_STRING_length(X509_get0_subject_key_id(root_.get())), 20);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(root_.get()),
                                  X509_get0_authority_key_id(root_.get())),
            0);
  EXPECT_EQ(*CertificateNotBefore(root_.get()), kRootNotBefore);
  EXPECT_EQ(*CertificateNotAfter(root_.get()), kRootNotAfter);
  EXPECT_TRUE(VerifyCertificate(root_.get(), {root_.get()}, kT0).ok());
}

TEST_F(CertificateTest, IssuesSvidFromCsrThatVerifiesInsideValidity) {
  absl::StatusOr<SslPtr<X509>> leaf = IssueSvid(SvidTemplate());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  const X509* cert = leaf->get();

  EXPECT_EQ(CertificateSubject(cert), "");
  EXPECT_THAT(*CertificateUriSans(cert), ElementsAre(kSpiffeId));
  EXPECT_THAT(*CertificateDnsSans(cert), IsEmpty());
  EXPECT_TRUE(ExtensionIsCritical(cert, NID_subject_alt_name));  // Empty subject.
  EXPECT_EQ(X509_check_ca(leaf->get()), 0);
  EXPECT_TRUE(ExtensionIsCritical(cert, NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(leaf->get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_TRUE(ExtensionIsCritical(cert, NID_key_usage));
  EXPECT_EQ(X509_get_extended_key_usage(leaf->get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_FALSE(ExtensionIsCritical(cert, NID_ext_key_usage));
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf->get()),
                                  X509_get0_subject_key_id(root_.get())),
            0);
  EXPECT_EQ(X509_check_issued(root_.get(), leaf->get()), X509_V_OK);

  const std::vector<const X509*> roots = {root_.get()};
  EXPECT_TRUE(VerifyCertificate(cert, roots, kLeafNotBefore).ok());
  EXPECT_TRUE(VerifyCertificate(cert, roots, kLeafNotBefore + absl::Minutes(5)).ok());
  EXPECT_TRUE(VerifyCertificate(cert, roots, kLeafNotAfter - absl::Seconds(1)).ok());

  absl::Status expired = VerifyCertificate(cert, roots, kLeafNotAfter + absl::Seconds(1));
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.message(), HasSubstr("leaf certificate"));
  EXPECT_THAT(expired.message(), HasSubstr("expired"));
  // OpenSSL treats notAfter itself as expired (see verify.h).
  EXPECT_THAT(VerifyCertificate(cert, roots, kLeafNotAfter).message(), HasSubstr("expired"));

  absl::Status early = VerifyCertificate(cert, roots, kLeafNotBefore - absl::Seconds(1));
  EXPECT_EQ(early.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(early.message(), HasSubstr("not yet valid"));
}

TEST_F(CertificateTest, LeafFailsAgainstAnotherRoot) {
  absl::StatusOr<SslPtr<X509>> leaf = IssueSvid(SvidTemplate());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  SslPtr<EVP_PKEY> other_key = Key(KeySpec::kEcP256);
  SslPtr<X509> other = SelfSigned(other_key.get(), "Writ Test Root");  // Same name.
  absl::Status status = VerifyCertificate(leaf->get(), {other.get()}, kT0);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyCertificate(leaf->get(), {}, kT0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCertificate(nullptr, {root_.get()}, kT0).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CertificateTest, VerificationIsStrict) {
  // A twin of the root (same key and name) that lacks keyCertSign is no CA.
  CertificateTemplate twin_tmpl = CaTemplate("Writ Test Root");
  twin_tmpl.key_usage = {.digital_signature = true};
  absl::StatusOr<SslPtr<X509>> twin =
      IssueCertificate(twin_tmpl, root_key_.get(), nullptr, root_key_.get());
  ASSERT_TRUE(twin.ok()) << twin.status();
  absl::StatusOr<SslPtr<X509>> leaf = IssueSvid(SvidTemplate());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_TRUE(VerifyCertificate(leaf->get(), {root_.get()}, kT0).ok());
  EXPECT_THAT(VerifyCertificate(leaf->get(), {twin->get()}, kT0).message(),
              HasSubstr("invalid CA certificate"));

  // X.509 strict mode wants an authorityKeyIdentifier on a leaf.
  CertificateTemplate no_aki = SvidTemplate();
  no_aki.authority_key_identifier = false;
  leaf = IssueSvid(no_aki);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_THAT(VerifyCertificate(leaf->get(), {root_.get()}, kT0).message(),
              HasSubstr("Missing Authority Key Identifier"));
}

TEST_F(CertificateTest, RefusesLeafOutlivingItsCa) {
  CertificateTemplate tmpl = SvidTemplate();
  tmpl.not_after = kRootNotAfter + absl::Seconds(1);
  absl::StatusOr<SslPtr<X509>> leaf = IssueSvid(tmpl);
  EXPECT_EQ(leaf.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(leaf.status().message(), HasSubstr("never outlives its CA"));

  tmpl.not_after = kRootNotAfter;  // Ending with the CA is fine.
  leaf = IssueSvid(tmpl);
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_EQ(*CertificateNotAfter(leaf->get()), kRootNotAfter);
}

TEST_F(CertificateTest, ChainsThroughIntermediate) {
  SslPtr<EVP_PKEY> mid_key = Key(KeySpec::kEcP384);
  CertificateTemplate mid_tmpl = CaTemplate("Writ Test Intermediate");
  mid_tmpl.path_length = 0;
  absl::StatusOr<SslPtr<X509>> mid =
      IssueCertificate(mid_tmpl, mid_key.get(), root_.get(), root_key_.get());
  ASSERT_TRUE(mid.ok()) << mid.status();

  SslPtr<EVP_PKEY> leaf_key = Key(KeySpec::kEd25519);
  absl::StatusOr<SslPtr<X509>> leaf =
      IssueCertificate(SvidTemplate(), leaf_key.get(), mid->get(), mid_key.get());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_EQ(X509_get_signature_nid(leaf->get()), NID_ecdsa_with_SHA384);
  EXPECT_TRUE(VerifyCertificate(leaf->get(), {mid->get()}, {root_.get()}, kT0).ok());
  EXPECT_EQ(VerifyCertificate(leaf->get(), {root_.get()}, kT0).code(),
            absl::StatusCode::kUnauthenticated);

  // pathLenConstraint 0: the intermediate may not make more CAs.
  absl::StatusOr<SslPtr<X509>> sub =
      IssueCertificate(CaTemplate("Sub CA"), leaf_key.get(), mid->get(), mid_key.get());
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CertificateTest, SignsWithTheDigestForEachIssuerKey) {
  const std::vector<std::pair<KeySpec, int>> cases = {
      {KeySpec::kEcP256, NID_ecdsa_with_SHA256},        {KeySpec::kEcP384, NID_ecdsa_with_SHA384},
      {KeySpec::kEcP521, NID_ecdsa_with_SHA512},        {KeySpec::kEd25519, NID_ED25519},
      {KeySpec::kRsa2048, NID_sha256WithRSAEncryption},
  };
  for (const auto& [spec, nid] : cases) {
    SslPtr<EVP_PKEY> key = Key(spec);
    SslPtr<X509> root = SelfSigned(key.get());
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(X509_get_signature_nid(root.get()), nid) << KeyDescription(key.get());
    SslPtr<EVP_PKEY> leaf_key = Key(KeySpec::kEcP256);
    absl::StatusOr<SslPtr<X509>> leaf =
        IssueCertificate(SvidTemplate(), leaf_key.get(), root.get(), key.get());
    ASSERT_TRUE(leaf.ok()) << leaf.status();
    EXPECT_EQ(X509_get_signature_nid(leaf->get()), nid);
    EXPECT_TRUE(VerifyCertificate(leaf->get(), {root.get()}, kT0).ok())
        << KeyDescription(key.get());
  }
}

TEST_F(CertificateTest, RefusesBadIssuers) {
  absl::StatusOr<SslPtr<X509>> leaf = IssueSvid(SvidTemplate());
  ASSERT_TRUE(leaf.ok());
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  // A leaf is no CA.
  EXPECT_EQ(IssueCertificate(SvidTemplate(), key.get(), leaf->get(), key.get()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The issuer key must be the CA's.
  absl::StatusOr<SslPtr<X509>> wrong_key =
      IssueCertificate(SvidTemplate(), key.get(), root_.get(), key.get());
  EXPECT_EQ(wrong_key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_key.status().message(), HasSubstr("does not match"));
  // Self-signed needs the subject's own key and a name.
  EXPECT_EQ(IssueCertificate(CaTemplate("x"), key.get(), nullptr, root_key_.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueCertificate(CaTemplate(""), key.get(), nullptr, key.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A public key cannot sign.
  absl::StatusOr<SslPtr<EVP_PKEY>> public_only = ParsePublicKeyPem(*PublicKeyToPem(key.get()));
  ASSERT_TRUE(public_only.ok());
  EXPECT_FALSE(IssueCertificate(CaTemplate("x"), key.get(), nullptr, public_only->get()).ok());
}

TEST_F(CertificateTest, RefusesBadTemplates) {
  auto issue = [&](void (*edit)(CertificateTemplate&)) {
    CertificateTemplate tmpl = SvidTemplate();
    edit(tmpl);
    return IssueCertificate(tmpl, root_key_.get(), root_.get(), root_key_.get()).status().code();
  };
  constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.serial.clear(); }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.serial = std::string(4, '\0'); }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.serial = std::string(20, '\xff'); }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.not_before = absl::InfinitePast(); }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.not_after = absl::InfiniteFuture(); }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.not_before = t.not_after + absl::Seconds(1); }),
            kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.path_length = 1; }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.key_usage.key_cert_sign = true; }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.uri_sans = {"spiffe://a\nb"}; }), kInvalid);
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.subject_common_name = std::string(65, 'x'); }),
            kInvalid);
  // The largest serial RFC 5280 allows is fine.
  EXPECT_EQ(issue([](CertificateTemplate& t) { t.serial = "\x7f" + std::string(19, '\xff'); }),
            absl::StatusCode::kOk);
}

// Copying a CSR's SubjectPublicKeyInfo (the fast path) yields exactly the
// certificate that re-encoding its key does: with an Ed25519 issuer the
// signature is deterministic, so the two DER encodings must be identical.
TEST(CertificateSpkiCopyTest, MatchesReencodingByteForByte) {
  SslPtr<EVP_PKEY> issuer_key = Key(KeySpec::kEd25519);
  SslPtr<X509> issuer = SelfSigned(issuer_key.get());
  ASSERT_NE(issuer, nullptr);
  for (KeySpec spec : {KeySpec::kEcP256, KeySpec::kEcP384, KeySpec::kEcP521, KeySpec::kEd25519,
                       KeySpec::kRsa2048}) {
    SslPtr<EVP_PKEY> key = Key(spec);
    absl::StatusOr<std::string> der = CertificateRequest::CreateDer(key.get(), {});
    ASSERT_TRUE(der.ok()) << der.status();
    absl::StatusOr<CertificateRequest> csr = CertificateRequest::ParseDer(*der);
    ASSERT_TRUE(csr.ok()) << csr.status();
    CertificateTemplate tmpl = SvidTemplate();
    absl::StatusOr<SslPtr<X509>> encoded =
        IssueCertificate(tmpl, csr->public_key(), issuer.get(), issuer_key.get());
    ASSERT_TRUE(encoded.ok()) << encoded.status();
    tmpl.subject_public_key_info = X509_REQ_get_X509_PUBKEY(const_cast<X509_REQ*>(csr->get()));
    absl::StatusOr<SslPtr<X509>> copied =
        IssueCertificate(tmpl, csr->public_key(), issuer.get(), issuer_key.get());
    ASSERT_TRUE(copied.ok()) << copied.status();
    EXPECT_EQ(*CertificateToDer(copied->get()), *CertificateToDer(encoded->get()))
        << KeyDescription(key.get());
    // And the copy parses back to the same key.
    absl::StatusOr<SslPtr<X509>> reparsed = ParseCertificateDer(*CertificateToDer(copied->get()));
    ASSERT_TRUE(reparsed.ok()) << reparsed.status();
    EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(reparsed->get()), key.get()), 1);
  }
}

// An extra extension is added as given, once; one without an OID, or one
// repeating an extension the template already made, is refused.
TEST(CertificateExtraExtensionTest, AddsOnceAndRefusesMissingOrRepeatedOids) {
  SslPtr<EVP_PKEY> key = Key(KeySpec::kEcP256);
  SslPtr<X509> issuer = SelfSigned(key.get());
  ASSERT_NE(issuer, nullptr);
  SslPtr<ASN1_OBJECT> custom(OBJ_txt2obj("1.3.6.1.4.1.99999.7", 1));
  CertificateTemplate tmpl = SvidTemplate();
  tmpl.extra_extensions.push_back(
      {.oid = custom.get(), .critical = false, .der_value = "\x05\x00"});
  absl::StatusOr<SslPtr<X509>> cert = IssueCertificate(tmpl, key.get(), issuer.get(), key.get());
  ASSERT_TRUE(cert.ok()) << cert.status();
  const int index = X509_get_ext_by_OBJ(cert->get(), custom.get(), -1);
  ASSERT_GE(index, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert->get(), index)), 0);

  tmpl.extra_extensions = {{.oid = nullptr, .critical = false, .der_value = "\x05\x00"}};
  EXPECT_EQ(IssueCertificate(tmpl, key.get(), issuer.get(), key.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
  SslPtr<ASN1_OBJECT> san(OBJ_txt2obj("2.5.29.17", 1));  // subjectAltName
  tmpl.extra_extensions = {{.oid = san.get(), .critical = false, .der_value = "\x30\x00"}};
  EXPECT_EQ(IssueCertificate(tmpl, key.get(), issuer.get(), key.get()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RandomSerialTest, IsPositiveSixteenBytesAndFresh) {
  absl::StatusOr<std::string> a = RandomSerial();
  absl::StatusOr<std::string> b = RandomSerial();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 16u);
  EXPECT_EQ(static_cast<unsigned char>((*a)[0]) & 0x80, 0);
  EXPECT_NE(*a, *b);
}

TEST_F(CertificateTest, RoundTripsPemAndDer) {
  absl::StatusOr<SslPtr<X509>> leaf = IssueSvid(SvidTemplate());
  ASSERT_TRUE(leaf.ok());
  absl::StatusOr<std::string> der = CertificateToDer(leaf->get());
  ASSERT_TRUE(der.ok());
  absl::StatusOr<SslPtr<X509>> from_der = ParseCertificateDer(*der);
  ASSERT_TRUE(from_der.ok()) << from_der.status();
  EXPECT_EQ(X509_cmp(from_der->get(), leaf->get()), 0);
  EXPECT_EQ(*CertificateToDer(from_der->get()), *der);

  absl::StatusOr<std::string> pem = CertificateToPem(leaf->get());
  ASSERT_TRUE(pem.ok());
  EXPECT_THAT(*pem, HasSubstr("-----BEGIN CERTIFICATE-----"));
  absl::StatusOr<SslPtr<X509>> from_pem = ParseCertificatePem(*pem);
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  EXPECT_EQ(*CertificateToDer(from_pem->get()), *der);

  absl::StatusOr<std::vector<SslPtr<X509>>> chain =
      ParseCertificateChainPem(*pem + "between\n" + *CertificateToPem(root_.get()));
  ASSERT_TRUE(chain.ok()) << chain.status();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ(X509_cmp((*chain)[0].get(), leaf->get()), 0);
  EXPECT_EQ(X509_cmp((*chain)[1].get(), root_.get()), 0);
  // One-certificate parsing refuses a chain rather than dropping the rest.
  EXPECT_EQ(ParseCertificatePem(*pem + *pem).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CertificateTest, RejectsGarbageAndTrailingBytes) {
  const std::string der = *CertificateToDer(root_.get());
  absl::StatusOr<SslPtr<X509>> cert = ParseCertificateDer(der + "x");
  EXPECT_EQ(cert.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cert.status().message(), HasSubstr("1 trailing bytes"));
  EXPECT_EQ(ParseCertificateDer(der.substr(0, der.size() - 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCertificateDer("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCertificateDer("\x30\x00").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCertificateDer(std::string(kMaxCertificateBytes + 1, '0')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCertificatePem("garbage").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCertificatePem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCertificateChainPem("").status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> csr = CertificateRequest::CreatePem(root_key_.get(), {});
  ASSERT_TRUE(csr.ok());
  EXPECT_THAT(ParseCertificatePem(*csr).status().message(), HasSubstr("CERTIFICATE REQUEST"));
}

// RunCommand runs `command` through the shell and returns its exit code, with
// its combined output in `output`.
int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// An independent verifier (the openssl CLI, X.509 strict mode, TLS client and
// server purposes) accepts an issued SVID inside its validity, and not after.
TEST_F(CertificateTest, OpensslCliVerifiesIssuedLeaf) {
  if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/openssl";
  absl::StatusOr<SslPtr<X509>> leaf = IssueSvid(SvidTemplate());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  std::string dir_template = testing::TempDir() + "writ_x509_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
  const std::filesystem::path dir(dir_template);
  const std::string root_path = (dir / "root.pem").string();
  const std::string leaf_path = (dir / "leaf.pem").string();
  std::ofstream(root_path) << *CertificateToPem(root_.get());
  std::ofstream(leaf_path) << *CertificateToPem(leaf->get());

  auto verify = [&](absl::Time at, absl::string_view purpose, std::string* output) {
    return RunCommand(
        absl::StrCat("/usr/bin/openssl verify -x509_strict -purpose ", purpose, " -attime ",
                     absl::ToUnixSeconds(at), " -CAfile ", root_path, " ", leaf_path),
        output);
  };
  for (absl::string_view purpose : {"sslclient", "sslserver"}) {
    std::string output;
    EXPECT_EQ(verify(kT0 + absl::Minutes(5), purpose, &output), 0) << purpose << ": " << output;
    EXPECT_THAT(output, HasSubstr("OK"));
  }
  std::string output;
  EXPECT_NE(verify(kLeafNotAfter + absl::Seconds(1), "sslclient", &output), 0);
  EXPECT_THAT(output, HasSubstr("expired"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace writ

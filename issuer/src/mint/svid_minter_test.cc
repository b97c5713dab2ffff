#include "issuer/src/mint/svid_minter.h"

#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kId[] = "spiffe://acme.example/ns/prod/sa/web";
constexpr char kFactsOid[] = "1.3.6.1.4.1.99999.1";
const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

SslPtr<X509> Ref(X509* x) {
  X509_up_ref(x);
  return SslPtr<X509>(x);
}
SslPtr<EVP_PKEY> Ref(EVP_PKEY* k) {
  EVP_PKEY_up_ref(k);
  return SslPtr<EVP_PKEY>(k);
}

std::string Csr(KeySpec spec, CertificateRequestTemplate tmpl = {}) {
  auto key = GenerateKey(spec);
  EXPECT_TRUE(key.ok()) << key.status();
  auto pem = CertificateRequest::CreatePem(key->get(), tmpl);
  EXPECT_TRUE(pem.ok()) << pem.status();
  return *pem;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

class SvidMinterTest : public ::testing::Test {
 protected:
  SvidMinterTest() : clock_(kNow) {
    ca_key_ = *GenerateKey(KeySpec::kEcP256);
    CertificateTemplate tmpl;
    tmpl.subject_common_name = "Writ test CA";
    tmpl.not_before = kNow - absl::Hours(1);
    tmpl.not_after = ca_not_after_;
    tmpl.serial = *RandomSerial();
    tmpl.is_ca = true;
    tmpl.key_usage.key_cert_sign = true;
    tmpl.key_usage.crl_sign = true;
    auto ca = IssueCertificate(tmpl, ca_key_.get(), nullptr, ca_key_.get());
    EXPECT_TRUE(ca.ok()) << ca.status();
    ca_ = *std::move(ca);
  }

  std::unique_ptr<SvidMinter> Minter(SvidMinterOptions options = {}) {
    auto minter = SvidMinter::New(Ref(ca_.get()), Ref(ca_key_.get()), &clock_, options);
    EXPECT_TRUE(minter.ok()) << minter.status();
    return *std::move(minter);
  }

  SvidRequest Request(std::string csr) {
    SvidRequest r;
    r.csr = std::move(csr);
    r.spiffe_id = kId;
    r.lifetime = absl::Hours(1);
    r.facts = {{"repository", "acme/app"}, {"run_id", "42"}};
    return r;
  }

  SslPtr<X509> Leaf(const MintedSvid& svid) {
    auto cert = ParseCertificateDer(svid.certificate_der);
    EXPECT_TRUE(cert.ok()) << cert.status();
    return *std::move(cert);
  }

  absl::Status Verify(const X509* leaf, absl::Time at) {
    const X509* roots[] = {ca_.get()};
    return VerifyCertificate(leaf, roots, at);
  }

  const absl::Time ca_not_after_ = kNow + absl::Hours(24 * 30);
  FakeClock clock_;
  SslPtr<EVP_PKEY> ca_key_;
  SslPtr<X509> ca_;
};

TEST_F(SvidMinterTest, GoodP256CsrYieldsAnSvidThatVerifiesAgainstTheCa) {
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP256)));
  ASSERT_TRUE(svid.ok()) << svid.status();
  SslPtr<X509> leaf = Leaf(*svid);

  EXPECT_TRUE(Verify(leaf.get(), kNow).ok()) << Verify(leaf.get(), kNow);
  EXPECT_EQ(svid->spiffe_id, kId);
  EXPECT_THAT(*CertificateUriSans(leaf.get()), ElementsAre(kId));
  EXPECT_THAT(*CertificateDnsSans(leaf.get()), IsEmpty());
  EXPECT_EQ(CertificateSubject(leaf.get()), "");
  // The SAN is critical because the subject is empty (RFC 5280 4.2.1.6).
  int san = X509_get_ext_by_NID(leaf.get(), NID_subject_alt_name, -1);
  ASSERT_GE(san, 0);
  EXPECT_EQ(X509_get_ext_by_NID(leaf.get(), NID_subject_alt_name, san), -1);  // exactly one
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf.get(), san)), 1);

  // keyUsage: digitalSignature only, critical.
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  int ku = X509_get_ext_by_NID(leaf.get(), NID_key_usage, -1);
  ASSERT_GE(ku, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf.get(), ku)), 1);

  // basicConstraints present, cA=false, critical.
  EXPECT_NE(X509_get_extension_flags(leaf.get()) & EXFLAG_BCONS, 0u);
  EXPECT_EQ(X509_get_extension_flags(leaf.get()) & EXFLAG_CA, 0u);
  int bc = X509_get_ext_by_NID(leaf.get(), NID_basic_constraints, -1);
  ASSERT_GE(bc, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf.get(), bc)), 1);

  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));

  // Serial: positive, at least 64 bits (RandomSerial gives 127).
  const ASN1_INTEGER* serial = X509_get0_serialNumber(leaf.get());
  EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);
  EXPECT_GE(ASN1_STRING_length(serial), 8);
  EXPECT_EQ(svid->serial_hex.size(), 2u * ASN1_STRING_length(serial));

  EXPECT_EQ(*CertificateNotBefore(leaf.get()), kNow - absl::Seconds(30));
  EXPECT_EQ(*CertificateNotAfter(leaf.get()), kNow + absl::Hours(1));
  EXPECT_EQ(svid->not_before, kNow - absl::Seconds(30));
  EXPECT_EQ(svid->not_after, kNow + absl::Hours(1));
  EXPECT_FALSE(svid->lifetime_clamped);

  EXPECT_EQ(svid->sha256_fingerprint_hex, Sha256Hex(svid->certificate_der));
  EXPECT_EQ(*CertificateToPem(leaf.get()), svid->certificate_pem);
}

TEST_F(SvidMinterTest, ValidityIsBackdatedAndEndsAtNowPlusLifetime) {
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP256)));
  ASSERT_TRUE(svid.ok()) << svid.status();
  SslPtr<X509> leaf = Leaf(*svid);
  EXPECT_TRUE(Verify(leaf.get(), kNow - absl::Seconds(30)).ok());
  EXPECT_FALSE(Verify(leaf.get(), kNow - absl::Seconds(31)).ok());
  // OpenSSL treats notAfter as exclusive (verify.h).
  EXPECT_TRUE(Verify(leaf.get(), kNow + absl::Hours(1) - absl::Seconds(1)).ok());
  EXPECT_FALSE(Verify(leaf.get(), kNow + absl::Hours(1)).ok());
}

TEST_F(SvidMinterTest, BackdateIsConfigurable) {
  SvidMinterOptions options;
  options.backdate = absl::ZeroDuration();
  auto svid = Minter(options)->Mint(Request(Csr(KeySpec::kEcP256)));
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(*CertificateNotBefore(Leaf(*svid).get()), kNow);
}

TEST_F(SvidMinterTest, FractionalNowIsTruncatedToWholeSeconds) {
  clock_.Set(kNow + absl::Milliseconds(900));
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP256)));
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(svid->not_after, kNow + absl::Hours(1));
  EXPECT_EQ(*CertificateNotAfter(Leaf(*svid).get()), svid->not_after);
}

TEST_F(SvidMinterTest, LifetimePastTheCaExpiryIsClampedToIt) {
  SvidRequest request = Request(Csr(KeySpec::kEcP256));
  request.lifetime = absl::Hours(24 * 60);
  auto svid = Minter()->Mint(request);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_TRUE(svid->lifetime_clamped);
  EXPECT_EQ(svid->not_after, ca_not_after_);
  SslPtr<X509> leaf = Leaf(*svid);
  EXPECT_EQ(*CertificateNotAfter(leaf.get()), ca_not_after_);
  EXPECT_TRUE(Verify(leaf.get(), ca_not_after_ - absl::Seconds(1)).ok());
}

TEST_F(SvidMinterTest, InfiniteLifetimeIsClampedToTheCaExpiry) {
  SvidRequest request = Request(Csr(KeySpec::kEcP256));
  request.lifetime = absl::InfiniteDuration();
  auto svid = Minter()->Mint(request);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_TRUE(svid->lifetime_clamped);
  EXPECT_EQ(svid->not_after, ca_not_after_);
}

TEST_F(SvidMinterTest, LifetimeEndingExactlyAtTheCaExpiryIsNotClamped) {
  SvidRequest request = Request(Csr(KeySpec::kEcP256));
  request.lifetime = ca_not_after_ - kNow;
  auto svid = Minter()->Mint(request);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_FALSE(svid->lifetime_clamped);
  EXPECT_EQ(svid->not_after, ca_not_after_);

  request.lifetime += absl::Seconds(1);
  svid = Minter()->Mint(request);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_TRUE(svid->lifetime_clamped);
  EXPECT_EQ(svid->not_after, ca_not_after_);
}

TEST_F(SvidMinterTest, RefusesWhenTheCaHasExpired) {
  std::unique_ptr<SvidMinter> minter = Minter();
  clock_.Set(ca_not_after_);
  auto svid = minter->Mint(Request(Csr(KeySpec::kEcP256)));
  EXPECT_EQ(svid.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(svid.status().message(), HasSubstr("expired"));
}

TEST_F(SvidMinterTest, RefusesLifetimeUnderOneSecond) {
  SvidRequest request = Request(Csr(KeySpec::kEcP256));
  request.lifetime = absl::Milliseconds(999);
  EXPECT_EQ(Minter()->Mint(request).status().code(), absl::StatusCode::kInvalidArgument);
  request.lifetime = absl::Seconds(1);
  EXPECT_TRUE(Minter()->Mint(request).ok());
}

class SvidMinterKeyTest : public SvidMinterTest, public ::testing::WithParamInterface<KeySpec> {};

TEST_P(SvidMinterKeyTest, AcceptsCsrKey) {
  auto svid = Minter()->Mint(Request(Csr(GetParam())));
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_TRUE(Verify(Leaf(*svid).get(), kNow).ok());
}

INSTANTIATE_TEST_SUITE_P(Accepted, SvidMinterKeyTest,
                         ::testing::Values(KeySpec::kEcP256, KeySpec::kEcP384, KeySpec::kEd25519,
                                           KeySpec::kRsa2048, KeySpec::kRsa4096));

TEST_F(SvidMinterTest, RefusesP521CsrNamingTheKey) {
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP521)));
  EXPECT_EQ(svid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(svid.status().message(), HasSubstr("P-521"));
}

TEST_F(SvidMinterTest, RefusesRsa1024CsrNamingTheKey) {
  // CertificateRequest::CreateDer refuses RSA 1024, so build it by hand.
  SslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  ASSERT_NE(key, nullptr);
  SslPtr<X509_REQ> req(X509_REQ_new());
  ASSERT_EQ(X509_REQ_set_version(req.get(), X509_REQ_VERSION_1), 1);
  ASSERT_EQ(X509_REQ_set_pubkey(req.get(), key.get()), 1);
  ASSERT_GT(X509_REQ_sign(req.get(), key.get(), EVP_sha256()), 0);
  int len = i2d_X509_REQ(req.get(), nullptr);
  ASSERT_GT(len, 0);
  std::string der(len, '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(der.data());
  ASSERT_EQ(i2d_X509_REQ(req.get(), &p), len);

  auto svid = Minter()->Mint(Request(der));
  EXPECT_EQ(svid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(svid.status().message(), HasSubstr("RSA 1024"));
}

TEST_F(SvidMinterTest, AcceptsDerCsr) {
  auto key = GenerateKey(KeySpec::kEcP256);
  auto der = CertificateRequest::CreateDer(key->get(), {});
  ASSERT_TRUE(der.ok());
  EXPECT_TRUE(Minter()->Mint(Request(*der)).ok());
}

TEST_F(SvidMinterTest, RefusesCsrWithTamperedSignature) {
  auto key = GenerateKey(KeySpec::kEcP256);
  auto der = CertificateRequest::CreateDer(key->get(), {});
  ASSERT_TRUE(der.ok());
  // The last byte is the last byte of the ECDSA s value: still well-formed.
  der->back() ^= 0x01;
  ASSERT_TRUE(CertificateRequest::ParseDer(*der).ok());
  auto svid = Minter()->Mint(Request(*der));
  EXPECT_EQ(svid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(svid.status().message(), HasSubstr("proof of possession"));
}

TEST_F(SvidMinterTest, RefusesGarbageCsr) {
  EXPECT_EQ(Minter()->Mint(Request("not a csr")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Minter()->Mint(Request("")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SvidMinterTest, AcceptsCsrAskingForTheGrantedId) {
  CertificateRequestTemplate tmpl;
  tmpl.uri_sans = {kId};
  tmpl.common_name = "ignored";
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP256, tmpl)));
  ASSERT_TRUE(svid.ok()) << svid.status();
  SslPtr<X509> leaf = Leaf(*svid);
  EXPECT_THAT(*CertificateUriSans(leaf.get()), ElementsAre(kId));
  EXPECT_EQ(CertificateSubject(leaf.get()), "");  // the CSR's subject is not copied
}

TEST_F(SvidMinterTest, RefusesCsrAskingForAnotherUriSan) {
  CertificateRequestTemplate tmpl;
  tmpl.uri_sans = {kId, "spiffe://acme.example/ns/prod/sa/admin"};
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP256, tmpl)));
  EXPECT_EQ(svid.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(svid.status().message(), HasSubstr("spiffe://acme.example/ns/prod/sa/admin"));
}

TEST_F(SvidMinterTest, RefusesCsrAskingForADnsSan) {
  CertificateRequestTemplate tmpl;
  tmpl.dns_sans = {"web.acme.example"};
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP256, tmpl)));
  EXPECT_EQ(svid.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(svid.status().message(), HasSubstr("web.acme.example"));
}

TEST_F(SvidMinterTest, RefusesCsrAskingForAnIpOrEmailSan) {
  // CertificateRequest::CreatePem makes only URI/DNS SANs; the openssl CLI
  // makes the others.
  const std::string dir = ::testing::TempDir();
  for (const char* san : {"IP:10.0.0.1", "email:web@acme.example"}) {
    const std::string csr = dir + "/svid_test_other_san.csr";
    const std::string log = dir + "/svid_test_other_san.log";
    std::string cmd =
        absl::StrCat("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ",
                     dir, "/svid_test_other_san.key -subj / -addext 'subjectAltName=URI:", kId, ",",
                     san, "' -out ", csr, " > ", log, " 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << ReadFile(log);
    auto svid = Minter()->Mint(Request(ReadFile(csr)));
    EXPECT_EQ(svid.status().code(), absl::StatusCode::kPermissionDenied) << san;
    EXPECT_THAT(svid.status().message(), HasSubstr("non-URI SAN")) << san;
  }
}

TEST_F(SvidMinterTest, MintsConcurrentlyWithDistinctSerials) {
  std::unique_ptr<SvidMinter> minter = Minter();
  std::vector<std::string> csrs;
  for (int i = 0; i < 8; ++i) csrs.push_back(Csr(KeySpec::kEcP256));
  std::vector<absl::StatusOr<MintedSvid>> results(csrs.size(), absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < csrs.size(); i += 2) results[i] = minter->Mint(Request(csrs[i]));
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> serials;
  for (const auto& svid : results) {
    ASSERT_TRUE(svid.ok()) << svid.status();
    EXPECT_TRUE(Verify(Leaf(*svid).get(), kNow).ok());
    serials.insert(svid->serial_hex);
  }
  EXPECT_EQ(serials.size(), csrs.size());
}

TEST_F(SvidMinterTest, RefusesInvalidSpiffeId) {
  for (const char* bad : {"spiffe://Acme.example/x", "spiffe://acme.example/", "https://a/b",
                          "spiffe://acme.example/a/../b", ""}) {
    SvidRequest request = Request(Csr(KeySpec::kEcP256));
    request.spiffe_id = bad;
    auto svid = Minter()->Mint(request);
    EXPECT_EQ(svid.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(svid.status().message(), HasSubstr("SPIFFE ID")) << bad;
  }
}

// The expected DER of {{"repository","acme/app"},{"run_id","42"}}.
std::string ExpectedFactsDer() {
  std::string pair1 =
      std::string("\x0c\x0a", 2) + "repository" + std::string("\x0c\x08", 2) + "acme/app";
  std::string pair2 = std::string("\x0c\x06", 2) + "run_id" + std::string("\x0c\x02", 2) + "42";
  std::string body = std::string(1, '\x30') + char(pair1.size()) + pair1 + std::string(1, '\x30') +
                     char(pair2.size()) + pair2;
  return std::string(1, '\x30') + char(body.size()) + body;
}

TEST(EncodeAttestedFactsTest, EncodesSequenceOfNameValueUtf8Strings) {
  auto der = EncodeAttestedFacts({{"repository", "acme/app"}, {"run_id", "42"}});
  ASSERT_TRUE(der.ok()) << der.status();
  EXPECT_EQ(*der, ExpectedFactsDer());
  EXPECT_EQ(*EncodeAttestedFacts({}), std::string("\x30\x00", 2));
}

TEST(EncodeAttestedFactsTest, UsesLongFormLengths) {
  auto der = EncodeAttestedFacts({{"n", std::string(300, 'v')}});
  ASSERT_TRUE(der.ok());
  // value: 0c 82 01 2c; pair: 30 82 01 33; outer: 30 82 01 37.
  EXPECT_EQ(der->substr(0, 4), std::string("\x30\x82\x01\x37", 4));
  EXPECT_EQ(der->substr(4, 4), std::string("\x30\x82\x01\x33", 4));
  EXPECT_EQ(der->size(), 4u + 0x137);
}

TEST(EncodeAttestedFactsTest, RefusesEmptyNameAndInvalidUtf8) {
  EXPECT_FALSE(EncodeAttestedFacts({{"", "x"}}).ok());
  EXPECT_FALSE(EncodeAttestedFacts({{"\xff", "x"}}).ok());
  EXPECT_FALSE(EncodeAttestedFacts({{"n", "\xc3"}}).ok());          // truncated
  EXPECT_FALSE(EncodeAttestedFacts({{"n", "\xc0\xaf"}}).ok());      // overlong
  EXPECT_FALSE(EncodeAttestedFacts({{"n", "\xed\xa0\x80"}}).ok());  // surrogate
  EXPECT_TRUE(EncodeAttestedFacts({{"n", "caf\xc3\xa9 \xf0\x9f\x94\x91"}}).ok());
}

TEST_F(SvidMinterTest, FactsExtensionIsPresentNonCriticalAndDecodes) {
  SvidMinterOptions options;
  options.facts_extension_oid = kFactsOid;
  auto svid = Minter(options)->Mint(Request(Csr(KeySpec::kEcP256)));
  ASSERT_TRUE(svid.ok()) << svid.status();
  SslPtr<X509> leaf = Leaf(*svid);
  // Re-signed after adding the extension: still verifies.
  EXPECT_TRUE(Verify(leaf.get(), kNow).ok()) << Verify(leaf.get(), kNow);

  SslPtr<ASN1_OBJECT> oid(OBJ_txt2obj(kFactsOid, 1));
  int index = X509_get_ext_by_OBJ(leaf.get(), oid.get(), -1);
  ASSERT_GE(index, 0);
  EXPECT_EQ(X509_get_ext_by_OBJ(leaf.get(), oid.get(), index), -1);
  X509_EXTENSION* ext = X509_get_ext(leaf.get(), index);
  EXPECT_EQ(X509_EXTENSION_get_critical(ext), 0);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                    ASN1_STRING_length(data));
  EXPECT_EQ(value, ExpectedFactsDer());
  // The rest of the profile is unchanged.
  EXPECT_THAT(*CertificateUriSans(leaf.get()), ElementsAre(kId));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
}

TEST_F(SvidMinterTest, FactsExtensionWorksWithEd25519AndP384Cas) {
  for (KeySpec spec : {KeySpec::kEd25519, KeySpec::kEcP384, KeySpec::kRsa2048}) {
    ca_key_ = *GenerateKey(spec);
    CertificateTemplate tmpl;
    tmpl.subject_common_name = "Writ test CA";
    tmpl.not_before = kNow - absl::Hours(1);
    tmpl.not_after = ca_not_after_;
    tmpl.serial = *RandomSerial();
    tmpl.is_ca = true;
    tmpl.key_usage.key_cert_sign = true;
    ca_ = *IssueCertificate(tmpl, ca_key_.get(), nullptr, ca_key_.get());
    SvidMinterOptions options;
    options.facts_extension_oid = kFactsOid;
    auto svid = Minter(options)->Mint(Request(Csr(KeySpec::kEcP256)));
    ASSERT_TRUE(svid.ok()) << svid.status();
    EXPECT_TRUE(Verify(Leaf(*svid).get(), kNow).ok()) << KeyDescription(ca_key_.get());
  }
}

TEST_F(SvidMinterTest, FactsExtensionAbsentWithoutOidOrFacts) {
  SslPtr<ASN1_OBJECT> oid(OBJ_txt2obj(kFactsOid, 1));
  auto svid = Minter()->Mint(Request(Csr(KeySpec::kEcP256)));
  ASSERT_TRUE(svid.ok());
  EXPECT_EQ(X509_get_ext_by_OBJ(Leaf(*svid).get(), oid.get(), -1), -1);

  SvidMinterOptions options;
  options.facts_extension_oid = kFactsOid;
  SvidRequest request = Request(Csr(KeySpec::kEcP256));
  request.facts.clear();
  svid = Minter(options)->Mint(request);
  ASSERT_TRUE(svid.ok());
  EXPECT_EQ(X509_get_ext_by_OBJ(Leaf(*svid).get(), oid.get(), -1), -1);
}

TEST_F(SvidMinterTest, RefusesBadFactWhenTheExtensionIsOn) {
  SvidMinterOptions options;
  options.facts_extension_oid = kFactsOid;
  SvidRequest request = Request(Csr(KeySpec::kEcP256));
  request.facts = {{"", "x"}};
  EXPECT_EQ(Minter(options)->Mint(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SvidMinterTest, NewRefusesBadConfiguration) {
  auto make = [&](SslPtr<X509> cert, SslPtr<EVP_PKEY> key, SvidMinterOptions options) {
    return SvidMinter::New(std::move(cert), std::move(key), &clock_, options).status();
  };
  SvidMinterOptions ok;
  EXPECT_EQ(make(nullptr, Ref(ca_key_.get()), ok).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(make(Ref(ca_.get()), nullptr, ok).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SvidMinter::New(Ref(ca_.get()), Ref(ca_key_.get()), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A key that is not the CA's.
  EXPECT_THAT(make(Ref(ca_.get()), *GenerateKey(KeySpec::kEcP256), ok).message(),
              HasSubstr("does not match"));
  // A certificate that is not a CA, with its own key.
  SslPtr<EVP_PKEY> leaf_key = *GenerateKey(KeySpec::kEcP256);
  CertificateTemplate tmpl;
  tmpl.subject_common_name = "not a CA";
  tmpl.not_before = kNow;
  tmpl.not_after = kNow + absl::Hours(1);
  tmpl.serial = *RandomSerial();
  tmpl.key_usage.digital_signature = true;
  auto leaf = IssueCertificate(tmpl, leaf_key.get(), nullptr, leaf_key.get());
  ASSERT_TRUE(leaf.ok()) << leaf.status();
  EXPECT_THAT(make(*std::move(leaf), std::move(leaf_key), ok).message(), HasSubstr("not a CA"));

  for (const char* oid : {"abc", "1.3.6.1.4.1.x", "2.5.29.17", "1..2", ".", "1", "1.2.", ".1.2",
                          "3.1", "1.2 ", "-1.2"}) {
    SvidMinterOptions options;
    options.facts_extension_oid = oid;
    EXPECT_EQ(make(Ref(ca_.get()), Ref(ca_key_.get()), options).code(),
              absl::StatusCode::kInvalidArgument)
        << oid;
  }
  // Arcs of 2^31 and more (a 2.25 UUID arc) break Go's and Python's parsers.
  for (const char* oid : {"2.25.219598111397571597917930807101480163434.1",
                          "1.3.6.1.4.1.2147483648", "1.3.6.1.4.1.99999999999"}) {
    SvidMinterOptions options;
    options.facts_extension_oid = oid;
    EXPECT_THAT(make(Ref(ca_.get()), Ref(ca_key_.get()), options).message(), HasSubstr("2^31"))
        << oid;
  }
  SvidMinterOptions largest;
  largest.facts_extension_oid = "1.3.6.1.4.1.2147483647.1";
  EXPECT_TRUE(make(Ref(ca_.get()), Ref(ca_key_.get()), largest).ok());
  SvidMinterOptions negative;
  negative.backdate = absl::Seconds(-1);
  EXPECT_EQ(make(Ref(ca_.get()), Ref(ca_key_.get()), negative).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SvidMinterTest, OpensslCliVerifiesAndPrintsTheSvid) {
  SvidMinterOptions options;
  options.facts_extension_oid = kFactsOid;
  auto svid = Minter(options)->Mint(Request(Csr(KeySpec::kEcP256)));
  ASSERT_TRUE(svid.ok()) << svid.status();
  const std::string dir = ::testing::TempDir();
  const std::string ca = dir + "/svid_test_ca.pem";
  const std::string leaf = dir + "/svid_test_leaf.pem";
  const std::string text = dir + "/svid_test_leaf.txt";
  WriteFile(ca, *CertificateToPem(ca_.get()));
  WriteFile(leaf, svid->certificate_pem);

  const std::string at = absl::StrCat(absl::ToUnixSeconds(kNow));
  for (const char* purpose : {"sslserver", "sslclient"}) {
    std::string cmd = absl::StrCat("openssl verify -x509_strict -attime ", at, " -purpose ",
                                   purpose, " -CAfile ", ca, " ", leaf, " > ", text, " 2>&1");
    EXPECT_EQ(std::system(cmd.c_str()), 0) << purpose << ": " << ReadFile(text);
  }
  // And it does not verify once expired.
  std::string expired =
      absl::StrCat("openssl verify -attime ", absl::ToUnixSeconds(kNow + absl::Hours(2)),
                   " -CAfile ", ca, " ", leaf, " > ", text, " 2>&1");
  EXPECT_NE(std::system(expired.c_str()), 0);

  std::string print = absl::StrCat("openssl x509 -noout -text -in ", leaf, " > ", text, " 2>&1");
  ASSERT_EQ(std::system(print.c_str()), 0) << ReadFile(text);
  const std::string out = ReadFile(text);
  EXPECT_THAT(out, HasSubstr(absl::StrCat("URI:", kId)));
  EXPECT_THAT(out, HasSubstr("X509v3 Key Usage: critical\n                Digital Signature\n"));
  EXPECT_THAT(out, HasSubstr("X509v3 Basic Constraints: critical\n                CA:FALSE"));
  EXPECT_THAT(out, HasSubstr("TLS Web Server Authentication, TLS Web Client Authentication"));
  EXPECT_THAT(out, HasSubstr(absl::StrCat(kFactsOid, ": \n")));  // present, not critical
  EXPECT_THAT(out, HasSubstr("repository"));
}

}  // namespace
}  // namespace writ::issuer

// FileKeyManager in intermediate mode: Writ's CA keys are certified by the
// operator's root, through CSRs Writ writes and certificates the operator
// places next to them.
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/keys/file_key_manager.h"
#include "issuer/src/keys/key_test_util.h"
#include "tests/testing/status_test_util.h"
#include "writ/jose/jws.h"
#include "writ/x509/certificate_request.h"
#include "writ/x509/verify.h"

namespace writ::issuer {
namespace {

using testing::IssueLeaf;
using testing::KeyDirTest;
using testing::StartTime;

// TestCa is a CA made in the test: the operator's root (or an intermediate).
struct TestCa {
  SslPtr<EVP_PKEY> key;
  SslPtr<X509> cert;
};

absl::StatusOr<TestCa> MakeCa(const std::string& name, const TestCa* issuer, int path_length) {
  TestCa ca;
  auto key = GenerateKey(KeySpec::kEcP256);
  if (!key.ok()) return key.status();
  ca.key = *std::move(key);
  CertificateTemplate tmpl;
  tmpl.subject_common_name = name;
  tmpl.not_before = StartTime() - absl::Hours(24);
  tmpl.not_after = StartTime() + absl::Hours(24 * 365);
  auto serial = RandomSerial();
  if (!serial.ok()) return serial.status();
  tmpl.serial = *serial;
  tmpl.is_ca = true;
  tmpl.path_length = path_length;
  tmpl.key_usage.key_cert_sign = true;
  tmpl.key_usage.crl_sign = true;
  auto cert = IssueCertificate(tmpl, ca.key.get(), issuer ? issuer->cert.get() : nullptr,
                               issuer ? issuer->key.get() : ca.key.get());
  if (!cert.ok()) return cert.status();
  ca.cert = *std::move(cert);
  return ca;
}

class IntermediateCaTest : public KeyDirTest {
 protected:
  void SetUp() override {
    KeyDirTest::SetUp();
    options_.enable_ssh = false;
    options_.x509_mode = X509CaMode::kIntermediate;
    options_.root_bundle_file = root_ + "/roots.pem";
    auto root = MakeCa("Operator Root", nullptr, 2);
    ASSERT_TRUE(root.ok()) << root.status();
    root_ca_ = *std::move(root);
    auto pem = CertificateToPem(root_ca_.cert.get());
    ASSERT_TRUE(pem.ok());
    Write(options_.root_bundle_file, *pem, 0644);
  }

  // Sign signs the CSR at `csr_path` with `issuer` as the operator would,
  // returning the PEM certificate.
  absl::StatusOr<std::string> Sign(const std::string& csr_path, const TestCa& issuer,
                                   bool is_ca = true) {
    auto csr = CertificateRequest::ParsePem(Read(csr_path));
    if (!csr.ok()) return csr.status();
    if (absl::Status s = csr->VerifySignature(); !s.ok()) return s;
    CertificateTemplate tmpl;
    tmpl.subject_common_name = csr->common_name();
    tmpl.uri_sans = csr->uri_sans();
    tmpl.not_before = clock_.Now() - absl::Minutes(1);
    tmpl.not_after = clock_.Now() + absl::Hours(24 * 30);
    auto serial = RandomSerial();
    if (!serial.ok()) return serial.status();
    tmpl.serial = *serial;
    tmpl.is_ca = is_ca;
    if (is_ca) {
      tmpl.path_length = 0;
      tmpl.key_usage.key_cert_sign = true;
      tmpl.key_usage.crl_sign = true;
    } else {
      tmpl.key_usage.digital_signature = true;
    }
    auto cert = IssueCertificate(tmpl, csr->public_key(), issuer.cert.get(), issuer.key.get());
    if (!cert.ok()) return cert.status();
    return CertificateToPem(cert->get());
  }

  static std::string CrtPath(const KeyInfo& k) {
    return k.path.substr(0, k.path.size() - 4) + ".crt";
  }

  TestCa root_ca_;
};

TEST_F(IntermediateCaTest, FirstOpenWritesCsrsAndHasNoActiveCaUntilACertificateIsPlaced) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  const KeyInfo prepared = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared);
  for (const KeyInfo& k : {active, prepared}) {
    EXPECT_FALSE(k.has_certificate);
    EXPECT_EQ(k.csr_path, dir_ + "/x509-ca-" + k.id + ".csr");
    ASSERT_OK_AND_ASSIGN(CertificateRequest csr, CertificateRequest::ParsePem(Read(k.csr_path)));
    EXPECT_OK(csr.VerifySignature());
    EXPECT_EQ(csr.common_name(), "Writ CA " + k.id);
    EXPECT_EQ(csr.uri_sans(), std::vector<std::string>{"spiffe://acme.example"});
    EXPECT_FALSE(Exists(CrtPath(k)));
  }
  // What is published is the operator's root, certificates or not.
  ASSERT_OK_AND_ASSIGN(std::string root_der, CertificateToDer(root_ca_.cert.get()));
  EXPECT_EQ(km->Bundle()->x509_authorities_der, std::vector<std::string>{root_der});
  // Reload without a certificate changes nothing.
  EXPECT_OK(km->Reload());
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);

  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(active.csr_path, root_ca_));
  Write(CrtPath(active), crt, 0644);
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);  // not before a Reload
  ASSERT_OK(km->Reload());
  std::shared_ptr<const X509Authority> ca = km->ActiveX509Ca();
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(ca->id, active.id);
  EXPECT_TRUE(ca->chain.empty());
  const KeyInfo now_active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  EXPECT_TRUE(now_active.has_certificate);
  EXPECT_TRUE(now_active.csr_path.empty());
  EXPECT_EQ(now_active.not_after, clock_.Now() + absl::Hours(24 * 30));
  EXPECT_EQ(km->Bundle()->sequence, 1u);  // the bundle (the root) did not change

  // What it signs chains to the root.
  ASSERT_OK_AND_ASSIGN(SslPtr<X509> leaf, IssueLeaf(*ca, clock_.Now(), absl::Minutes(5)));
  const X509* roots[] = {root_ca_.cert.get()};
  const X509* intermediates[] = {ca->certificate.get()};
  EXPECT_OK(VerifyCertificate(leaf.get(), intermediates, roots, clock_.Now()));

  // A reopen loads the certificate at once.
  km.reset();
  ASSERT_OK_AND_ASSIGN(km, Open());
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  EXPECT_EQ(km->ActiveX509Ca()->id, active.id);
}

TEST_F(IntermediateCaTest, APreparedKeyWithoutCertificateCannotBecomeActive) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo prepared = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared);
  clock_.Advance(options_.publish_lead);
  for (bool force : {false, true}) {
    auto rotated = km->Rotate(KeyPurpose::kX509Ca, {.force = force});
    ASSERT_FALSE(rotated.ok());
    EXPECT_EQ(rotated.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(rotated.status().message(), prepared.csr_path))
        << rotated.status();
  }
  // RotateDue says the same when the ring is due, after its other work.
  clock_.Set(StartTime() + options_.rotate_after);
  auto due = km->RotateDue();
  ASSERT_FALSE(due.ok());
  EXPECT_EQ(due.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(due.status().message(), prepared.csr_path)) << due.status();
  EXPECT_EQ(km->Bundle()->sequence, 2u);  // the JWT ring rotated all the same

  // Once its certificate is placed, RotateDue picks it up and rotates.
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(prepared.csr_path, root_ca_));
  Write(CrtPath(prepared), crt, 0644);
  ASSERT_OK_AND_ASSIGN(std::vector<KeyPurpose> rotated, km->RotateDue());
  EXPECT_EQ(rotated, std::vector<KeyPurpose>{KeyPurpose::kX509Ca});
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  EXPECT_EQ(km->ActiveX509Ca()->id, prepared.id);
  // The new prepared key has its CSR waiting.
  const KeyInfo next = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared);
  EXPECT_FALSE(next.has_certificate);
  EXPECT_TRUE(Exists(next.csr_path));
}

TEST_F(IntermediateCaTest, RefusesACertificateForAnotherKey) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  const KeyInfo prepared = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared);
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(prepared.csr_path, root_ca_));
  Write(CrtPath(active), crt, 0644);
  absl::Status reloaded = km->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(reloaded.message(), CrtPath(active))) << reloaded;
  EXPECT_TRUE(absl::StrContains(reloaded.message(), "certifies another key")) << reloaded;
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);
  // A restart does not fail for it: X.509 alone waits, JWTs are signed, and
  // Reload names the refused certificate again.
  km.reset();
  ASSERT_OK_AND_ASSIGN(km, Open());
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);
  EXPECT_OK(SignCompactJws(*km->JwtSigner(), "at+jwt", R"({"sub":"x"})").status());
  const KeyInfo listed = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  EXPECT_EQ(listed.id, active.id);
  EXPECT_FALSE(listed.has_certificate);
  EXPECT_EQ(listed.csr_path, active.csr_path);
  reloaded = km->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(reloaded.message(), "certifies another key")) << reloaded;
  // The right certificate replacing it brings X.509 back.
  ASSERT_OK_AND_ASSIGN(crt, Sign(active.csr_path, root_ca_));
  Write(CrtPath(active), crt, 0644);
  ASSERT_OK(km->Reload());
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  EXPECT_EQ(km->ActiveX509Ca()->id, active.id);
}

TEST_F(IntermediateCaTest, AnExpiredActiveCertificateLeavesOnlyX509UnavailableUntilReplaced) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(active.csr_path, root_ca_));  // for 30 days
  Write(CrtPath(active), crt, 0644);
  ASSERT_OK(km->Reload());
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  km.reset();

  // The issuer was down until after the certificate's end.
  clock_.Advance(absl::Hours(24 * 31));
  ASSERT_OK_AND_ASSIGN(km, Open());
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);
  ASSERT_NE(km->JwtSigner(), nullptr);
  EXPECT_OK(SignCompactJws(*km->JwtSigner(), "at+jwt", R"({"sub":"x"})").status());
  const KeyInfo listed = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  EXPECT_EQ(listed.id, active.id);
  EXPECT_FALSE(listed.has_certificate);
  EXPECT_EQ(listed.csr_path, active.csr_path);
  EXPECT_TRUE(Exists(active.csr_path));
  absl::Status reloaded = km->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(reloaded.message(), CrtPath(active))) << reloaded;
  EXPECT_TRUE(absl::StrContains(reloaded.message(), "expired")) << reloaded;
  // The schedule says so too.
  auto due = km->RotateDue();
  ASSERT_FALSE(due.ok());
  EXPECT_TRUE(absl::StrContains(due.status().message(), CrtPath(active))) << due.status();
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);

  // A fresh certificate for the same key brings X.509 back at the next rescan.
  ASSERT_OK_AND_ASSIGN(crt, Sign(active.csr_path, root_ca_));
  Write(CrtPath(active), crt, 0644);
  ASSERT_OK(km->Reload());
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  EXPECT_EQ(km->ActiveX509Ca()->id, active.id);
  EXPECT_TRUE(Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive).has_certificate);
}

TEST_F(IntermediateCaTest, AnActiveKeyWithoutAUsableCertificateGivesWayToAPreparedOneWithOne) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  const KeyInfo prepared = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared);
  ASSERT_OK_AND_ASSIGN(TestCa stranger, MakeCa("Someone Else's Root", nullptr, 2));
  ASSERT_OK_AND_ASSIGN(std::string bad, Sign(active.csr_path, stranger));
  Write(CrtPath(active), bad, 0644);
  km.reset();
  ASSERT_OK_AND_ASSIGN(km, Open());  // refused, but not fatal
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);

  // The prepared key's certificate is placed: RotateDue makes it active,
  // long before the active key is due by age.
  clock_.Advance(options_.publish_lead);
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(prepared.csr_path, root_ca_));
  Write(CrtPath(prepared), crt, 0644);
  auto due = km->RotateDue();
  EXPECT_EQ(due.status().code(), absl::StatusCode::kFailedPrecondition);  // the refused one
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  EXPECT_EQ(km->ActiveX509Ca()->id, prepared.id);
  EXPECT_EQ(Find(km->List(), KeyPurpose::kJwt, KeyState::kActive).activated_at, StartTime());
}

TEST_F(IntermediateCaTest, RotatePicksUpAJustPlacedCertificateOfThePreparedKey) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo prepared = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared);
  clock_.Advance(options_.publish_lead);
  // A refused certificate: the rotation says why, not just "no certificate".
  ASSERT_OK_AND_ASSIGN(TestCa stranger, MakeCa("Someone Else's Root", nullptr, 2));
  ASSERT_OK_AND_ASSIGN(std::string bad, Sign(prepared.csr_path, stranger));
  Write(CrtPath(prepared), bad, 0644);
  auto rotated = km->Rotate(KeyPurpose::kX509Ca, {});
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(rotated.status().message(), "does not chain")) << rotated.status();
  EXPECT_TRUE(absl::StrContains(rotated.status().message(), prepared.csr_path)) << rotated.status();

  // The right one, placed just now: no Reload or schedule tick needed.
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(prepared.csr_path, root_ca_));
  Write(CrtPath(prepared), crt, 0644);
  ASSERT_OK_AND_ASSIGN(std::vector<KeyInfo> ring, km->Rotate(KeyPurpose::kX509Ca, {}));
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  EXPECT_EQ(km->ActiveX509Ca()->id, prepared.id);
}

// Renewal builds a presented SVID's path from PublishedX509Cas: the active
// CA and a retired one whose SVIDs may still be valid, never a key without a
// certificate; a retired CA leaves it when it is dropped.
TEST_F(IntermediateCaTest, PublishedCasAreTheCertifiedKeysUntilDropped) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo first = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  const KeyInfo next = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared);
  EXPECT_TRUE(km->PublishedX509Cas().empty());
  for (const KeyInfo& k : {first, next}) {
    ASSERT_OK_AND_ASSIGN(std::string crt, Sign(k.csr_path, root_ca_));
    Write(CrtPath(k), crt, 0644);
  }
  ASSERT_OK(km->Reload());
  auto ids = [&] {
    std::vector<std::string> out;
    for (const auto& ca : km->PublishedX509Cas()) {
      EXPECT_NE(ca->certificate, nullptr);
      out.push_back(ca->id);
    }
    return out;
  };
  EXPECT_THAT(ids(), ::testing::UnorderedElementsAre(first.id, next.id));
  clock_.Advance(options_.publish_lead);
  ASSERT_OK_AND_ASSIGN(std::vector<KeyInfo> ring, km->Rotate(KeyPurpose::kX509Ca, {}));
  // The new prepared key waits for its certificate and is not there.
  EXPECT_THAT(ids(), ::testing::UnorderedElementsAre(first.id, next.id));
  const KeyInfo retired = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kRetired);
  EXPECT_EQ(retired.id, first.id);
  clock_.Set(retired.publish_until + absl::Seconds(1));
  (void)km->RotateDue();  // may say the new prepared key has no certificate
  EXPECT_EQ(ids(), std::vector<std::string>{next.id});
}

TEST_F(IntermediateCaTest, RefusesACertificateThatDoesNotChainToTheRoot) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  ASSERT_OK_AND_ASSIGN(TestCa stranger, MakeCa("Someone Else's Root", nullptr, 2));
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(active.csr_path, stranger));
  Write(CrtPath(active), crt, 0644);
  absl::Status reloaded = km->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(reloaded.message(), "does not chain")) << reloaded;
  EXPECT_TRUE(absl::StrContains(reloaded.message(), CrtPath(active))) << reloaded;
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);
}

TEST_F(IntermediateCaTest, RefusesACertificateThatIsNotACa) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(active.csr_path, root_ca_, /*is_ca=*/false));
  Write(CrtPath(active), crt, 0644);
  absl::Status reloaded = km->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(reloaded.message(), "not a CA certificate")) << reloaded;
  EXPECT_EQ(km->ActiveX509Ca(), nullptr);
}

TEST_F(IntermediateCaTest, RefusesACertificateNotYetValidByTheClock) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  clock_.Advance(absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(active.csr_path, root_ca_));  // from now - 1 min
  Write(CrtPath(active), crt, 0644);
  clock_.Advance(-absl::Hours(1));
  EXPECT_EQ(km->Reload().code(), absl::StatusCode::kFailedPrecondition);
  clock_.Advance(absl::Hours(1));
  EXPECT_OK(km->Reload());
  EXPECT_NE(km->ActiveX509Ca(), nullptr);
}

TEST_F(IntermediateCaTest, RefusesGarbageInTheCertificateFile) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  Write(CrtPath(active), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0644);
  absl::Status reloaded = km->Reload();
  EXPECT_EQ(reloaded.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(reloaded.message(), CrtPath(active))) << reloaded;
}

TEST_F(IntermediateCaTest, AChainAfterTheCertificateBecomesTheAuthoritysChain) {
  ASSERT_OK_AND_ASSIGN(TestCa middle, MakeCa("Operator Issuing CA", &root_ca_, 1));
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  const KeyInfo active = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive);
  ASSERT_OK_AND_ASSIGN(std::string crt, Sign(active.csr_path, middle));
  // Without the middle certificate the path cannot be built.
  Write(CrtPath(active), crt, 0644);
  EXPECT_EQ(km->Reload().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(std::string middle_pem, CertificateToPem(middle.cert.get()));
  Write(CrtPath(active), crt + middle_pem, 0644);
  ASSERT_OK(km->Reload());
  std::shared_ptr<const X509Authority> ca = km->ActiveX509Ca();
  ASSERT_NE(ca, nullptr);
  ASSERT_EQ(ca->chain.size(), 1u);
  EXPECT_EQ(X509_cmp(ca->chain[0].get(), middle.cert.get()), 0);
  ASSERT_OK_AND_ASSIGN(SslPtr<X509> leaf, IssueLeaf(*ca, clock_.Now(), absl::Minutes(5)));
  const X509* roots[] = {root_ca_.cert.get()};
  const X509* intermediates[] = {ca->certificate.get(), ca->chain[0].get()};
  EXPECT_OK(VerifyCertificate(leaf.get(), intermediates, roots, clock_.Now()));
}

TEST_F(IntermediateCaTest, RefusesABadRootBundle) {
  Write(options_.root_bundle_file, "no certificates here", 0644);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(km.status().message(), options_.root_bundle_file));

  // A leaf certificate is no root.
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEcP256));
  CertificateTemplate tmpl;
  tmpl.subject_common_name = "leaf";
  tmpl.not_before = StartTime();
  tmpl.not_after = StartTime() + absl::Hours(1);
  ASSERT_OK_AND_ASSIGN(tmpl.serial, RandomSerial());
  ASSERT_OK_AND_ASSIGN(SslPtr<X509> leaf, IssueCertificate(tmpl, key.get(), nullptr, key.get()));
  ASSERT_OK_AND_ASSIGN(std::string pem, CertificateToPem(leaf.get()));
  Write(options_.root_bundle_file, pem, 0644);
  km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_TRUE(absl::StrContains(km.status().message(), "not a CA certificate")) << km.status();

  std::remove(options_.root_bundle_file.c_str());
  km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(km.status().message(), options_.root_bundle_file));
}

}  // namespace
}  // namespace writ::issuer

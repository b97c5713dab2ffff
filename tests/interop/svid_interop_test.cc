// Interop: X.509-SVIDs signed by SvidMinter pass an independent check of the
// SPIFFE X509-SVID rules written with python3-cryptography
// (tests/interop/svid_check.py), and a tampered or mislabelled one does not.
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/mint/svid_minter.h"
#include "tests/testing/test_sshd.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"
#include "writ/x509/certificate_request.h"

#ifndef WRIT_PYTHON
#error "WRIT_PYTHON must name the interpreter"
#endif
#ifndef WRIT_SVID_CHECK_PY
#error "WRIT_SVID_CHECK_PY must name tests/interop/svid_check.py"
#endif

namespace writ::issuer {
namespace {

using ::testing::HasSubstr;

constexpr char kFactsOid[] = "1.3.6.1.4.1.99999.1";

// RunCheck runs svid_check.py with `args` (no shell) and returns how it ended.
test::ProcessResult RunCheck(std::vector<std::string> args) {
  args.insert(args.begin(), {WRIT_PYTHON, "-s", WRIT_SVID_CHECK_PY});
  absl::StatusOr<test::ProcessResult> r = test::RunProcess(args, absl::Seconds(60));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : test::ProcessResult{};
}

class SvidInteropTest : public ::testing::TestWithParam<KeySpec> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/writ-svid-interop-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf '", dir_, "'").c_str()); }

  std::string Write(const std::string& name, const std::string& data) {
    std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  // MintWith returns a CA (PEM, as bundle) and an SVID for a CSR of `spec`.
  void MintWith(KeySpec ca_spec, KeySpec csr_spec, std::string* bundle_pem, MintedSvid* svid) {
    auto ca_key = GenerateKey(ca_spec);
    ASSERT_TRUE(ca_key.ok()) << ca_key.status();
    const absl::Time now = Clock::Real().Now();
    CertificateTemplate tmpl;
    tmpl.subject_common_name = "Writ interop CA";
    tmpl.not_before = now - absl::Hours(1);
    tmpl.not_after = now + absl::Hours(24);
    tmpl.serial = *RandomSerial();
    tmpl.is_ca = true;
    tmpl.key_usage.key_cert_sign = true;
    tmpl.key_usage.crl_sign = true;
    auto ca = IssueCertificate(tmpl, ca_key->get(), nullptr, ca_key->get());
    ASSERT_TRUE(ca.ok()) << ca.status();
    *bundle_pem = *CertificateToPem(ca->get());

    SvidMinterOptions options;
    options.facts_extension_oid = kFactsOid;
    auto minter = SvidMinter::New(*std::move(ca), *std::move(ca_key), &Clock::Real(), options);
    ASSERT_TRUE(minter.ok()) << minter.status();
    auto csr_key = GenerateKey(csr_spec);
    ASSERT_TRUE(csr_key.ok()) << csr_key.status();
    auto csr = CertificateRequest::CreatePem(csr_key->get(), {});
    ASSERT_TRUE(csr.ok()) << csr.status();
    SvidRequest request;
    request.csr = *csr;
    request.spiffe_id = "spiffe://acme.example/github/acme/app";
    request.lifetime = absl::Minutes(10);
    request.facts = {{"repository", "acme/app"}, {"run_id", "4242"}};
    auto minted = (*minter)->Mint(request);
    ASSERT_TRUE(minted.ok()) << minted.status();
    *svid = *std::move(minted);
  }

  std::string dir_;
};

TEST_P(SvidInteropTest, PassesTheIndependentSpiffeCheck) {
  for (KeySpec ca_spec : {KeySpec::kEcP256, KeySpec::kEd25519, KeySpec::kRsa2048}) {
    std::string bundle;
    MintedSvid svid;
    ASSERT_NO_FATAL_FAILURE(MintWith(ca_spec, GetParam(), &bundle, &svid));
    test::ProcessResult r =
        RunCheck({"--bundle", Write("bundle.pem", bundle), "--svid",
                  Write("svid.pem", svid.certificate_pem), "--trust-domain", "acme.example",
                  "--expect-id", svid.spiffe_id, "--facts-oid", kFactsOid});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    // The same serial (Python prints no leading zero digit).
    absl::string_view serial = svid.serial_hex;
    while (absl::ConsumePrefix(&serial, "0")) {
    }
    EXPECT_THAT(r.output, HasSubstr(absl::StrCat("\"serial_hex\": \"", serial, "\"")));
    EXPECT_THAT(r.output, HasSubstr(R"([["repository", "acme/app"], ["run_id", "4242"]])"));
  }
}

INSTANTIATE_TEST_SUITE_P(CsrKeys, SvidInteropTest,
                         ::testing::Values(KeySpec::kEcP256, KeySpec::kEcP384, KeySpec::kEd25519,
                                           KeySpec::kRsa2048));

using SvidInteropRejectTest = SvidInteropTest;

TEST_F(SvidInteropRejectTest, RefusesATamperedSignatureAnotherCaAndAnotherId) {
  std::string bundle, other_bundle;
  MintedSvid svid, other;
  ASSERT_NO_FATAL_FAILURE(MintWith(KeySpec::kEcP256, KeySpec::kEcP256, &bundle, &svid));
  ASSERT_NO_FATAL_FAILURE(MintWith(KeySpec::kEcP256, KeySpec::kEcP256, &other_bundle, &other));
  const std::string bundle_path = Write("bundle.pem", bundle);

  // The last byte of the DER is inside the signature.
  std::string der = svid.certificate_der;
  der.back() ^= 0x01;
  auto tampered = ParseCertificateDer(der);
  ASSERT_TRUE(tampered.ok()) << tampered.status();
  test::ProcessResult r = RunCheck({"--bundle", bundle_path, "--svid",
                                    Write("tampered.pem", *CertificateToPem(tampered->get()))});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no path from the SVID to a bundle certificate"));

  r = RunCheck({"--bundle", bundle_path, "--svid", Write("other.pem", other.certificate_pem)});
  EXPECT_EQ(r.exit_code, 1) << r.output;

  r = RunCheck({"--bundle", bundle_path, "--svid", Write("svid.pem", svid.certificate_pem),
                "--expect-id", "spiffe://acme.example/other", "--trust-domain", "other.example"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not in trust domain other.example"));
  EXPECT_THAT(r.output, HasSubstr("is not the expected spiffe://acme.example/other"));

  // A CA certificate presented as an SVID breaks several rules at once.
  r = RunCheck({"--bundle", bundle_path, "--svid", bundle_path});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("expected exactly one URI SAN, found 0"));
  EXPECT_THAT(r.output, HasSubstr("basicConstraints must be present, critical, with cA=false"));
}

}  // namespace
}  // namespace writ::issuer

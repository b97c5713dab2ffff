// The published formats of the trust bundle: the SPIFFE bundle (JWKS), PEM,
// and sshd's TrustedUserCAKeys file.
#include "issuer/src/keys/trust_bundle.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "issuer/src/keys/file_key_manager.h"
#include "issuer/src/keys/key_test_util.h"
#include "rapidjson/document.h"
#include "tests/testing/status_test_util.h"
#include "writ/crypto/digest.h"
#include "writ/x509/certificate.h"

namespace writ::issuer {
namespace {

using testing::KeyDirTest;
using testing::StartTime;

class TrustBundleTest : public KeyDirTest {};

rapidjson::Document ParseJson(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

std::vector<std::string> MemberNames(const rapidjson::Value& v) {
  std::vector<std::string> names;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) names.push_back(it->name.GetString());
  return names;
}

TEST_F(TrustBundleTest, SpiffeBundleHasTheMembersTheSpecAsksFor) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  ASSERT_OK(km->Rotate(KeyPurpose::kJwt, {.force = true}));  // a retired key too
  std::shared_ptr<const TrustBundle> bundle = km->Bundle();
  rapidjson::Document doc = ParseJson(SpiffeBundleJson(*bundle, absl::Minutes(5)));
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(MemberNames(doc),
            (std::vector<std::string>{"keys", "spiffe_sequence", "spiffe_refresh_hint"}));
  EXPECT_EQ(doc["spiffe_sequence"].GetUint64(), 2u);
  EXPECT_EQ(doc["spiffe_refresh_hint"].GetInt64(), 300);
  const rapidjson::Value& keys = doc["keys"];
  ASSERT_TRUE(keys.IsArray());
  ASSERT_EQ(keys.Size(), 2u + 3u);  // two CA certificates, three JWT keys

  for (rapidjson::SizeType i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const rapidjson::Value& k = keys[i];
    EXPECT_EQ(MemberNames(k), (std::vector<std::string>{"use", "kty", "crv", "x", "y", "x5c"}));
    EXPECT_STREQ(k["use"].GetString(), "x509-svid");
    EXPECT_STREQ(k["kty"].GetString(), "EC");
    EXPECT_STREQ(k["crv"].GetString(), "P-256");
    ASSERT_EQ(k["x5c"].Size(), 1u);
    // x5c is standard base64 (RFC 7517 4.7) of the DER certificate.
    std::string der;
    ASSERT_TRUE(absl::Base64Unescape(k["x5c"][0].GetString(), &der));
    EXPECT_EQ(der, bundle->x509_authorities_der[i]);
    // The key members are the certificate's public key.
    ASSERT_OK_AND_ASSIGN(SslPtr<X509> cert, ParseCertificateDer(der));
    ASSERT_OK_AND_ASSIGN(PublicJwk jwk,
                         PublicJwk::FromKey(X509_get0_pubkey(cert.get()), JwsAlgorithm::kEs256));
    rapidjson::Document want = ParseJson(jwk.ToJson());
    EXPECT_STREQ(k["x"].GetString(), want["x"].GetString());
    EXPECT_STREQ(k["y"].GetString(), want["y"].GetString());
  }
  std::vector<std::string> kids;
  for (rapidjson::SizeType i = 2; i < keys.Size(); ++i) {
    const rapidjson::Value& k = keys[i];
    EXPECT_EQ(MemberNames(k), (std::vector<std::string>{"use", "kid", "kty", "crv", "x", "y"}));
    EXPECT_STREQ(k["use"].GetString(), "jwt-svid");
    kids.push_back(k["kid"].GetString());
  }
  std::vector<std::string> want_kids;
  for (const PublicJwk& jwk : bundle->jwt_keys) want_kids.push_back(jwk.kid());
  EXPECT_EQ(kids, want_kids);
}

TEST_F(TrustBundleTest, SpiffeBundleOfAnEmptyBundleIsStillValid) {
  TrustBundle empty;
  EXPECT_EQ(SpiffeBundleJson(empty, absl::Seconds(90)),
            R"({"keys":[],"spiffe_sequence":0,"spiffe_refresh_hint":90})");
  // A negative hint makes no sense to a client: it is clamped to zero.
  EXPECT_EQ(SpiffeBundleJson(empty, -absl::Seconds(5)),
            R"({"keys":[],"spiffe_sequence":0,"spiffe_refresh_hint":0})");
  EXPECT_EQ(X509BundlePem(empty), "");
  EXPECT_EQ(SshCaKeysFile(empty), "");
}

TEST_F(TrustBundleTest, SpiffeBundleCarriesRsaAndEd25519Roots) {
  TrustBundle bundle;
  for (KeySpec spec : {KeySpec::kRsa2048, KeySpec::kEd25519}) {
    ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(spec));
    CertificateTemplate tmpl;
    tmpl.subject_common_name = "root";
    tmpl.not_before = StartTime();
    tmpl.not_after = StartTime() + absl::Hours(1);
    ASSERT_OK_AND_ASSIGN(tmpl.serial, RandomSerial());
    tmpl.is_ca = true;
    tmpl.key_usage.key_cert_sign = true;
    ASSERT_OK_AND_ASSIGN(SslPtr<X509> cert, IssueCertificate(tmpl, key.get(), nullptr, key.get()));
    ASSERT_OK_AND_ASSIGN(std::string der, CertificateToDer(cert.get()));
    bundle.x509_authorities_der.push_back(der);
  }
  rapidjson::Document doc = ParseJson(SpiffeBundleJson(bundle, absl::Minutes(1)));
  ASSERT_EQ(doc["keys"].Size(), 2u);
  EXPECT_EQ(MemberNames(doc["keys"][0]), (std::vector<std::string>{"use", "kty", "n", "e", "x5c"}));
  EXPECT_STREQ(doc["keys"][0]["e"].GetString(), "AQAB");
  EXPECT_EQ(MemberNames(doc["keys"][1]),
            (std::vector<std::string>{"use", "kty", "crv", "x", "x5c"}));
  EXPECT_STREQ(doc["keys"][1]["crv"].GetString(), "Ed25519");
}

TEST_F(TrustBundleTest, X509BundlePemHoldsEveryAuthorityInOrder) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  std::shared_ptr<const TrustBundle> bundle = km->Bundle();
  const std::string pem = X509BundlePem(*bundle);
  ASSERT_OK_AND_ASSIGN(std::vector<SslPtr<X509>> certs, ParseCertificateChainPem(pem));
  ASSERT_EQ(certs.size(), bundle->x509_authorities_der.size());
  for (size_t i = 0; i < certs.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::string der, CertificateToDer(certs[i].get()));
    EXPECT_EQ(der, bundle->x509_authorities_der[i]);
  }
}

TEST_F(TrustBundleTest, SshCaKeysFileRoundTripsThroughSshKeygen) {
  const std::string ssh_keygen = "/usr/bin/ssh-keygen";
  ASSERT_TRUE(Exists(ssh_keygen)) << "the openssh-client package is required by this test";
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  std::shared_ptr<const TrustBundle> bundle = km->Bundle();
  const std::string file = SshCaKeysFile(*bundle);
  ASSERT_EQ(bundle->ssh_ca_keys.size(), 2u);
  EXPECT_EQ(file, bundle->ssh_ca_keys[0] + "\n" + bundle->ssh_ca_keys[1] + "\n");
  const std::string path = root_ + "/trusted_user_ca_keys";
  Write(path, file, 0644);
  std::string out;
  ASSERT_EQ(testing::Run(ssh_keygen + " -l -f " + path + " 2>&1", &out), 0) << out;
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out;
  for (size_t i = 0; i < 2; ++i) {
    // "256 SHA256:<fingerprint> writ-ssh-ca-<id> (ED25519)", the fingerprint
    // being the unpadded base64 of the SHA-256 of the key blob.
    std::vector<std::string> fields = absl::StrSplit(bundle->ssh_ca_keys[i], ' ');
    ASSERT_EQ(fields.size(), 3u);
    std::string blob;
    ASSERT_TRUE(absl::Base64Unescape(fields[1], &blob));
    std::string fingerprint = absl::Base64Escape(Sha256(blob));
    while (!fingerprint.empty() && fingerprint.back() == '=') fingerprint.pop_back();
    EXPECT_EQ(lines[i], absl::StrCat("256 SHA256:", fingerprint, " ", fields[2], " (ED25519)"));
  }
  // The active CA's line is one of them, and its key is the authority's key.
  std::shared_ptr<const SshAuthority> ca = km->ActiveSshCa();
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(ca->public_key_line, bundle->ssh_ca_keys[1]);
  std::vector<std::string> fields = absl::StrSplit(ca->public_key_line, ' ');
  std::string blob;
  ASSERT_TRUE(absl::Base64Unescape(fields[1], &blob));
  ASSERT_EQ(blob.size(), 4u + 11u + 4u + 32u);
  unsigned char raw[32];
  size_t len = sizeof(raw);
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(ca->private_key.get(), raw, &len), 1);
  EXPECT_EQ(blob.substr(19), std::string(reinterpret_cast<char*>(raw), len));
}

}  // namespace
}  // namespace writ::issuer

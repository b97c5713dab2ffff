#include "writ/crypto/keys.h"

#include "gtest/gtest.h"
#include "writ/crypto/digest.h"

namespace writ {
namespace {

TEST(KeysTest, GeneratesAndRoundTripsEveryKind) {
  for (KeySpec spec : {KeySpec::kEcP256, KeySpec::kEcP384, KeySpec::kEcP521, KeySpec::kEd25519,
                       KeySpec::kRsa2048}) {
    auto key = GenerateKey(spec);
    ASSERT_TRUE(key.ok()) << key.status();
    auto pem = PrivateKeyToPem(key->get());
    ASSERT_TRUE(pem.ok()) << pem.status();
    auto parsed = ParsePrivateKeyPem(*pem);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(EVP_PKEY_eq(key->get(), parsed->get()), 1);
    auto pub = PublicKeyToPem(key->get());
    ASSERT_TRUE(pub.ok());
    auto pub_parsed = ParsePublicKeyPem(*pub);
    ASSERT_TRUE(pub_parsed.ok()) << pub_parsed.status();
    EXPECT_EQ(EVP_PKEY_eq(key->get(), pub_parsed->get()), 1);
  }
}

TEST(KeysTest, DescribesKeys) {
  EXPECT_EQ(KeyDescription(GenerateKey(KeySpec::kEcP256)->get()), "EC P-256");
  EXPECT_EQ(KeyDescription(GenerateKey(KeySpec::kEd25519)->get()), "Ed25519");
  EXPECT_EQ(KeyDescription(GenerateKey(KeySpec::kRsa2048)->get()), "RSA 2048");
}

TEST(KeysTest, RejectsGarbagePem) {
  auto r = ParsePrivateKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParsePublicKeyPem("not pem").ok());
}

TEST(DigestTest, Sha256OfAbc) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("abc").size(), 32u);
}

}  // namespace
}  // namespace writ

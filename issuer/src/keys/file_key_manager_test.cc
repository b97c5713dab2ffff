#include "issuer/src/keys/file_key_manager.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "writ/crypto/keys.h"
#include "writ/jose/jwk.h"
#include "writ/jose/jws.h"
#include "writ/jose/jws_verifier.h"
#include "writ/jose/signer.h"

namespace writ::issuer {
namespace {

class FileKeyManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/writ-keys-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/keys";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
  std::string dir_;
};

TEST_F(FileKeyManagerTest, FirstOpenCreatesPrivateKeyFileAndDirectory) {
  auto km = FileKeyManager::Open(dir_);
  ASSERT_TRUE(km.ok()) << km.status();
  EXPECT_TRUE((*km)->created());
  struct stat st {};
  ASSERT_EQ(::stat((*km)->jwt_key_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ((*km)->JwtSigner()->algorithm(), JwsAlgorithm::kEs256);
}

TEST_F(FileKeyManagerTest, SecondOpenLoadsTheSameKey) {
  auto first = FileKeyManager::Open(dir_);
  ASSERT_TRUE(first.ok());
  auto second = FileKeyManager::Open(dir_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE((*second)->created());
  EXPECT_EQ((*first)->JwtSigner()->kid(), (*second)->JwtSigner()->kid());
  EXPECT_EQ((*first)->PublicJwks(), (*second)->PublicJwks());
}

TEST_F(FileKeyManagerTest, PublishedJwksVerifiesWhatTheSignerSigns) {
  auto km = FileKeyManager::Open(dir_);
  ASSERT_TRUE(km.ok());
  auto jwks = JwkSet::Parse((*km)->PublicJwks());
  ASSERT_TRUE(jwks.ok()) << jwks.status();
  ASSERT_EQ(jwks->keys().size(), 1u);
  auto token = SignCompactJws(*(*km)->JwtSigner(), "at+jwt", R"({"sub":"x"})");
  ASSERT_TRUE(token.ok());
  auto parsed = ParseCompactJws(*token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(VerifyJws(*parsed, *jwks).ok());
}

TEST_F(FileKeyManagerTest, RefusesKeyFileReadableByOthers) {
  ASSERT_TRUE(FileKeyManager::Open(dir_).ok());
  ASSERT_EQ(::chmod((dir_ + "/jwt-signing.pem").c_str(), 0644), 0);
  auto km = FileKeyManager::Open(dir_);
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(km.status().message().find("chmod 600"), absl::string_view::npos);
}

TEST_F(FileKeyManagerTest, RefusesKeyThatIsNotP256) {
  ASSERT_TRUE(FileKeyManager::Open(dir_).ok());
  auto rsa = GenerateKey(KeySpec::kEcP384);
  ASSERT_TRUE(rsa.ok());
  auto pem = PrivateKeyToPem(rsa->get());
  ASSERT_TRUE(pem.ok());
  std::ofstream(dir_ + "/jwt-signing.pem", std::ios::trunc) << *pem;
  auto km = FileKeyManager::Open(dir_);
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FileKeyManagerTest, RefusesGarbageKeyFileNamingIt) {
  ASSERT_TRUE(FileKeyManager::Open(dir_).ok());
  std::ofstream(dir_ + "/jwt-signing.pem", std::ios::trunc) << "not a key";
  auto km = FileKeyManager::Open(dir_);
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(km.status().message().find("jwt-signing.pem"), absl::string_view::npos);
}

}  // namespace
}  // namespace writ::issuer

namespace writ::issuer {
namespace {

TEST_F(FileKeyManagerTest, RefusesASymlinkedKeyFile) {
  ASSERT_TRUE(FileKeyManager::Open(dir_).ok());
  const std::string key = dir_ + "/jwt-signing.pem", real = root_ + "/elsewhere.pem";
  ASSERT_EQ(::rename(key.c_str(), real.c_str()), 0);
  ASSERT_EQ(::symlink(real.c_str(), key.c_str()), 0);
  auto km = FileKeyManager::Open(dir_);
  ASSERT_FALSE(km.ok());
  EXPECT_NE(km.status().message().find("jwt-signing.pem"), absl::string_view::npos);
}

TEST_F(FileKeyManagerTest, LeavesNoTemporaryFilesBehind) {
  ASSERT_TRUE(FileKeyManager::Open(dir_).ok());
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

}  // namespace
}  // namespace writ::issuer

#include "issuer/src/keys/file_key_manager.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "issuer/src/keys/key_test_util.h"
#include "tests/testing/status_test_util.h"
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
  // The active key and the prepared one, published before it signs.
  ASSERT_EQ(jwks->keys().size(), 2u);
  EXPECT_EQ(jwks->keys()[0].kid(), (*km)->JwtSigner()->kid());
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

TEST_F(FileKeyManagerTest, RefusesAKeyDirectoryGroupOrOthersMayWrite) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  for (mode_t mode : {0720, 0702, 0777}) {
    ASSERT_EQ(::chmod(dir_.c_str(), mode), 0);
    auto km = FileKeyManager::Open(dir_);
    ASSERT_FALSE(km.ok()) << std::oct << mode;
    EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(km.status().message().find(dir_), absl::string_view::npos) << km.status();
    EXPECT_NE(km.status().message().find("chmod 700"), absl::string_view::npos) << km.status();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_));  // refused before anything was written
  // Reading and listing by others is the key files' business (mode 0600).
  for (mode_t mode : {0700, 0750, 0755}) {
    ASSERT_EQ(::chmod(dir_.c_str(), mode), 0);
    SCOPED_TRACE(mode);
    EXPECT_OK(FileKeyManager::Open(dir_).status());
  }
  // The data directory above it may be anything.
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0777), 0);
  EXPECT_OK(FileKeyManager::Open(dir_).status());
}

TEST_F(FileKeyManagerTest, RefusesAKeyDirectoryOwnedByAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the directory away";
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  ASSERT_EQ(::chown(dir_.c_str(), 4242, 4242), 0);
  auto km = FileKeyManager::Open(dir_);
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(km.status().message().find("owned by uid 4242"), absl::string_view::npos)
      << km.status();
  EXPECT_NE(km.status().message().find(absl::StrCat("chown -R ", ::geteuid(), " ", dir_)),
            absl::string_view::npos)
      << km.status();
  ASSERT_EQ(::chown(dir_.c_str(), ::geteuid(), ::getegid()), 0);
  EXPECT_OK(FileKeyManager::Open(dir_).status());
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
  auto km = FileKeyManager::Open(dir_);
  ASSERT_TRUE(km.ok());
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    files.insert(entry.path().filename().string());
  }
  // The active JWT key keeps the name it had before key rings; the prepared
  // one is named by its kid; the ring state.
  const std::string prepared = "jwt-" + (*km)->List()[0].id + ".pem";
  EXPECT_EQ((*km)->List()[0].state, KeyState::kPrepared);
  EXPECT_EQ(files, (std::set<std::string>{"jwt-signing.pem", prepared, "keyring.json"}));
}

TEST_F(FileKeyManagerTest, DefaultOpenKeepsOnlyTheJwtRing) {
  auto km = FileKeyManager::Open(dir_);
  ASSERT_TRUE(km.ok());
  EXPECT_EQ((*km)->jwt_key_path(), dir_ + "/jwt-signing.pem");
  EXPECT_EQ((*km)->List().size(), 2u);
  EXPECT_EQ((*km)->ActiveX509Ca(), nullptr);
  EXPECT_EQ((*km)->ActiveSshCa(), nullptr);
  ASSERT_NE((*km)->Bundle(), nullptr);
  EXPECT_TRUE((*km)->Bundle()->x509_authorities_der.empty());
  EXPECT_TRUE((*km)->Bundle()->ssh_ca_keys.empty());
  EXPECT_EQ((*km)->Bundle()->jwt_keys.size(), 2u);
}

}  // namespace
}  // namespace writ::issuer

namespace writ::issuer {
namespace {

using testing::KeyDirTest;

class KeyRingOpenTest : public KeyDirTest {};

bool Contains(absl::string_view haystack, absl::string_view needle) {
  return haystack.find(needle) != absl::string_view::npos;
}

TEST_F(KeyRingOpenTest, FirstOpenCreatesAnActiveAndAPreparedKeyPerRing) {
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  EXPECT_TRUE(km->created());
  const std::vector<KeyInfo> list = km->List();
  ASSERT_EQ(list.size(), 6u);
  // Purpose then state order.
  const std::pair<KeyPurpose, KeyState> want[] = {
      {KeyPurpose::kJwt, KeyState::kPrepared},    {KeyPurpose::kJwt, KeyState::kActive},
      {KeyPurpose::kX509Ca, KeyState::kPrepared}, {KeyPurpose::kX509Ca, KeyState::kActive},
      {KeyPurpose::kSshCa, KeyState::kPrepared},  {KeyPurpose::kSshCa, KeyState::kActive}};
  for (size_t i = 0; i < list.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(list[i].purpose, want[i].first);
    EXPECT_EQ(list[i].state, want[i].second);
    EXPECT_EQ(list[i].created_at, clock_.Now());
    EXPECT_EQ(list[i].activated_at,
              list[i].state == KeyState::kActive ? clock_.Now() : absl::InfinitePast());
    EXPECT_EQ(list[i].retired_at, absl::InfinitePast());
    EXPECT_EQ(list[i].publish_until, absl::InfiniteFuture());
    EXPECT_TRUE(list[i].has_certificate);
    EXPECT_TRUE(list[i].csr_path.empty());
    struct stat st {};
    ASSERT_EQ(::stat(list[i].path.c_str(), &st), 0) << list[i].path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << list[i].path;
  }
  EXPECT_EQ(list[0].algorithm, "ES256");
  EXPECT_EQ(list[2].algorithm, "EC P-256");
  EXPECT_EQ(list[4].algorithm, "Ed25519");
  // CA ids: 16 bytes of SHA-256, hex.
  EXPECT_EQ(list[3].id.size(), 32u);
  EXPECT_EQ(list[5].id.size(), 32u);
  EXPECT_EQ(list[3].path, dir_ + "/x509-ca-" + list[3].id + ".pem");
  EXPECT_TRUE(Exists(dir_ + "/x509-ca-" + list[3].id + ".crt"));
  EXPECT_TRUE(Exists(dir_ + "/x509-ca-" + list[2].id + ".crt"));
  EXPECT_EQ(list[3].not_after, clock_.Now() + options_.ca_lifetime);

  EXPECT_EQ(km->JwtSigner()->kid(), list[1].id);
  ASSERT_NE(km->ActiveX509Ca(), nullptr);
  EXPECT_EQ(km->ActiveX509Ca()->id, list[3].id);
  EXPECT_TRUE(km->ActiveX509Ca()->chain.empty());
  ASSERT_NE(km->ActiveSshCa(), nullptr);
  EXPECT_EQ(km->ActiveSshCa()->id, list[5].id);
  EXPECT_EQ(km->ActiveSshCa()->public_key_line.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", 0), 0u);
  EXPECT_TRUE(absl::EndsWith(km->ActiveSshCa()->public_key_line, " writ-ssh-ca-" + list[5].id));

  auto bundle = km->Bundle();
  ASSERT_NE(bundle, nullptr);
  EXPECT_EQ(bundle->sequence, 1u);
  EXPECT_EQ(bundle->trust_domain, "acme.example");
  EXPECT_EQ(bundle->x509_authorities_der.size(), 2u);
  EXPECT_EQ(bundle->jwt_keys.size(), 2u);
  EXPECT_EQ(bundle->ssh_ca_keys.size(), 2u);
  auto jwks = JwkSet::Parse(km->PublicJwks());
  ASSERT_OK(jwks);
  EXPECT_NE(jwks->Find(list[0].id), nullptr);
  EXPECT_NE(jwks->Find(list[1].id), nullptr);
}

TEST_F(KeyRingOpenTest, ReopenLoadsTheSameKeysAndSequence) {
  std::vector<KeyInfo> first;
  std::string jwks;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    first = km->List();
    jwks = km->PublicJwks();
  }
  clock_.Advance(absl::Hours(2));
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  EXPECT_FALSE(km->created());
  const std::vector<KeyInfo> second = km->List();
  ASSERT_EQ(second.size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(second[i].id, first[i].id);
    EXPECT_EQ(second[i].state, first[i].state);
    EXPECT_EQ(second[i].created_at, first[i].created_at);
    EXPECT_EQ(second[i].not_after, first[i].not_after);
  }
  EXPECT_EQ(km->PublicJwks(), jwks);
  EXPECT_EQ(km->Bundle()->sequence, 1u);  // nothing changed
}

TEST_F(KeyRingOpenTest, MigratesALoneLegacyJwtKey) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEcP256));
  ASSERT_OK_AND_ASSIGN(std::string pem, PrivateKeyToPem(key.get()));
  Write(dir_ + "/jwt-signing.pem", pem);
  ASSERT_OK_AND_ASSIGN(PublicJwk legacy, PublicJwk::FromKey(key.get(), JwsAlgorithm::kEs256));

  ASSERT_OK_AND_ASSIGN(auto km, Open());
  EXPECT_FALSE(km->created());
  EXPECT_EQ(km->JwtSigner()->kid(), legacy.Thumbprint());
  EXPECT_EQ(km->jwt_key_path(), dir_ + "/jwt-signing.pem");
  const KeyInfo active = Find(km->List(), KeyPurpose::kJwt, KeyState::kActive);
  EXPECT_EQ(active.id, legacy.Thumbprint());
  EXPECT_EQ(active.activated_at, clock_.Now());
  EXPECT_EQ(Count(km->List(), KeyPurpose::kJwt), 2);  // plus a prepared key
  EXPECT_EQ(Count(km->List(), KeyPurpose::kX509Ca), 2);
  EXPECT_TRUE(Exists(dir_ + "/keyring.json"));
  EXPECT_EQ(km->Bundle()->sequence, 1u);
  // Tokens the legacy key signed still verify.
  ASSERT_OK_AND_ASSIGN(auto jwks, JwkSet::Parse(km->PublicJwks()));
  EXPECT_NE(jwks.Find(legacy.Thumbprint()), nullptr);

  // And the state now holds it: the second open loads, not migrates.
  km.reset();
  clock_.Advance(absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(km, Open());
  EXPECT_EQ(Find(km->List(), KeyPurpose::kJwt, KeyState::kActive).activated_at,
            clock_.Now() - absl::Minutes(1));
}

TEST_F(KeyRingOpenTest, RefusesLoosePermissionsOnEveryKeyFileAndTheState) {
  std::vector<std::string> paths;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    for (const KeyInfo& k : km->List()) paths.push_back(k.path);
  }
  paths.push_back(dir_ + "/keyring.json");
  ASSERT_EQ(paths.size(), 7u);
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    for (mode_t mode : {0640, 0604, 0620, 0602}) {
      ASSERT_EQ(::chmod(path.c_str(), mode), 0);
      auto km = Open();
      ASSERT_FALSE(km.ok());
      EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_TRUE(Contains(km.status().message(), path)) << km.status();
      EXPECT_TRUE(Contains(km.status().message(), "chmod 600")) << km.status();
    }
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  }
  EXPECT_OK(Open());
}

TEST_F(KeyRingOpenTest, RefusesAStateNamingAMissingKeyFile) {
  std::string prepared;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    prepared = Find(km->List(), KeyPurpose::kSshCa, KeyState::kPrepared).path;
  }
  ASSERT_EQ(std::remove(prepared.c_str()), 0);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(km.status().message(), prepared)) << km.status();
  EXPECT_TRUE(Contains(km.status().message(), "does not exist")) << km.status();
}

TEST_F(KeyRingOpenTest, RefusesAReplacedKeyFile) {
  std::string path;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    path = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive).path;
  }
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> other, GenerateKey(KeySpec::kEcP256));
  ASSERT_OK_AND_ASSIGN(std::string pem, PrivateKeyToPem(other.get()));
  Write(path, pem);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(km.status().message(), path)) << km.status();
  EXPECT_TRUE(Contains(km.status().message(), "replaced")) << km.status();
}

TEST_F(KeyRingOpenTest, RefusesAKeyOfTheWrongKindForItsRing) {
  std::string path;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    path = Find(km->List(), KeyPurpose::kSshCa, KeyState::kActive).path;
  }
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> other, GenerateKey(KeySpec::kEcP256));
  ASSERT_OK_AND_ASSIGN(std::string pem, PrivateKeyToPem(other.get()));
  Write(path, pem);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(km.status().message(), "must be Ed25519")) << km.status();
}

TEST_F(KeyRingOpenTest, RefusesKeyFilesWithoutAState) {
  { ASSERT_OK(Open()); }
  ASSERT_EQ(std::remove((dir_ + "/keyring.json").c_str()), 0);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(km.status().message(), "no keyring.json")) << km.status();
}

TEST_F(KeyRingOpenTest, RefusesAMissingSelfSignedCertificate) {
  std::string id;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    id = Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared).id;
  }
  const std::string crt = dir_ + "/x509-ca-" + id + ".crt";
  ASSERT_EQ(std::remove(crt.c_str()), 0);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(km.status().message(), crt)) << km.status();
}

TEST_F(KeyRingOpenTest, RefusesASelfSignedCertificateOfAnotherKey) {
  std::string prepared_crt, active_crt;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    prepared_crt =
        dir_ + "/x509-ca-" + Find(km->List(), KeyPurpose::kX509Ca, KeyState::kPrepared).id + ".crt";
    active_crt =
        dir_ + "/x509-ca-" + Find(km->List(), KeyPurpose::kX509Ca, KeyState::kActive).id + ".crt";
  }
  Write(active_crt, Read(prepared_crt), 0644);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(km.status().message(), active_crt)) << km.status();
  EXPECT_TRUE(Contains(km.status().message(), "certifies another key")) << km.status();
}

class MalformedStateTest
    : public KeyDirTest,
      public ::testing::WithParamInterface<std::pair<const char*, const char*>> {};

TEST_P(MalformedStateTest, IsRefusedNamingTheStateFile) {
  { ASSERT_OK(Open()); }
  const std::string state_path = dir_ + "/keyring.json";
  std::string state = Read(state_path);
  const auto [from, to] = GetParam();
  if (std::string(from).empty()) {
    state = to;
  } else {
    const size_t at = state.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    state.replace(at, std::string(from).size(), to);
  }
  Write(state_path, state);
  auto km = Open();
  ASSERT_FALSE(km.ok());
  EXPECT_EQ(km.status().code(), absl::StatusCode::kInvalidArgument) << km.status();
  EXPECT_TRUE(Contains(km.status().message(), state_path)) << km.status();
}

INSTANTIATE_TEST_SUITE_P(
    Defects, MalformedStateTest,
    ::testing::Values(std::pair{"", "not json"}, std::pair{"", "[]"},
                      std::pair{"", R"({"format":"writ-keyring-1","sequence":1})"},
                      std::pair{"writ-keyring-1", "writ-keyring-9"},
                      std::pair{"\"sequence\": 1", "\"sequence\": -1"},
                      std::pair{"\"purpose\": \"jwt\"", "\"purpose\": \"gpg\""},
                      std::pair{"\"state\": \"prepared\"", "\"state\": \"active\""},
                      std::pair{"\"state\": \"prepared\"", "\"state\": \"sleeping\""},
                      std::pair{"\"file\": \"jwt-signing.pem\"", "\"file\": \"../../etc/x.pem\""},
                      std::pair{"\"file\": \"jwt-signing.pem\"", "\"file\": \".hidden.pem\""},
                      std::pair{"\"file\": \"jwt-signing.pem\"", "\"file\": \"jwt-signing.key\""},
                      std::pair{"\"created_at\": \"2027", "\"created_at\": \"yesterday"},
                      std::pair{"\"created_at\"", "\"born_at\""},
                      std::pair{"\"id\"", "\"id\": 7, \"x\""},
                      std::pair{"\"sequence\"", "\"colour\": 1, \"sequence\""},
                      std::pair{"\"sequence\": 1", "\"sequence\": 1.5"}));

TEST_F(KeyRingOpenTest, EnablingARingLaterAddsItAndBumpsTheSequence) {
  options_.enable_ssh = false;
  std::string jwt_kid;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    EXPECT_EQ(km->ActiveSshCa(), nullptr);
    EXPECT_EQ(Count(km->List(), KeyPurpose::kSshCa), 0);
    EXPECT_EQ(km->Bundle()->sequence, 1u);
    jwt_kid = km->JwtSigner()->kid();
  }
  options_.enable_ssh = true;
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  EXPECT_FALSE(km->created());  // the JWT ring was there
  EXPECT_EQ(km->JwtSigner()->kid(), jwt_kid);
  EXPECT_NE(km->ActiveSshCa(), nullptr);
  EXPECT_EQ(Count(km->List(), KeyPurpose::kSshCa), 2);
  EXPECT_EQ(km->Bundle()->sequence, 2u);
}

TEST_F(KeyRingOpenTest, ChangingWhatIsPublishedWithoutNewKeysMovesTheSequence) {
  { ASSERT_OK(Open()); }
  options_.enable_ssh = false;  // the SSH CA keys leave the bundle
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    EXPECT_EQ(km->Bundle()->sequence, 2u);
  }
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());  // nothing changed this time
    EXPECT_EQ(km->Bundle()->sequence, 2u);
  }
  options_.enable_ssh = true;  // and come back
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    EXPECT_EQ(km->Bundle()->sequence, 3u);
  }
  options_.trust_domain = "other.example";
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  EXPECT_EQ(km->Bundle()->sequence, 4u);
  EXPECT_EQ(km->Bundle()->trust_domain, "other.example");
}

TEST_F(KeyRingOpenTest, ADisabledRingIsKeptButNotPublished) {
  std::string ssh_id;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    ssh_id = km->ActiveSshCa()->id;
  }
  options_.enable_ssh = false;
  options_.enable_x509 = false;
  {
    ASSERT_OK_AND_ASSIGN(auto km, Open());
    EXPECT_EQ(km->ActiveSshCa(), nullptr);
    EXPECT_EQ(km->ActiveX509Ca(), nullptr);
    EXPECT_TRUE(km->Bundle()->ssh_ca_keys.empty());
    EXPECT_TRUE(km->Bundle()->x509_authorities_der.empty());
    EXPECT_EQ(km->List().size(), 2u);
    auto rotated = km->Rotate(KeyPurpose::kSshCa, {.force = true});
    EXPECT_EQ(rotated.status().code(), absl::StatusCode::kFailedPrecondition);
    // A JWT rotation rewrites the state; the SSH ring's records survive it.
    ASSERT_OK(km->Rotate(KeyPurpose::kJwt, {.force = true}));
  }
  options_.enable_ssh = true;
  options_.enable_x509 = true;
  ASSERT_OK_AND_ASSIGN(auto km, Open());
  ASSERT_NE(km->ActiveSshCa(), nullptr);
  EXPECT_EQ(km->ActiveSshCa()->id, ssh_id);
  EXPECT_EQ(km->List().size(), 7u);  // plus the retired JWT key
}

TEST_F(KeyRingOpenTest, RefusesBadOptions) {
  struct Case {
    const char* name;
    void (*change)(FileKeyManagerOptions&);
  };
  const Case cases[] = {
      {"uppercase trust domain", [](FileKeyManagerOptions& o) { o.trust_domain = "Acme.example"; }},
      {"trust domain with a path",
       [](FileKeyManagerOptions& o) { o.trust_domain = "acme.example/x"; }},
      {"empty trust domain", [](FileKeyManagerOptions& o) { o.trust_domain = ""; }},
      {"zero ca_lifetime", [](FileKeyManagerOptions& o) { o.ca_lifetime = absl::ZeroDuration(); }},
      {"negative publish_lead",
       [](FileKeyManagerOptions& o) { o.publish_lead = -absl::Seconds(1); }},
      {"zero rotate_after",
       [](FileKeyManagerOptions& o) { o.rotate_after = absl::ZeroDuration(); }},
      {"infinite retired_publish_for",
       [](FileKeyManagerOptions& o) { o.retired_publish_for = absl::InfiniteDuration(); }},
      {"intermediate without roots",
       [](FileKeyManagerOptions& o) { o.x509_mode = X509CaMode::kIntermediate; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FileKeyManagerOptions o = options_;
    c.change(o);
    auto km = FileKeyManager::Open(dir_, o);
    ASSERT_FALSE(km.ok());
    EXPECT_EQ(km.status().code(), absl::StatusCode::kInvalidArgument) << km.status();
  }
  EXPECT_FALSE(Exists(dir_));  // refused before anything was created
}

TEST_F(KeyRingOpenTest, OptionsFromConfigFollowTheConfig) {
  IssuerConfig config;
  config.x509.enabled = false;
  config.ssh.enabled = true;
  config.x509.trust_domain = "corp.example";
  config.x509.mode = "intermediate";
  config.x509.root_bundle_file = "/etc/writ/roots.pem";
  config.x509.ca_lifetime = absl::Hours(100);
  config.keys.publish_lead = absl::Minutes(30);
  config.keys.rotate_after = absl::Hours(12);
  config.tokens.max_lifetime = absl::Minutes(20);
  FileKeyManagerOptions o = FileKeyManagerOptionsFromConfig(config, &clock_);
  EXPECT_EQ(o.clock, &clock_);
  EXPECT_FALSE(o.enable_x509);
  EXPECT_TRUE(o.enable_ssh);
  EXPECT_EQ(o.trust_domain, "corp.example");
  EXPECT_EQ(o.x509_mode, X509CaMode::kIntermediate);
  EXPECT_EQ(o.root_bundle_file, "/etc/writ/roots.pem");
  EXPECT_EQ(o.ca_lifetime, absl::Hours(100));
  EXPECT_EQ(o.publish_lead, absl::Minutes(30));
  EXPECT_EQ(o.rotate_after, absl::Hours(12));
  EXPECT_EQ(o.retired_publish_for, absl::Minutes(25));
  config.x509.mode = "self-signed";
  EXPECT_EQ(FileKeyManagerOptionsFromConfig(config, nullptr).x509_mode, X509CaMode::kSelfSigned);
}

TEST(KeyPurposeTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (KeyPurpose p : {KeyPurpose::kJwt, KeyPurpose::kX509Ca, KeyPurpose::kSshCa}) {
    ASSERT_OK_AND_ASSIGN(KeyPurpose back, ParseKeyPurpose(KeyPurposeName(p)));
    EXPECT_EQ(back, p);
  }
  EXPECT_STREQ(KeyPurposeName(KeyPurpose::kX509Ca), "x509-ca");
  EXPECT_STREQ(KeyStateName(KeyState::kPrepared), "prepared");
  EXPECT_STREQ(KeyStateName(KeyState::kActive), "active");
  EXPECT_STREQ(KeyStateName(KeyState::kRetired), "retired");
  for (absl::string_view bad : {"", "JWT", "x509", "ssh", "jwt "}) {
    auto p = ParseKeyPurpose(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(p.status().message(), "x509-ca")) << p.status();
  }
}

}  // namespace
}  // namespace writ::issuer

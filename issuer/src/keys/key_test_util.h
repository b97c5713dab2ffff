// Test helpers for writ_keys tests: a temporary key directory, a fake clock,
// and small file and certificate utilities.
#ifndef WRIT_ISSUER_KEYS_KEY_TEST_UTIL_H_
#define WRIT_ISSUER_KEYS_KEY_TEST_UTIL_H_

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "issuer/src/keys/file_key_manager.h"
#include "writ/base/clock.h"
#include "writ/crypto/keys.h"
#include "writ/x509/certificate.h"

namespace writ::issuer::testing {

// StartTime is the fake clock's start: 2027-01-15T08:00:00Z.
inline absl::Time StartTime() { return absl::FromUnixSeconds(1800000000); }

// KeyDirTest gives each test a fresh directory (removed afterwards), a
// FakeClock and options with every ring enabled.
class KeyDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/writ-keys-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/keys";
    options_.clock = &clock_;
    options_.enable_x509 = true;
    options_.enable_ssh = true;
    options_.trust_domain = "acme.example";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  absl::StatusOr<std::unique_ptr<FileKeyManager>> Open() {
    return FileKeyManager::Open(dir_, options_);
  }

  // Files returns the names in the key directory.
  std::set<std::string> Files() const {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      names.insert(e.path().filename().string());
    }
    return names;
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Write(const std::string& path, const std::string& data, mode_t mode = 0600) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
    ::chmod(path.c_str(), mode);
  }
  static bool Exists(const std::string& path) { return std::filesystem::exists(path); }

  // Find returns the key of `purpose` in `state`; fails the test if none.
  static KeyInfo Find(const std::vector<KeyInfo>& list, KeyPurpose purpose, KeyState state) {
    for (const KeyInfo& k : list) {
      if (k.purpose == purpose && k.state == state) return k;
    }
    ADD_FAILURE() << "no " << KeyPurposeName(purpose) << " key " << KeyStateName(state);
    return KeyInfo{};
  }
  static int Count(const std::vector<KeyInfo>& list, KeyPurpose purpose) {
    int n = 0;
    for (const KeyInfo& k : list) n += k.purpose == purpose ? 1 : 0;
    return n;
  }

  std::string root_;
  std::string dir_;
  FakeClock clock_{StartTime()};
  FileKeyManagerOptions options_;
};

// IssueLeaf signs an SVID-style leaf for a fresh key with `ca`.
inline absl::StatusOr<SslPtr<X509>> IssueLeaf(const X509Authority& ca, absl::Time now,
                                              absl::Duration lifetime) {
  auto key = GenerateKey(KeySpec::kEcP256);
  if (!key.ok()) return key.status();
  CertificateTemplate tmpl;
  tmpl.uri_sans = {"spiffe://acme.example/workload"};
  tmpl.not_before = now - absl::Seconds(30);
  tmpl.not_after = now + lifetime;
  auto serial = RandomSerial();
  if (!serial.ok()) return serial.status();
  tmpl.serial = *serial;
  tmpl.key_usage.digital_signature = true;
  tmpl.extended_key_usage.client_auth = true;
  return IssueCertificate(tmpl, key->get(), ca.certificate.get(), ca.private_key.get());
}

// Run runs a shell command and returns its exit status and stdout.
inline int Run(const std::string& command, std::string* out) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
  const int rc = ::pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace writ::issuer::testing

#endif  // WRIT_ISSUER_KEYS_KEY_TEST_UTIL_H_

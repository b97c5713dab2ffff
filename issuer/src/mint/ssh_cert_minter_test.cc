// SshCertMinter: every certificate is read back by the real ssh-keygen -L
// (which also verifies the CA signature), and every bad request is refused.
#include "issuer/src/mint/ssh_cert_minter.h"

#include <stdlib.h>
#include <time.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/mint/ssh_public_key.h"
#include "tests/testing/status_test_util.h"
#include "tests/testing/test_sshd.h"
#include "writ/base/status_macros.h"
#include "writ/crypto/digest.h"
#include "writ/crypto/keys.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);  // 2027-01-15T08:00:00Z

// CertInfo is what `ssh-keygen -L` prints about a certificate.
struct CertInfo {
  std::map<std::string, std::string> fields;  // "Type", "Key ID", "Serial", "Valid", ...
  std::vector<std::string> principals, critical_options, extensions;
};

// Keys from the real ssh-keygen, made once for the suite.
std::string* keys_dir = nullptr;
std::map<std::string, std::string>* key_lines = nullptr;

class SshCertMinterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("TZ", "UTC", 1);  // ssh-keygen -L prints local times
    tzset();
    keys_dir = new std::string;
    key_lines = new std::map<std::string, std::string>;
    // A missing ssh-keygen fails every test (SetUp), it never skips them.
    if (access(test::kSshKeygenPath, X_OK) != 0) return;
    ASSERT_OK_AND_ASSIGN(*keys_dir, test::MakeTempDir());
    const std::vector<std::tuple<std::string, std::string, int>> specs = {
        {"ed25519", "ed25519", 0}, {"p256", "ecdsa", 256},   {"p384", "ecdsa", 384},
        {"p521", "ecdsa", 521},    {"rsa2048", "rsa", 2048}, {"rsa3072", "rsa", 3072},
        {"rsa1024", "rsa", 1024}};
    for (const auto& [name, type, bits] : specs) {
      ASSERT_OK_AND_ASSIGN(test::SshKeyFiles files,
                           test::GenerateSshKey(*keys_dir, name, type, bits));
      (*key_lines)[name] = files.public_key_line;
    }
  }
  static void TearDownTestSuite() {
    if (keys_dir != nullptr && !keys_dir->empty()) std::filesystem::remove_all(*keys_dir);
    delete keys_dir;
    delete key_lines;
  }

  SshCertMinterTest() : clock_(kNow) {}
  void SetUp() override {
    ASSERT_EQ(access(test::kSshKeygenPath, X_OK), 0)
        << test::kSshKeygenPath << " is missing: run scripts/setup.sh (openssh-client)";
    ASSERT_FALSE(key_lines->empty()) << "ssh-keygen could not make the suite's keys";
    ASSERT_OK_AND_ASSIGN(dir_, test::MakeTempDir());
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<SshCertMinter> Minter(KeySpec ca = KeySpec::kEd25519,
                                        SshCertMinterOptions options = {}) {
    auto minter = SshCertMinter::New(*GenerateKey(ca), &clock_, options);
    EXPECT_TRUE(minter.ok()) << minter.status();
    return minter.ok() ? *std::move(minter) : nullptr;
  }

  static SshCertRequest Request(const std::string& key_name = "ed25519") {
    SshCertRequest r;
    r.public_key = key_lines->at(key_name);
    r.principals = {"deploy", "ops"};
    r.lifetime = absl::Hours(1);
    r.key_id = "writ-issuance-0001";
    return r;
  }

  std::string WriteFile(const std::string& name, const std::string& data) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::trunc);
    out << data << "\n";
    return path;
  }

  // Inspect runs ssh-keygen -L on `certificate`; ssh-keygen verifies the CA
  // signature while loading it, so a bad certificate fails here.
  absl::StatusOr<CertInfo> Inspect(const std::string& certificate) {
    ASSIGN_OR_RETURN(
        test::ProcessResult run,
        test::RunProcess({test::kSshKeygenPath, "-L", "-f", WriteFile("cert.pub", certificate)}));
    if (run.exit_code != 0) return absl::InvalidArgumentError(run.output);
    CertInfo info;
    std::vector<std::string>* list = nullptr;
    for (absl::string_view line : absl::StrSplit(run.output, '\n')) {
      if (absl::StartsWith(line, "                ")) {  // a list entry
        if (list != nullptr) list->push_back(std::string(absl::StripAsciiWhitespace(line)));
        continue;
      }
      const size_t colon = line.find(':');
      if (!absl::StartsWith(line, "        ") || colon == absl::string_view::npos) continue;
      const std::string key(absl::StripAsciiWhitespace(line.substr(0, colon)));
      const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
      info.fields[key] = value;
      list = key == "Principals"         ? &info.principals
             : key == "Critical Options" ? &info.critical_options
             : key == "Extensions"       ? &info.extensions
                                         : nullptr;
    }
    return info;
  }

  // Fingerprint is ssh-keygen -l's "SHA256:..." for a public key line.
  std::string Fingerprint(const std::string& public_key_line) {
    auto run =
        test::RunProcess({test::kSshKeygenPath, "-l", "-f", WriteFile("key.pub", public_key_line)});
    EXPECT_TRUE(run.ok()) << run.status();
    if (!run.ok()) return "";
    EXPECT_EQ(run->exit_code, 0) << run->output;
    std::vector<std::string> fields = absl::StrSplit(run->output, ' ');
    return fields.size() > 1 ? fields[1] : "";
  }

  void ExpectRefused(const SshCertRequest& request, absl::string_view message) {
    std::unique_ptr<SshCertMinter> minter = Minter();
    ASSERT_NE(minter, nullptr);
    absl::StatusOr<MintedSshCert> cert = minter->Mint(request);
    ASSERT_FALSE(cert.ok()) << "minted: " << cert->certificate;
    EXPECT_EQ(cert.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(cert.status().message(), HasSubstr(message));
  }

  FakeClock clock_;
  std::string dir_;
};

std::string Blob(const std::string& line) {
  std::vector<std::string> fields = absl::StrSplit(line, ' ');
  std::string blob;
  EXPECT_EQ(fields.size(), 3u);
  EXPECT_TRUE(fields.size() > 1 && absl::Base64Unescape(fields[1], &blob));
  return blob;
}

TEST_F(SshCertMinterTest, EveryAcceptedKeyTypeRoundTripsThroughSshKeygen) {
  const std::map<std::string, std::string> types = {
      {"ed25519", "ssh-ed25519"},      {"p256", "ecdsa-sha2-nistp256"},
      {"p384", "ecdsa-sha2-nistp384"}, {"p521", "ecdsa-sha2-nistp521"},
      {"rsa2048", "ssh-rsa"},          {"rsa3072", "ssh-rsa"}};
  std::unique_ptr<SshCertMinter> minter = Minter();
  const std::string ca_fingerprint = Fingerprint(minter->ca_public_key_line());
  ASSERT_THAT(ca_fingerprint, HasSubstr("SHA256:"));
  for (const auto& [name, type] : types) {
    SCOPED_TRACE(name);
    SshCertRequest request = Request(name);
    request.source_addresses = {"127.0.0.1", "10.0.0.0/8", "2001:db8::/32"};
    ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter->Mint(request));

    const std::string cert_type = type + "-cert-v01@openssh.com";
    EXPECT_EQ(cert.certificate.substr(0, cert_type.size() + 1), cert_type + " ");
    EXPECT_TRUE(absl::EndsWith(cert.certificate, " writ-issuance-0001"));
    EXPECT_EQ(cert.public_key_type, type);
    EXPECT_NE(cert.serial, 0u);
    EXPECT_EQ(cert.sha256_fingerprint_hex, Sha256Hex(Blob(cert.certificate)));
    EXPECT_EQ(cert.valid_after, kNow - absl::Seconds(30));
    EXPECT_EQ(cert.valid_before, kNow + absl::Hours(1));

    ASSERT_OK_AND_ASSIGN(CertInfo info, Inspect(cert.certificate));
    EXPECT_EQ(info.fields["Type"], cert_type + " user certificate");
    EXPECT_THAT(info.fields["Public key"], HasSubstr(Fingerprint(key_lines->at(name))));
    EXPECT_EQ(info.fields["Signing CA"],
              absl::StrCat("ED25519 ", ca_fingerprint, " (using ssh-ed25519)"));
    EXPECT_EQ(info.fields["Key ID"], "\"writ-issuance-0001\"");
    EXPECT_EQ(info.fields["Serial"], absl::StrCat(cert.serial));
    EXPECT_EQ(info.fields["Valid"], "from 2027-01-15T07:59:30 to 2027-01-15T09:00:00");
    EXPECT_THAT(info.principals, ElementsAre("deploy", "ops"));
    EXPECT_THAT(info.critical_options,
                ElementsAre("source-address 127.0.0.1,10.0.0.0/8,2001:db8::/32"));
    EXPECT_THAT(info.extensions, ElementsAre("permit-pty"));
  }
}

TEST_F(SshCertMinterTest, EachCaKeyTypeSignsWhatSshKeygenVerifies) {
  const std::vector<std::tuple<KeySpec, std::string, std::string>> cas = {
      {KeySpec::kEd25519, "ED25519", "ssh-ed25519"},
      {KeySpec::kEcP256, "ECDSA", "ecdsa-sha2-nistp256"},
      {KeySpec::kEcP384, "ECDSA", "ecdsa-sha2-nistp384"}};
  for (const auto& [spec, kind, algorithm] : cas) {
    SCOPED_TRACE(algorithm);
    std::unique_ptr<SshCertMinter> minter = Minter(spec);
    ASSERT_NE(minter, nullptr);
    EXPECT_TRUE(absl::StartsWith(minter->ca_public_key_line(), algorithm + " "));
    EXPECT_TRUE(absl::EndsWith(minter->ca_public_key_line(), " writ-ssh-ca"));
    for (const std::string key : {"ed25519", "p384", "rsa2048"}) {
      ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter->Mint(Request(key)));
      ASSERT_OK_AND_ASSIGN(CertInfo info, Inspect(cert.certificate));
      EXPECT_EQ(info.fields["Signing CA"],
                absl::StrCat(kind, " ", Fingerprint(minter->ca_public_key_line()), " (using ",
                             algorithm, ")"));
    }
  }
}

TEST_F(SshCertMinterTest, SshKeygenRefusesATamperedCertificate) {
  // Proof that Inspect checks the signature, so the round trips above do.
  std::unique_ptr<SshCertMinter> minter = Minter(KeySpec::kEcP256);
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter->Mint(Request()));
  std::string blob = Blob(cert.certificate);
  const size_t key_id_at = blob.find("writ-issuance-0001");
  ASSERT_NE(key_id_at, std::string::npos);
  blob[key_id_at] = 'W';
  const std::string tampered =
      absl::StrCat("ssh-ed25519-cert-v01@openssh.com ", absl::Base64Escape(blob), " x");
  EXPECT_FALSE(Inspect(tampered).ok());
  ASSERT_OK(Inspect(cert.certificate).status());
}

TEST_F(SshCertMinterTest, NoSourceAddressMeansNoCriticalOptions) {
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, Minter()->Mint(Request()));
  ASSERT_OK_AND_ASSIGN(CertInfo info, Inspect(cert.certificate));
  EXPECT_EQ(info.fields["Critical Options"], "(none)");
  EXPECT_THAT(info.critical_options, IsEmpty());
}

TEST_F(SshCertMinterTest, ExtensionsAreSortedByName) {
  SshCertMinterOptions options;
  options.extensions = {"permit-pty", "permit-port-forwarding", "permit-X11-forwarding",
                        "permit-agent-forwarding"};
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, Minter(KeySpec::kEd25519, options)->Mint(Request()));
  ASSERT_OK_AND_ASSIGN(CertInfo info, Inspect(cert.certificate));
  // ssh-keygen prints them in wire order; sorted means byte order.
  EXPECT_THAT(info.extensions, ElementsAre("permit-X11-forwarding", "permit-agent-forwarding",
                                           "permit-port-forwarding", "permit-pty"));
  options.extensions.clear();
  ASSERT_OK_AND_ASSIGN(cert, Minter(KeySpec::kEd25519, options)->Mint(Request()));
  ASSERT_OK_AND_ASSIGN(info, Inspect(cert.certificate));
  EXPECT_EQ(info.fields["Extensions"], "(none)");
}

TEST_F(SshCertMinterTest, ValidityBoundsAreWholeSecondsFromTheClock) {
  SshCertMinterOptions options;
  options.backdate = absl::ZeroDuration();
  std::unique_ptr<SshCertMinter> minter = Minter(KeySpec::kEd25519, options);
  clock_.Set(kNow + absl::Milliseconds(700));
  SshCertRequest request = Request();
  request.lifetime = absl::Seconds(1);
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter->Mint(request));
  EXPECT_EQ(cert.valid_after, kNow);
  EXPECT_EQ(cert.valid_before, kNow + absl::Seconds(1));
  ASSERT_OK_AND_ASSIGN(CertInfo info, Inspect(cert.certificate));
  EXPECT_EQ(info.fields["Valid"], "from 2027-01-15T08:00:00 to 2027-01-15T08:00:01");

  options.backdate = absl::Hours(1);
  minter = Minter(KeySpec::kEd25519, options);
  ASSERT_OK_AND_ASSIGN(cert, minter->Mint(request));
  EXPECT_EQ(cert.valid_after, kNow - absl::Hours(1));
}

TEST_F(SshCertMinterTest, SerialsNoncesAndFingerprintsDifferPerCertificate) {
  std::unique_ptr<SshCertMinter> minter = Minter();
  std::set<uint64_t> serials;
  std::set<std::string> fingerprints;
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter->Mint(Request()));
    EXPECT_NE(cert.serial, 0u);
    serials.insert(cert.serial);
    fingerprints.insert(cert.sha256_fingerprint_hex);
  }
  EXPECT_EQ(serials.size(), 20u);
  EXPECT_EQ(fingerprints.size(), 20u);
}

TEST_F(SshCertMinterTest, MintsConcurrently) {
  // The CA's signing context is shared (copied per signature).
  for (KeySpec ca : {KeySpec::kEd25519, KeySpec::kEcP256}) {
    std::unique_ptr<SshCertMinter> minter = Minter(ca);
    std::vector<std::thread> threads;
    std::vector<std::string> certs(8);
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          absl::StatusOr<MintedSshCert> cert = minter->Mint(Request(t % 2 ? "p256" : "ed25519"));
          ASSERT_TRUE(cert.ok()) << cert.status();
          certs[t] = cert->certificate;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (const std::string& cert : certs) EXPECT_OK(Inspect(cert).status());
  }
}

TEST_F(SshCertMinterTest, RefusesBadPublicKeys) {
  SshCertRequest r = Request();
  r.public_key = "ssh-ed25519 AAAA%%%%";
  ExpectRefused(r, "base64");
  const std::vector<std::string> ed25519 = absl::StrSplit(key_lines->at("ed25519"), ' ');
  r.public_key = absl::StrCat("ssh-rsa ", ed25519[1]);
  ExpectRefused(r, "line says \"ssh-rsa\"");
  r.public_key = "ssh-dss AAAAB3NzaC1kc3MAAACBAP";
  ExpectRefused(r, "DSA");
  r.public_key = "ssh-unknown AAAA";
  ExpectRefused(r, "unknown SSH key type");
  r.public_key = key_lines->at("rsa1024");
  ExpectRefused(r, "RSA key of 1024 bits is too weak");
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, Minter()->Mint(Request()));
  r.public_key = cert.certificate;
  ExpectRefused(r, "is a certificate");
  // Truncated and trailing data.
  std::string blob = Blob(key_lines->at("p256"));
  r.public_key =
      absl::StrCat("ecdsa-sha2-nistp256 ", absl::Base64Escape(blob.substr(0, blob.size() - 3)));
  ExpectRefused(r, "truncated");
  r.public_key = absl::StrCat("ecdsa-sha2-nistp256 ", absl::Base64Escape(blob + "junk"));
  ExpectRefused(r, "4 trailing bytes");
  blob.back() = static_cast<char>(blob.back() ^ 0x01);
  r.public_key = absl::StrCat("ecdsa-sha2-nistp256 ", absl::Base64Escape(blob));
  ExpectRefused(r, "not on the curve");
}

TEST_F(SshCertMinterTest, RefusesBadPrincipals) {
  SshCertRequest r = Request();
  r.principals = {};
  ExpectRefused(r, "at least one principal");
  for (const std::string bad : {"de ploy", "deploy,root", "", "t\x01", "caf\xc3\xa9"}) {
    SCOPED_TRACE(bad);
    r.principals = {"ops", bad};
    ExpectRefused(r, "principal");
  }
  r.principals = {"de ploy"};
  ExpectRefused(r, "must be printable ASCII without spaces or commas");
  r.principals = {std::string(256, 'a')};
  ExpectRefused(r, "is 256 bytes; it must be 1 to 255");
  r.principals = {std::string(255, 'a')};
  EXPECT_OK(Minter()->Mint(r).status());
  r.principals = {"ops", "ops"};
  ExpectRefused(r, "principal \"ops\" is listed twice");
  r.principals = std::vector<std::string>(257);
  for (size_t i = 0; i < r.principals.size(); ++i) r.principals[i] = absl::StrCat("p", i);
  ExpectRefused(r, "257 principals; at most 256");
}

TEST_F(SshCertMinterTest, RefusesBadSourceAddresses) {
  SshCertRequest r = Request();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not-an-ip", "not an IPv4 or IPv6 address or CIDR"},
      {"", "not an IPv4 or IPv6 address"},
      {"127.0.0.1,10.0.0.1", "not an IPv4 or IPv6 address"},
      {"fe80::1%eth0", "not an IPv4 or IPv6 address"},
      {"010.0.0.1", "not an IPv4 or IPv6 address"},
      {"10.0.0.1/8", "host bits set after /8"},
      {"10.0.0.0/33", "bad prefix length (0 to 32)"},
      {"2001:db8::/129", "bad prefix length (0 to 128)"},
      {"10.0.0.0/08", "bad prefix length"},
      {"10.0.0.0/", "bad prefix length"},
      {"10.0.0.0/-1", "bad prefix length"},
  };
  for (const auto& [address, message] : bad) {
    SCOPED_TRACE(address);
    r.source_addresses = {"192.0.2.7", address};
    ExpectRefused(r, message);
  }
  r.source_addresses = std::vector<std::string>(65, "192.0.2.7");
  ExpectRefused(r, "65 source addresses; at most 64");
  r.source_addresses = {"0.0.0.0/0", "::/0", "192.0.2.128/25", "::ffff:192.0.2.1", "fe80::1/128"};
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, Minter()->Mint(r));
  ASSERT_OK_AND_ASSIGN(CertInfo info, Inspect(cert.certificate));
  EXPECT_THAT(info.critical_options,
              ElementsAre("source-address 0.0.0.0/0,::/0,192.0.2.128/25,::ffff:192.0.2.1,"
                          "fe80::1/128"));
}

TEST_F(SshCertMinterTest, RefusesBadLifetimes) {
  SshCertRequest r = Request();
  for (absl::Duration lifetime : {absl::ZeroDuration(), absl::Milliseconds(999), absl::Seconds(-5),
                                  absl::InfiniteDuration()}) {
    SCOPED_TRACE(absl::FormatDuration(lifetime));
    r.lifetime = lifetime;
    ExpectRefused(r, "must be at least 1s and finite");
  }
}

TEST_F(SshCertMinterTest, RefusesBadKeyIds) {
  SshCertRequest r = Request();
  r.key_id = std::string(256, 'k');
  ExpectRefused(r, "key id \"kkkk");
  ExpectRefused(r, "is 256 bytes; it must be 1 to 255");
  r.key_id = "";
  ExpectRefused(r, "key id \"\" is 0 bytes");
  for (const std::string bad : {"id with space", "id\nnext", "id\t", "\x7f"}) {
    r.key_id = bad;
    ExpectRefused(r, "must be printable ASCII without spaces");
  }
  r.key_id = std::string(255, 'k');
  EXPECT_OK(Minter()->Mint(r).status());
}

TEST_F(SshCertMinterTest, NewRefusesBadCaKeysAndOptions) {
  auto refused = [&](absl::StatusOr<std::unique_ptr<SshCertMinter>> m, absl::string_view message) {
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(m.status().message(), HasSubstr(message));
  };
  refused(SshCertMinter::New(nullptr, &clock_), "SSH CA key is null");
  refused(SshCertMinter::New(*GenerateKey(KeySpec::kEd25519), nullptr), "clock is null");
  refused(SshCertMinter::New(*GenerateKey(KeySpec::kRsa2048), &clock_),
          "SSH CA key is RSA 2048; an SSH CA key must be Ed25519 or EC P-256/P-384");
  refused(SshCertMinter::New(*GenerateKey(KeySpec::kEcP521), &clock_),
          "must be Ed25519 or EC P-256/P-384");
  // The public half alone cannot sign.
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> ca, GenerateKey(KeySpec::kEd25519));
  ASSERT_OK_AND_ASSIGN(std::string pem, PublicKeyToPem(ca.get()));
  refused(SshCertMinter::New(*ParsePublicKeyPem(pem), &clock_), "cannot sign");

  SshCertMinterOptions options;
  options.backdate = absl::Seconds(-1);
  refused(SshCertMinter::New(*GenerateKey(KeySpec::kEd25519), &clock_, options),
          "backdate -1s is out of range");
  options.backdate = absl::Hours(1) + absl::Seconds(1);
  refused(SshCertMinter::New(*GenerateKey(KeySpec::kEd25519), &clock_, options), "out of range");
  options = {};
  for (const std::string bad : {"", "permit pty", "a,b"}) {
    options.extensions = {"permit-pty", bad};
    refused(SshCertMinter::New(*GenerateKey(KeySpec::kEd25519), &clock_, options),
            "SSH certificate extension");
  }
  options.extensions = {"permit-pty", "permit-pty"};
  refused(SshCertMinter::New(*GenerateKey(KeySpec::kEd25519), &clock_, options), "listed twice");
}

}  // namespace
}  // namespace writ::issuer

// OpenSSH public key lines: keys written by the real ssh-keygen parse, and
// every defect is refused with a message naming it.
#include "issuer/src/mint/ssh_public_key.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/mint/ssh_cert_minter.h"
#include "issuer/src/mint/ssh_wire.h"
#include "tests/testing/status_test_util.h"
#include "tests/testing/test_sshd.h"
#include "writ/crypto/keys.h"

namespace writ::issuer {
namespace {

using ::testing::HasSubstr;

// Keys from the real ssh-keygen, made once for the suite.
struct KeygenKeys {
  std::string dir;
  std::map<std::string, test::SshKeyFiles> by_name;
};
KeygenKeys* keys = nullptr;

const std::string& Line(const std::string& name) { return keys->by_name.at(name).public_key_line; }

// Blob returns the decoded key data of a public key line.
std::string Blob(absl::string_view line) {
  std::vector<std::string> fields = absl::StrSplit(line, ' ');
  std::string blob;
  EXPECT_GE(fields.size(), 2u);
  EXPECT_TRUE(absl::Base64Unescape(fields[1], &blob));
  return blob;
}

// Field returns the i-th space-separated field of a line.
std::string Field(absl::string_view line, size_t i) {
  std::vector<std::string> fields = absl::StrSplit(line, ' ');
  return i < fields.size() ? fields[i] : "";
}

std::string LineFor(absl::string_view type, absl::string_view blob) {
  return absl::StrCat(type, " ", absl::Base64Escape(blob), " test");
}

void ExpectRefused(absl::string_view line, absl::string_view message) {
  absl::StatusOr<SshPublicKey> key = ParseSshPublicKeyLine(line);
  ASSERT_FALSE(key.ok()) << "accepted: " << line.substr(0, 200);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(key.status().message(), HasSubstr(message));
}

// RsaBlob builds an ssh-rsa blob from raw mpint bodies (already in wire
// form, so tests can write non-minimal or negative encodings).
std::string RsaBlob(absl::string_view e_wire, absl::string_view n_wire) {
  SshWriter w;
  w.String("ssh-rsa");
  w.String(e_wire);
  w.String(n_wire);
  return w.Release();
}

// OddModulus returns the magnitude of an odd `bits`-bit number (top bit set).
std::string OddModulus(int bits) {
  std::string n((bits + 7) / 8, '\x5a');
  n[0] = static_cast<char>(1 << ((bits - 1) % 8));
  n.back() = static_cast<char>(n.back() | 1);
  return n;
}

const std::string k65537("\x01\x00\x01", 3);

std::string Mpint(absl::string_view magnitude) {
  SshWriter w;
  w.Mpint(magnitude);
  return w.Release().substr(4);  // the body without its length
}

class SshPublicKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys = new KeygenKeys;
    // A missing ssh-keygen fails every test (SetUp), it never skips them.
    if (access(test::kSshKeygenPath, X_OK) != 0) return;
    ASSERT_OK_AND_ASSIGN(keys->dir, test::MakeTempDir());
    const std::vector<std::tuple<std::string, std::string, int>> specs = {
        {"ed25519", "ed25519", 0}, {"p256", "ecdsa", 256},   {"p384", "ecdsa", 384},
        {"p521", "ecdsa", 521},    {"rsa2048", "rsa", 2048}, {"rsa1024", "rsa", 1024}};
    for (const auto& [name, type, bits] : specs) {
      ASSERT_OK_AND_ASSIGN(keys->by_name[name], test::GenerateSshKey(keys->dir, name, type, bits));
    }
  }
  void SetUp() override {
    ASSERT_EQ(access(test::kSshKeygenPath, X_OK), 0)
        << test::kSshKeygenPath << " is missing: run scripts/setup.sh (openssh-client)";
    ASSERT_FALSE(keys->by_name.empty()) << "ssh-keygen could not make the suite's keys";
  }
  static void TearDownTestSuite() {
    if (keys != nullptr && !keys->dir.empty()) std::filesystem::remove_all(keys->dir);
    delete keys;
    keys = nullptr;
  }
};

TEST_F(SshPublicKeyTest, ParsesEveryAcceptedTypeFromSshKeygen) {
  const std::map<std::string, std::pair<std::string, int>> want = {
      {"ed25519", {"ssh-ed25519", 256}},      {"p256", {"ecdsa-sha2-nistp256", 256}},
      {"p384", {"ecdsa-sha2-nistp384", 384}}, {"p521", {"ecdsa-sha2-nistp521", 521}},
      {"rsa2048", {"ssh-rsa", 2048}},
  };
  for (const auto& [name, type_bits] : want) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(SshPublicKey key, ParseSshPublicKeyLine(Line(name)));
    EXPECT_EQ(key.type, type_bits.first);
    EXPECT_EQ(key.bits, type_bits.second);
    EXPECT_EQ(key.blob, Blob(Line(name)));
    ASSERT_NE(key.key, nullptr);
    EXPECT_EQ(EVP_PKEY_get_bits(key.key.get()), type_bits.second);
    // The OpenSSL key encodes back to the very same blob.
    std::string type, blob;
    ASSERT_OK(EncodeSshPublicKey(key.key.get(), &type, &blob));
    EXPECT_EQ(type, key.type);
    EXPECT_EQ(blob, key.blob);
    EXPECT_EQ(key.fields(), absl::string_view(key.blob).substr(4 + type.size()));
  }
}

TEST_F(SshPublicKeyTest, AcceptsTabsNoCommentAndATrailingNewline) {
  const std::vector<std::string> fields = absl::StrSplit(Line("ed25519"), ' ');
  for (const std::string& line :
       {absl::StrCat(fields[0], "\t", fields[1]), absl::StrCat(fields[0], " ", fields[1], "\n"),
        absl::StrCat("  ", fields[0], "  ", fields[1], " a comment with spaces\r\n")}) {
    ASSERT_OK_AND_ASSIGN(SshPublicKey key, ParseSshPublicKeyLine(line));
    EXPECT_EQ(key.blob, Blob(Line("ed25519")));
  }
}

TEST_F(SshPublicKeyTest, RefusesMalformedLines) {
  ExpectRefused("", "empty");
  ExpectRefused(" \n", "empty");
  ExpectRefused("ssh-ed25519", "no key data");
  ExpectRefused(absl::StrCat(Line("ed25519"), "\n", Line("p256")), "one line");
  ExpectRefused(absl::StrCat(Line("ed25519"), std::string(1, '\0')), "one line");
  ExpectRefused(absl::StrCat(Line("ed25519"), " ", std::string(kMaxSshPublicKeyLineBytes, 'c')),
                "at most 16384");
}

TEST_F(SshPublicKeyTest, RefusesBadBase64) {
  ExpectRefused("ssh-ed25519 AAAA!!!!", "base64");
  ExpectRefused("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", "base64");
  // The same data without its padding is not the canonical spelling.
  std::string unpadded = Field(Line("p256"), 1);
  ASSERT_EQ(unpadded.back(), '=');
  while (unpadded.back() == '=') unpadded.pop_back();
  ExpectRefused(absl::StrCat("ecdsa-sha2-nistp256 ", unpadded), "base64");
}

TEST_F(SshPublicKeyTest, RefusesTypeMismatchBetweenLineAndData) {
  ExpectRefused(absl::StrCat("ssh-rsa ", Field(Line("ed25519"), 1)),
                "line says \"ssh-rsa\" but its key data is of type \"ssh-ed25519\"");
  ExpectRefused(absl::StrCat("ecdsa-sha2-nistp384 ", Field(Line("p256"), 1)),
                "key data is of type \"ecdsa-sha2-nistp256\"");
}

TEST_F(SshPublicKeyTest, RefusesCertificates) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  FakeClock clock(now);
  ASSERT_OK_AND_ASSIGN(auto minter, SshCertMinter::New(*GenerateKey(KeySpec::kEd25519), &clock));
  SshCertRequest request{.public_key = Line("ed25519"),
                         .principals = {"deploy"},
                         .lifetime = absl::Minutes(5),
                         .key_id = "cert-as-key"};
  ASSERT_OK_AND_ASSIGN(MintedSshCert cert, minter->Mint(request));
  ExpectRefused(cert.certificate, "is a certificate");
  // Certificate data under a plain type name is a mismatch.
  ExpectRefused(LineFor("ssh-ed25519", Blob(cert.certificate)),
                "key data is of type \"ssh-ed25519-cert-v01@openssh.com\"");
}

TEST_F(SshPublicKeyTest, RefusesDsaSecurityKeysAndUnknownTypes) {
  SshWriter dsa;
  dsa.String("ssh-dss");
  for (int i = 0; i < 4; ++i) dsa.Mpint(std::string(128, '\x11'));
  ExpectRefused(LineFor("ssh-dss", dsa.data()), "DSA (ssh-dss) SSH keys are not accepted");
  ExpectRefused("sk-ssh-ed25519@openssh.com AAAA", "security key type");
  ExpectRefused("ssh-foo AAAA", "unknown SSH key type \"ssh-foo\"");
  ExpectRefused("from=\"10.0.0.1\" ssh-ed25519 AAAA", "unknown SSH key type");
  ExpectRefused(absl::StrCat(std::string(100, 'x'), " AAAA"), "...\"");  // bounded echo
}

TEST_F(SshPublicKeyTest, RefusesTruncatedDataAndTrailingBytes) {
  for (const std::string name : {"ed25519", "p256", "rsa2048"}) {
    SCOPED_TRACE(name);
    const std::string type = Field(Line(name), 0);
    const std::string blob = Blob(Line(name));
    ExpectRefused(LineFor(type, blob.substr(0, blob.size() - 1)), "truncated");
    ExpectRefused(LineFor(type, blob.substr(0, 2)), "truncated reading the key type");
    ExpectRefused(LineFor(type, absl::StrCat(blob, "\x01")), "1 trailing bytes");
    ExpectRefused(LineFor(type, absl::StrCat(blob, std::string(7, '\0'))), "7 trailing bytes");
  }
  // A length field that claims nearly 4 GiB.
  ExpectRefused(LineFor("ssh-ed25519", absl::StrCat("\xff\xff\xff\xf0", "ssh-ed25519")),
                "truncated reading the key type");
}

TEST_F(SshPublicKeyTest, RefusesEd25519KeyOfWrongSize) {
  SshWriter w;
  w.String("ssh-ed25519");
  w.String(std::string(31, '\x07'));
  ExpectRefused(LineFor("ssh-ed25519", w.data()), "Ed25519 public key is 31 bytes; expected 32");
}

TEST_F(SshPublicKeyTest, RefusesEcPointsOffTheCurveOrMisencoded) {
  const std::string blob = Blob(Line("p256"));
  SshReader r(blob);
  absl::string_view type, curve, point;
  ASSERT_OK(r.String("type", &type));
  ASSERT_OK(r.String("curve", &curve));
  ASSERT_OK(r.String("point", &point));
  auto with = [&](absl::string_view c, absl::string_view q) {
    SshWriter w;
    w.String("ecdsa-sha2-nistp256");
    w.String(c);
    w.String(q);
    return LineFor("ecdsa-sha2-nistp256", w.data());
  };
  std::string off_curve(point);
  off_curve.back() = static_cast<char>(off_curve.back() ^ 1);
  ExpectRefused(with(curve, off_curve), "not on the curve");
  std::string zero(65, '\0');
  zero[0] = '\x04';
  ExpectRefused(with(curve, zero), "not on the curve");
  std::string compressed = absl::StrCat("\x02", point.substr(1, 32));
  ExpectRefused(with(curve, compressed), "not an uncompressed point of 65 bytes (got 33)");
  ExpectRefused(with(curve, std::string(1, '\0')), "not an uncompressed point");
  ExpectRefused(with("nistp384", point), "names curve \"nistp384\"; expected nistp256");
}

TEST_F(SshPublicKeyTest, RefusesWeakRsaNamingTheSize) {
  ExpectRefused(Line("rsa1024"), "RSA key of 1024 bits is too weak: at least 2048 bits");
}

TEST_F(SshPublicKeyTest, RsaModulusBoundsAreExact) {
  const std::string e = Mpint(k65537);
  for (int bits : {2048, 3000, 8192}) {
    SCOPED_TRACE(bits);
    ASSERT_OK_AND_ASSIGN(SshPublicKey key, ParseSshPublicKeyLine(LineFor(
                                               "ssh-rsa", RsaBlob(e, Mpint(OddModulus(bits))))));
    EXPECT_EQ(key.bits, bits);
  }
  ExpectRefused(LineFor("ssh-rsa", RsaBlob(e, Mpint(OddModulus(2047)))),
                "RSA key of 2047 bits is too weak");
  ExpectRefused(LineFor("ssh-rsa", RsaBlob(e, Mpint(OddModulus(8193)))),
                "RSA key of 8193 bits is too large: at most 8192");
}

TEST_F(SshPublicKeyTest, RefusesBadRsaNumbers) {
  const std::string n = Mpint(OddModulus(2048));
  for (const std::string& e :
       {Mpint(""), Mpint("\x01"), Mpint("\x02"), Mpint(std::string("\x01\x00\x00", 3)),
        Mpint(std::string(9, '\x01'))}) {
    ExpectRefused(LineFor("ssh-rsa", RsaBlob(e, n)), "exponent must be odd, at least 3");
  }
  ASSERT_OK(ParseSshPublicKeyLine(LineFor("ssh-rsa", RsaBlob(Mpint("\x03"), n))).status());
  ExpectRefused(LineFor("ssh-rsa", RsaBlob(std::string("\x00\x01\x00\x01", 4), n)),
                "not a minimal mpint");
  ExpectRefused(LineFor("ssh-rsa", RsaBlob(std::string("\x81\x00\x01", 3), n)), "negative mpint");
  std::string even = OddModulus(2048);
  even.back() = static_cast<char>(even.back() & ~1);
  ExpectRefused(LineFor("ssh-rsa", RsaBlob(Mpint(k65537), Mpint(even))), "modulus is even");
}

TEST(SshWireTest, MpintsAreMinimalTwosComplement) {
  EXPECT_EQ(Mpint(""), "");
  EXPECT_EQ(Mpint(std::string("\x00\x00", 2)), "");
  EXPECT_EQ(Mpint("\x7f"), "\x7f");
  EXPECT_EQ(Mpint("\x80"), std::string("\x00\x80", 2));
  EXPECT_EQ(Mpint(std::string("\x00\x01\x02", 3)), "\x01\x02");
  SshWriter w;
  w.Mpint("\x80");
  EXPECT_EQ(w.data(), std::string("\x00\x00\x00\x02\x00\x80", 6));

  SshReader r(w.data());
  absl::string_view magnitude;
  ASSERT_OK(r.Mpint("x", &magnitude));
  EXPECT_EQ(magnitude, "\x80");
  EXPECT_EQ(r.remaining(), 0u);
  const std::string zero_bytes(4, '\0');
  SshReader zero(zero_bytes);
  ASSERT_OK(zero.Mpint("x", &magnitude));
  EXPECT_EQ(magnitude, "");
}

TEST(SshWireTest, ReadsNeverPassTheEnd) {
  absl::string_view s;
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  EXPECT_THAT(SshReader(std::string(3, '\0')).U32("a", &u32).message(),
              HasSubstr("truncated reading a: needs 4 bytes, 3 left"));
  EXPECT_FALSE(SshReader(std::string(7, '\0')).U64("b", &u64).ok());
  EXPECT_THAT(SshReader(std::string("\x00\x00\x00\x05"
                                    "abcd",
                                    8))
                  .String("c", &s)
                  .message(),
              HasSubstr("needs 5 bytes, 4 left"));
  const std::string bytes("\x00\x00\x00\x01z\x00\x00\x00\x00\x00\x00\x00\x2a", 13);
  SshReader ok(bytes);
  ASSERT_OK(ok.String("s", &s));
  EXPECT_EQ(s, "z");
  ASSERT_OK(ok.U64("n", &u64));
  EXPECT_EQ(u64, 42u);
  EXPECT_EQ(ok.remaining(), 0u);
}

TEST(SshPublicKeyEncodeTest, EncodesOpenSslKeysAsSshKeygenDoes) {
  ASSERT_OK_AND_ASSIGN(std::string dir, test::MakeTempDir());
  absl::Cleanup remove_dir = [&dir] { std::filesystem::remove_all(dir); };
  for (KeySpec spec : {KeySpec::kEcP256, KeySpec::kEcP384, KeySpec::kEcP521, KeySpec::kRsa2048}) {
    ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(spec));
    SCOPED_TRACE(KeyDescription(key.get()));
    ASSERT_OK_AND_ASSIGN(std::string pem, PrivateKeyToPem(key.get()));
    const std::string path = dir + "/key.pem";
    std::filesystem::remove(path);
    {
      std::ofstream out(path);
      out << pem;
    }
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    ASSERT_OK_AND_ASSIGN(test::ProcessResult run,
                         test::RunProcess({test::kSshKeygenPath, "-y", "-f", path}));
    ASSERT_EQ(run.exit_code, 0) << run.output;
    const std::vector<std::string> theirs = absl::StrSplit(run.output, absl::ByAnyChar(" \n"));
    ASSERT_OK_AND_ASSIGN(std::string ours, OpenSshPublicKeyLine(key.get(), "a comment"));
    const std::vector<std::string> mine = absl::StrSplit(ours, ' ');
    ASSERT_EQ(mine.size(), 4u);
    EXPECT_EQ(mine[0], theirs[0]);
    EXPECT_EQ(mine[1], theirs[1]);
    EXPECT_EQ(absl::StrCat(mine[2], " ", mine[3]), "a comment");
  }
}

TEST(SshPublicKeyEncodeTest, EncodesEd25519AsRfc8709) {
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEd25519));
  unsigned char raw[32];
  size_t len = sizeof(raw);
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(key.get(), raw, &len), 1);
  ASSERT_OK_AND_ASSIGN(std::string line, OpenSshPublicKeyLine(key.get(), ""));
  EXPECT_EQ(line.find(' ', line.find(' ') + 1), std::string::npos);  // no comment, no space
  EXPECT_EQ(Blob(line), absl::StrCat(std::string("\0\0\0\x0bssh-ed25519\0\0\0\x20", 19),
                                     std::string(reinterpret_cast<char*>(raw), 32)));
  ASSERT_OK_AND_ASSIGN(SshPublicKey parsed, ParseSshPublicKeyLine(line));
  EXPECT_EQ(EVP_PKEY_eq(parsed.key.get(), key.get()), 1);
}

TEST(SshPublicKeyEncodeTest, RefusesOtherKeysAndBadComments) {
  ASSERT_OK_AND_ASSIGN(SslPtr<EVP_PKEY> key, GenerateKey(KeySpec::kEd25519));
  EXPECT_EQ(OpenSshPublicKeyLine(key.get(), "two\nlines").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSshPublicKeyLine(nullptr, "").status().code(), absl::StatusCode::kInvalidArgument);
  SslPtr<EVP_PKEY> x25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  ASSERT_NE(x25519, nullptr);
  absl::StatusOr<std::string> line = OpenSshPublicKeyLine(x25519.get(), "");
  EXPECT_EQ(line.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(line.status().message(), HasSubstr("has no OpenSSH form"));
}

}  // namespace
}  // namespace writ::issuer

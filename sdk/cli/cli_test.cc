#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/cli/command.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "writ/base/clock.h"
#include "writ/crypto/keys.h"

namespace writ::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

// ---------------------------------------------------------------- FlagSet

class FlagSetTest : public ::testing::Test {
 protected:
  FlagSetTest() : flags_("writ test", "--key FILE", "A test command.") {
    flags_.String("key", "FILE", &key_, "the key", FlagSet::kRequired);
    flags_.String("kid", "KID", &kid_, "the kid");
    flags_.StringList("aud", "AUD", &aud_, "an audience");
    flags_.Bool("no-claims", &no_claims_, "skip claims");
  }

  absl::Status Parse(std::vector<std::string> args) { return flags_.Parse(args); }

  FlagSet flags_;
  std::string key_;
  std::string kid_ = "default";
  std::vector<std::string> aud_;
  bool no_claims_ = false;
};

TEST_F(FlagSetTest, ParsesSpaceAndEqualsForms) {
  ASSERT_TRUE(Parse({"--key", "k.pem", "--kid=a=b", "--aud", "x", "--aud=y", "--no-claims"}).ok());
  EXPECT_EQ(key_, "k.pem");
  EXPECT_EQ(kid_, "a=b");
  EXPECT_THAT(aud_, ElementsAre("x", "y"));
  EXPECT_TRUE(no_claims_);
  EXPECT_TRUE(flags_.IsSet("kid"));
  EXPECT_FALSE(flags_.help_requested());
}

TEST_F(FlagSetTest, AbsentFlagKeepsDefault) {
  ASSERT_TRUE(Parse({"--key", "k"}).ok());
  EXPECT_EQ(kid_, "default");
  EXPECT_FALSE(flags_.IsSet("kid"));
  EXPECT_FALSE(no_claims_);
}

TEST_F(FlagSetTest, EqualsFormAllowsEmptyAndDashValues) {
  ASSERT_TRUE(Parse({"--key=--odd", "--kid="}).ok());
  EXPECT_EQ(key_, "--odd");
  EXPECT_EQ(kid_, "");
  EXPECT_TRUE(flags_.IsSet("kid"));
}

TEST_F(FlagSetTest, SpaceFormAcceptsSingleDashValue) {
  ASSERT_TRUE(Parse({"--key", "-"}).ok());
  EXPECT_EQ(key_, "-");
}

TEST_F(FlagSetTest, RejectsUnknownFlagAsUsageError) {
  absl::Status s = Parse({"--key", "k", "--bogus"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_EQ(s.message(), "writ test: unknown flag --bogus (see 'writ test --help')");
}

TEST_F(FlagSetTest, RejectsUnknownFlagWithValue) {
  absl::Status s = Parse({"--bogus=1", "--key", "k"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("unknown flag --bogus"));
}

TEST_F(FlagSetTest, RejectsSingleDashFlag) {
  absl::Status s = Parse({"-k", "x"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("unknown flag -k"));
}

TEST_F(FlagSetTest, RejectsPositionalArgument) {
  absl::Status s = Parse({"--key", "k", "extra"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("unexpected argument 'extra'"));
}

TEST_F(FlagSetTest, RejectsBareDoubleDash) {
  EXPECT_TRUE(IsUsageError(Parse({"--key", "k", "--"})));
}

TEST_F(FlagSetTest, RejectsMissingValueAtEnd) {
  absl::Status s = Parse({"--key"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("--key needs a value (FILE)"));
}

TEST_F(FlagSetTest, RejectsFlagAsValueOfSpaceForm) {
  // "--kid --key k" is a forgotten value, not a kid named "--key".
  absl::Status s = Parse({"--kid", "--key", "k"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("--kid needs a value"));
}

TEST_F(FlagSetTest, RejectsRepeatedSingleValueFlag) {
  absl::Status s = Parse({"--key", "a", "--key", "b"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("--key is given more than once"));
}

TEST_F(FlagSetTest, RejectsRepeatedBoolFlag) {
  EXPECT_TRUE(IsUsageError(Parse({"--key", "a", "--no-claims", "--no-claims"})));
}

TEST_F(FlagSetTest, RejectsValueOnBoolFlag) {
  absl::Status s = Parse({"--key", "a", "--no-claims=false"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("--no-claims takes no value"));
  EXPECT_FALSE(no_claims_);
}

TEST_F(FlagSetTest, RejectsMissingRequiredFlag) {
  absl::Status s = Parse({"--kid", "a"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(s.message(), HasSubstr("missing --key"));
}

TEST_F(FlagSetTest, HelpWinsOverErrorsAnywhere) {
  ASSERT_TRUE(Parse({"--bogus", "positional", "-h"}).ok());
  EXPECT_TRUE(flags_.help_requested());
}

TEST_F(FlagSetTest, LongHelpNeedsNoRequiredFlags) {
  ASSERT_TRUE(Parse({"--help"}).ok());
  EXPECT_TRUE(flags_.help_requested());
}

TEST_F(FlagSetTest, HelpListsEveryFlag) {
  const std::string help = flags_.Help();
  EXPECT_THAT(help, StartsWith("Usage: writ test --key FILE\n\nA test command.\n"));
  EXPECT_THAT(help, HasSubstr("  --key FILE   the key (required)\n"));
  EXPECT_THAT(help, HasSubstr("  --aud AUD    an audience (repeatable)\n"));
  EXPECT_THAT(help, HasSubstr("  --no-claims  skip claims\n"));
  EXPECT_THAT(help, HasSubstr("  --help       show this help\n"));
}

TEST_F(FlagSetTest, ControlCharactersInUnknownFlagAreNotEchoed) {
  absl::Status s = Parse({"--x\x1b[2J"});
  EXPECT_TRUE(IsUsageError(s));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("\x1b")));
}

// ------------------------------------------------------- in-process runs

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = absl::StrCat(::testing::TempDir(), "/writ_cli_test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    // Only files this test made live here.
    for (const std::string& f : made_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }

  std::string Path(absl::string_view name) {
    std::string p = absl::StrCat(dir_, "/", name);
    made_.push_back(p);
    return p;
  }

  void WriteFile(const std::string& path, absl::string_view contents) {
    std::ofstream f(path, std::ios::binary);
    f << contents;
  }

  RunResult Run(std::vector<std::string> args, const std::string& stdin_data = "") {
    std::istringstream in(stdin_data);
    std::ostringstream out, err;
    CommandEnv env{&in, &out, &err, &clock_};
    const int code = RunWrit(args, env);
    return {code, out.str(), err.str()};
  }

  // KeyAndJwks makes a key file and a one-key JWK Set file for `alg`.
  void KeyAndJwks(absl::string_view alg, std::string* key, std::string* jwks) {
    *key = Path(absl::StrCat(alg, ".pem"));
    *jwks = Path(absl::StrCat(alg, ".jwks"));
    RunResult gen = Run({"keygen", "--alg", std::string(alg), "--out", *key});
    ASSERT_EQ(gen.code, 0) << gen.err;
    RunResult jwk = Run({"jwk", "--key", *key, "--alg", std::string(alg), "--kid", "k1", "--set"});
    ASSERT_EQ(jwk.code, 0) << jwk.err;
    WriteFile(*jwks, jwk.out);
  }

  std::string Sign(const std::string& key, const std::string& claims) {
    RunResult r = Run({"jwt", "sign", "--key", key, "--kid", "k1", "--claims", claims});
    EXPECT_EQ(r.code, 0) << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  }

  static std::string Claims(int64_t exp) {
    return absl::StrCat(R"({"iss":"https://iss.example","aud":"api","sub":"svc","exp":)", exp, "}");
  }

  std::string dir_;
  std::vector<std::string> made_;
  FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
};

TEST_F(CliTest, NoArgumentsIsUsageErrorWithHelpOnStderr) {
  RunResult r = Run({});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(r.err, HasSubstr("Commands:"));
  EXPECT_THAT(r.err, HasSubstr("writ: no command given"));
}

TEST_F(CliTest, HelpOnEveryCommandAndSubcommand) {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"help"},
                                             {"keygen", "--help"},
                                             {"jwk", "--help"},
                                             {"jwk", "thumbprint", "--help"},
                                             {"jwt", "--help"},
                                             {"jwt", "sign", "--help"},
                                             {"jwt", "verify", "-h"},
                                             {"jwt", "decode", "--help"},
                                             {"demo", "--help"}}) {
    RunResult r = Run(args);
    EXPECT_EQ(r.code, kExitOk) << absl::StrJoin(args, " ");
    EXPECT_THAT(r.out, StartsWith("Usage: writ")) << absl::StrJoin(args, " ");
    EXPECT_THAT(r.err, IsEmpty());
  }
}

TEST_F(CliTest, UnknownCommandIsOneLineUsageError) {
  RunResult r = Run({"jwt", "frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "writ jwt: unknown command 'frobnicate' (see 'writ jwt --help')\n");
}

TEST_F(CliTest, UnknownFlagIsOneLineUsageError) {
  RunResult r = Run({"keygen", "--alg", "ES256", "--force"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.err, "writ keygen: unknown flag --force (see 'writ keygen --help')\n");
}

TEST_F(CliTest, KeygenRejectsUnknownAlgorithm) {
  RunResult r = Run({"keygen", "--alg", "HS256"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--alg HS256 is not one of"));
}

TEST_F(CliTest, KeygenRejectsBitsForEc) {
  EXPECT_EQ(Run({"keygen", "--alg", "ES256", "--bits", "2048"}).code, kExitUsage);
  EXPECT_EQ(Run({"keygen", "--alg", "RS256", "--bits", "1024"}).code, kExitUsage);
}

TEST_F(CliTest, KeygenToStdoutPrintsPkcs8) {
  RunResult r = Run({"keygen", "--alg", "EdDSA"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_THAT(r.err, IsEmpty());
}

TEST_F(CliTest, KeygenWritesMode0600AndNeverOverwrites) {
  const std::string key = Path("k.pem");
  const mode_t old_umask = umask(0);  // the file must be 0600 whatever the umask
  RunResult first = Run({"keygen", "--alg", "ES384", "--out", key});
  umask(old_umask);
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_THAT(first.out, IsEmpty());
  EXPECT_THAT(first.err, Not(HasSubstr("PRIVATE")));
  struct stat st;
  ASSERT_EQ(stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream f(key);
  const std::string before((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());

  RunResult second = Run({"keygen", "--alg", "ES384", "--out", key});
  EXPECT_EQ(second.code, kExitFailure);
  EXPECT_THAT(second.err, HasSubstr("refusing to overwrite existing file"));
  std::ifstream g(key);
  const std::string after((std::istreambuf_iterator<char>(g)), std::istreambuf_iterator<char>());
  EXPECT_EQ(before, after);
}

TEST_F(CliTest, KeygenRefusesToFollowSymlink) {
  const std::string target = Path("target");
  const std::string link = Path("link");
  WriteFile(target, "keep me");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  RunResult r = Run({"keygen", "--alg", "ES256", "--out", link});
  EXPECT_EQ(r.code, kExitFailure);
  std::ifstream f(target);
  std::string contents((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(contents, "keep me");
}

TEST_F(CliTest, JwkInfersAlgorithmForEcButNotRsa) {
  std::string ec_key = Path("ec.pem"), rsa_key = Path("rsa.pem");
  ASSERT_EQ(Run({"keygen", "--alg", "ES512", "--out", ec_key}).code, kExitOk);
  RunResult ec = Run({"jwk", "--key", ec_key});
  ASSERT_EQ(ec.code, kExitOk) << ec.err;
  EXPECT_THAT(ec.out, HasSubstr(R"("crv":"P-521")"));
  EXPECT_THAT(ec.out, HasSubstr(R"("alg":"ES512")"));
  EXPECT_THAT(ec.out, Not(HasSubstr(R"("d")")));

  ASSERT_EQ(Run({"keygen", "--alg", "PS256", "--out", rsa_key}).code, kExitOk);
  RunResult rsa = Run({"jwk", "--key", rsa_key});
  EXPECT_EQ(rsa.code, kExitUsage);
  EXPECT_THAT(rsa.err, HasSubstr("choose one with --alg"));
}

TEST_F(CliTest, JwkRejectsAlgorithmThatDoesNotFitKey) {
  std::string key = Path("ec.pem");
  ASSERT_EQ(Run({"keygen", "--alg", "ES256", "--out", key}).code, kExitOk);
  RunResult r = Run({"jwk", "--key", key, "--alg", "RS256"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "writ: RS256 needs an RSA key, not EC P-256\n");
}

TEST_F(CliTest, ThumbprintMatchesDefaultKid) {
  std::string key = Path("k.pem"), jwk_file = Path("k.jwk");
  ASSERT_EQ(Run({"keygen", "--alg", "EdDSA", "--out", key}).code, kExitOk);
  RunResult jwk = Run({"jwk", "--key", key});
  ASSERT_EQ(jwk.code, kExitOk);
  WriteFile(jwk_file, jwk.out);
  RunResult tp = Run({"jwk", "thumbprint", "--jwk", jwk_file});
  ASSERT_EQ(tp.code, kExitOk) << tp.err;
  EXPECT_THAT(jwk.out,
              HasSubstr(absl::StrCat(R"("kid":")", absl::StripSuffix(tp.out, "\n"), "\"")));
  // The same through standard input.
  EXPECT_EQ(Run({"jwk", "thumbprint", "--jwk", "-"}, jwk.out).out, tp.out);
}

TEST_F(CliTest, SignThenVerifyPrintsPayload) {
  std::string key, jwks;
  KeyAndJwks("ES256", &key, &jwks);
  const std::string claims = Claims(1'700'000'300);
  const std::string token = Sign(key, claims);
  // From stdin (with the newline a pipe adds), from --token and from a file.
  RunResult r = Run({"jwt", "verify", "--jwks", jwks, "--iss", "https://iss.example", "--aud",
                     "other", "--aud", "api"},
                    token + "\n");
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, claims + "\n");
  EXPECT_THAT(r.err, IsEmpty());
  r = Run({"jwt", "verify", "--jwks", jwks, "--no-claims", "--token", token});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, claims + "\n");
}

TEST_F(CliTest, VerifyRejectsExpiredTokenExactlyAtExpiryPlusLeeway) {
  std::string key, jwks;
  KeyAndJwks("EdDSA", &key, &jwks);
  const std::string token = Sign(key, Claims(1'700'000'000));
  const std::vector<std::string> args = {
      "jwt",   "verify", "--jwks",   jwks, "--iss",   "https://iss.example",
      "--aud", "api",    "--leeway", "10", "--token", token};
  clock_.Set(absl::FromUnixSeconds(1'700'000'009));
  EXPECT_EQ(Run(args).code, kExitOk);
  clock_.Set(absl::FromUnixSeconds(1'700'000'010));
  RunResult r = Run(args);
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_EQ(r.err, "writ: token rejected: token expired at 2023-11-14T22:13:20Z\n");
}

TEST_F(CliTest, VerifyFailureIsOneLineWithoutTheToken) {
  std::string key, jwks;
  KeyAndJwks("ES256", &key, &jwks);
  const std::string token = Sign(key, Claims(1'700'000'300));
  RunResult r = Run({"jwt", "verify", "--jwks", jwks, "--iss", "https://evil.example", "--aud",
                     "api", "--token", token});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.err, StartsWith("writ: token rejected: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  EXPECT_THAT(r.err, Not(HasSubstr(token.substr(token.rfind('.') + 1))));
}

TEST_F(CliTest, VerifyRequiresIssuerAndAudienceUnlessNoClaims) {
  std::string key, jwks;
  KeyAndJwks("ES256", &key, &jwks);
  EXPECT_EQ(Run({"jwt", "verify", "--jwks", jwks, "--aud", "api", "--token", "x"}).code,
            kExitUsage);
  EXPECT_EQ(Run({"jwt", "verify", "--jwks", jwks, "--iss", "i", "--token", "x"}).code, kExitUsage);
  RunResult r = Run({"jwt", "verify", "--jwks", jwks, "--no-claims", "--iss", "i"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--iss has no effect with --no-claims"));
}

TEST_F(CliTest, VerifyRejectsBadLeeway) {
  for (const char* leeway : {"-1", "61", "1.5", "abc", ""}) {
    RunResult r = Run({"jwt", "verify", "--jwks", "j", "--iss", "i", "--aud", "a",
                       absl::StrCat("--leeway=", leeway), "--token", "x"});
    EXPECT_EQ(r.code, kExitUsage) << leeway;
  }
}

TEST_F(CliTest, VerifyRefusesJwksAndTokenBothFromStdin) {
  RunResult r = Run({"jwt", "verify", "--jwks", "-", "--no-claims"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(
      Run({"jwt", "verify", "--jwks", "j", "--no-claims", "--token", "a", "--token-file", "f"})
          .code,
      kExitUsage);
}

TEST_F(CliTest, VerifyAcceptsASingleJwkAsTheKeySet) {
  std::string key = Path("k.pem"), jwk = Path("k.jwk");
  ASSERT_EQ(Run({"keygen", "--alg", "ES384", "--out", key}).code, kExitOk);
  WriteFile(jwk, Run({"jwk", "--key", key}).out);
  const std::string token = std::string(
      absl::StripSuffix(Run({"jwt", "sign", "--key", key, "--claims", "{}"}).out, "\n"));
  RunResult r = Run({"jwt", "verify", "--jwks", jwk, "--no-claims", "--token", token});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, "{}\n");
}

TEST_F(CliTest, VerifyMissingJwksFileIsFailureNotUsage) {
  RunResult r = Run({"jwt", "verify", "--jwks", Path("absent"), "--no-claims", "--token", "x"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_THAT(r.err, HasSubstr("cannot open --jwks file"));
  EXPECT_THAT(r.err, HasSubstr("No such file or directory"));
}

TEST_F(CliTest, SignRejectsClaimsThatAreNotAnObject) {
  std::string key = Path("k.pem");
  ASSERT_EQ(Run({"keygen", "--alg", "ES256", "--out", key}).code, kExitOk);
  for (const char* claims : {"[]", "{\"a\":1,\"a\":2}", "{\"exp\":\"soon\"}", "{", ""}) {
    RunResult r = Run({"jwt", "sign", "--key", key, "--claims", claims});
    EXPECT_EQ(r.code, kExitFailure) << claims;
    EXPECT_THAT(r.err, StartsWith("writ: claims: ")) << claims;
    EXPECT_THAT(r.out, IsEmpty());
  }
}

TEST_F(CliTest, SignNeedsExactlyOneClaimsSource) {
  EXPECT_EQ(Run({"jwt", "sign", "--key", "k"}).code, kExitUsage);
  EXPECT_EQ(Run({"jwt", "sign", "--key", "k", "--claims", "{}", "--claims-file", "f"}).code,
            kExitUsage);
}

TEST_F(CliTest, SignRefusesPublicKeyButJwkAcceptsIt) {
  auto key = GenerateKey(KeySpec::kEcP256);
  ASSERT_TRUE(key.ok());
  auto pem = PublicKeyToPem(key->get());
  ASSERT_TRUE(pem.ok());
  const std::string pub = Path("k.pub");
  WriteFile(pub, *pem);
  RunResult sign = Run({"jwt", "sign", "--key", pub, "--claims", "{}"});
  EXPECT_EQ(sign.code, kExitFailure);
  EXPECT_EQ(sign.err, "writ: --key file holds a public key; signing needs the private key\n");
  RunResult jwk = Run({"jwk", "--key", pub});
  EXPECT_EQ(jwk.code, kExitOk) << jwk.err;
  EXPECT_THAT(jwk.out, HasSubstr(R"("alg":"ES256")"));
}

TEST_F(CliTest, JwkRejectsGarbageKeyFileWithoutEchoingIt) {
  const std::string bad = Path("bad.pem");
  WriteFile(bad, "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n");
  RunResult r = Run({"jwk", "--key", bad});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "writ: --key file is not a valid PEM private key (PKCS#8, RSA or EC)\n");
}

TEST_F(CliTest, SignDefaultsTypToJwtAndCanLeaveItOut) {
  std::string key = Path("k.pem");
  ASSERT_EQ(Run({"keygen", "--alg", "ES256", "--out", key}).code, kExitOk);
  RunResult with = Run({"jwt", "sign", "--key", key, "--claims", "{}"});
  RunResult without = Run({"jwt", "sign", "--key", key, "--typ=", "--claims", "{}"});
  ASSERT_EQ(with.code, kExitOk);
  ASSERT_EQ(without.code, kExitOk);
  EXPECT_THAT(Run({"jwt", "decode", "--token", with.out}).out, HasSubstr(R"("typ": "JWT")"));
  EXPECT_THAT(Run({"jwt", "decode", "--token", without.out}).out, Not(HasSubstr("typ")));
  EXPECT_THAT(with.err, HasSubstr("no \"exp\""));
}

TEST_F(CliTest, SignRejectsNonAsciiTyp) {
  RunResult r = Run({"jwt", "sign", "--key", "k", "--typ", "\xff", "--claims", "{}"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("--typ must be printable ASCII"));
}

TEST_F(CliTest, DecodeLabelsOutputUnverifiedAndExplainsRefusal) {
  // {"alg":"none"} . {"sub":"x"} . (empty)
  RunResult r = Run({"jwt", "decode"}, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.\n");
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("\"alg\": \"none\""));
  EXPECT_THAT(r.out, HasSubstr("\"sub\": \"x\""));
  EXPECT_THAT(r.err, HasSubstr("UNVERIFIED"));
  EXPECT_THAT(r.err, HasSubstr("Writ would refuse this token"));
}

TEST_F(CliTest, DecodeRejectsWrongSegmentCount) {
  RunResult r = Run({"jwt", "decode", "--token", "a.b"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "writ: token has 2 segments; a compact JWS has exactly 3\n");
}

TEST_F(CliTest, DemoRunsAndNeverPrintsAPrivateKey) {
  RunResult r = Run({"demo"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Every step behaved as expected."));
  EXPECT_THAT(r.out, Not(HasSubstr("PRIVATE")));
  EXPECT_THAT(r.out, Not(HasSubstr("\"d\"")));
  EXPECT_THAT(r.out, Not(HasSubstr("UNEXPECTED")));
}

TEST(ExitCodeTest, ErrorLineIsOneLineWithoutControlBytes) {
  std::ostringstream err;
  EXPECT_EQ(ExitCode(absl::UnauthenticatedError("bad \"typ\" x\n\x1b[31mforged"), err),
            kExitRefused);
  EXPECT_EQ(err.str(), "writ: bad \"typ\" x??[31mforged\n");
}

TEST(ExitCodeTest, MapsStatusesToExitCodes) {
  std::ostringstream err;
  EXPECT_EQ(ExitCode(absl::OkStatus(), err), kExitOk);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(ExitCode(UsageError("writ x", "bad flag"), err), kExitUsage);
  EXPECT_EQ(err.str(), "writ x: bad flag (see 'writ x --help')\n");
  EXPECT_FALSE(IsUsageError(absl::InvalidArgumentError("writ x: bad flag")));
  // "No" and "not now" are told apart, so a pipeline retries only the second.
  EXPECT_EQ(ExitCode(absl::PermissionDeniedError("invalid_scope"), err), kExitRefused);
  EXPECT_EQ(ExitCode(absl::UnauthenticatedError("bad signature"), err), kExitRefused);
  EXPECT_EQ(ExitCode(absl::UnavailableError("connect failed"), err), kExitUnavailable);
  EXPECT_EQ(ExitCode(absl::DeadlineExceededError("timeout"), err), kExitUnavailable);
  EXPECT_EQ(ExitCode(absl::ResourceExhaustedError("HTTP 429"), err), kExitUnavailable);
  EXPECT_EQ(ExitCode(absl::FailedPreconditionError("no env"), err), kExitFailure);
  EXPECT_EQ(ExitCode(absl::InvalidArgumentError("bad file"), err), kExitFailure);
}

// ------------------------------------------------------------------- io

TEST_F(CliTest, ReadInputCapsSize) {
  const std::string big = Path("big");
  WriteFile(big, std::string(101, 'x'));
  std::istringstream in;
  auto r = ReadInput(big, "test file", in, 100);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ReadInput(big, "test file", in, 101).ok());
  std::istringstream stdin_big(std::string(101, 'y'));
  EXPECT_FALSE(ReadInput("-", "stdin", stdin_big, 100).ok());
}

TEST(TrimTokenTest, StripsSurroundingWhitespaceOnly) {
  EXPECT_EQ(TrimToken(" \ta.b.c\r\n"), "a.b.c");
  EXPECT_EQ(TrimToken("a. b.c"), "a. b.c");
}

}  // namespace
}  // namespace writ::cli

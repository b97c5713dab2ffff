// Interop: a token minted by writ-issuer verifies with an independent JOSE
// implementation (PyJWT, tests/interop/issuer_verify.py) that knows nothing
// but the issuer URL, and a tampered token or a wrong audience does not.
#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/issuer_fixture.h"
#include "tests/testing/status_test_util.h"
#include "writ/base/base64url.h"

#ifndef WRIT_PYTHON
#error "WRIT_PYTHON must name the interpreter"
#endif
#ifndef WRIT_ISSUER_VERIFY_PY
#error "WRIT_ISSUER_VERIFY_PY must name tests/interop/issuer_verify.py"
#endif

namespace writ::integration {
namespace {

using ::testing::HasSubstr;

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// ShellQuote single-quotes `s` for /bin/sh.
std::string ShellQuote(absl::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

RunResult RunVerifier(const std::string& issuer, const std::string& token,
                      const std::string& audience) {
  std::string cmd =
      absl::StrCat("PYTHONNOUSERSITE=1 ", ShellQuote(WRIT_PYTHON), " ",
                   ShellQuote(WRIT_ISSUER_VERIFY_PY), " --issuer ", ShellQuote(issuer), " --token ",
                   ShellQuote(token), " --audience ", ShellQuote(audience), " 2>&1");
  RunResult result;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = ::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class IssuerInteropTest : public IssuerFixture {};

TEST_F(IssuerInteropTest, PyJwtVerifiesMintedTokenFromDiscoveryAlone) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpResult r = Exchange(MintCi(), kDeployAudience, "deploy:write");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string token = *JsonString(r.body, "access_token");

  RunResult ok = RunVerifier(server_->issuer_url(), token, kDeployAudience);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr(absl::StrCat("\"sub\": \"", kGrantedSubject, "\"")));
  EXPECT_THAT(ok.output, HasSubstr("\"scope\": \"deploy:write\""));

  {
    SCOPED_TRACE("wrong audience");
    RunResult bad = RunVerifier(server_->issuer_url(), token, "https://other.example");
    EXPECT_EQ(bad.exit_code, 1) << bad.output;
    EXPECT_THAT(bad.output, HasSubstr("Audience"));
  }
  {
    SCOPED_TRACE("tampered payload");
    // The payload re-encoded with another subject; the signature stays.
    size_t dot1 = token.find('.');
    size_t dot2 = token.find('.', dot1 + 1);
    ASSERT_OK_AND_ASSIGN(std::string payload,
                         Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1)));
    size_t at = payload.find(kGrantedSubject);
    ASSERT_NE(at, std::string::npos);
    payload.replace(at, std::string(kGrantedSubject).size(), "spiffe://acme.example/ci/acme/evil");
    std::string tampered =
        absl::StrCat(token.substr(0, dot1 + 1), Base64UrlEncode(payload), token.substr(dot2));
    RunResult bad = RunVerifier(server_->issuer_url(), tampered, kDeployAudience);
    EXPECT_EQ(bad.exit_code, 1) << bad.output;
  }
  {
    SCOPED_TRACE("wrong issuer URL");
    RunResult bad = RunVerifier(ci_idp_->issuer(), token, kDeployAudience);
    EXPECT_NE(bad.exit_code, 0) << bad.output;
  }
}

TEST_F(IssuerInteropTest, VerifierRefusesAnEs256TokenWithoutAtJwtType) {
  // A correctly signed ES256 token from a provider whose discovery it can
  // fetch, but typ "JWT": the verifier must insist on at+jwt.
  ASSERT_OK_AND_ASSIGN(std::string token,
                       ci_idp_->Mint(absl::Now(), R"({"aud":"rp"})", JwsAlgorithm::kEs256));
  RunResult bad = RunVerifier(ci_idp_->issuer(), token, "rp");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("at+jwt"));
}

}  // namespace
}  // namespace writ::integration

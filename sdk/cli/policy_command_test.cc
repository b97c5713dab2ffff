// writ policy test | explain, run in-process like cli_test.
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/cli/command.h"
#include "sdk/cli/commands.h"
#include "writ/base/clock.h"

namespace writ::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct RunResult {
  int code;
  std::string out;
  std::string err;
};

const std::string kPolicies = std::string(WRIT_TESTDATA_DIR) + "/../../policies";
const std::string kBad = std::string(WRIT_TESTDATA_DIR) + "/policies";

class PolicyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = absl::StrCat(::testing::TempDir(), "/writ_policy_test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : made_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& contents) {
    std::string p = absl::StrCat(dir_, "/", name);
    made_.push_back(p);
    std::ofstream(p, std::ios::binary) << contents;
    return p;
  }
  RunResult Run(std::vector<std::string> args, const std::string& stdin_data = "") {
    std::istringstream in(stdin_data);
    std::ostringstream out, err;
    CommandEnv env{&in, &out, &err, &clock_};
    const int code = RunWrit(args, env);
    return {code, out.str(), err.str()};
  }

  // Monday 2026-11-23 19:30 UTC: inside the shipped migration window.
  FakeClock clock_{absl::FromUnixSeconds(1795462200)};
  std::string dir_;
  std::vector<std::string> made_;
};

TEST_F(PolicyCommandTest, TestPassesOnTheShippedPolicies) {
  RunResult r = Run({"policy", "test", kPolicies});
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("PASS "));
  EXPECT_THAT(r.out, HasSubstr("github-actions.yaml:"));
  EXPECT_THAT(r.out, HasSubstr("PASS " + kPolicies + "/ssh-access.yaml:"));
  EXPECT_THAT(r.out, HasSubstr(" passed, 0 failed (5 rules in 3 files)"));
  EXPECT_THAT(r.err, IsEmpty());
}

TEST_F(PolicyCommandTest, TestFailsOnAFailingCase) {
  RunResult r = Run({"policy", "test", kBad + "/failing-self-test.yaml"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_THAT(r.out, HasSubstr("FAIL " + kBad +
                               "/failing-self-test.yaml:8: a stranger is allowed (wrong on "
                               "purpose): expected allow, got deny access_denied"));
  EXPECT_THAT(r.out, HasSubstr("0 passed, 1 failed"));
  EXPECT_THAT(r.err, HasSubstr("writ: 1 of 1 policy tests failed"));
}

TEST_F(PolicyCommandTest, TestPrintsEveryLoadErrorWithFileAndLine) {
  RunResult r = Run({"policy", "test", kBad + "/bad-regex.yaml", kBad + "/unknown-key.yaml"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_THAT(r.err, HasSubstr(kBad + "/bad-regex.yaml:4: rule \"bad-regex\": subject_pattern: "
                                      "invalid regular expression"));
  EXPECT_THAT(r.err, HasSubstr(kBad + "/unknown-key.yaml:4: rule \"unknown-key\": subjekt: "
                                      "unknown key"));
  EXPECT_THAT(r.err, HasSubstr("writ: the policies do not load (2 errors)"));
}

TEST_F(PolicyCommandTest, TestUsageErrors) {
  EXPECT_EQ(Run({"policy", "test", "--frobnicate"}).code, kExitUsage);
  EXPECT_EQ(Run({"policy", "test", dir_ + "/missing"}).code, kExitFailure);
  RunResult help = Run({"policy", "test", "--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_THAT(help.out, HasSubstr("usage: writ policy test [DIR|FILE...]"));
}

TEST_F(PolicyCommandTest, TestOfAnEmptyDirectoryPasses) {
  RunResult r = Run({"policy", "test", dir_});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("0 passed, 0 failed (0 rules in 0 files)"));
}

TEST_F(PolicyCommandTest, ExplainAllowWithClaimFlags) {
  RunResult r = Run({"policy", "explain", "--policies", kPolicies, "--issuer", "gitlab",
                     "--subject", "project_path:acme/db:ref_type:branch:ref:main", "--claim",
                     "job_name=migrate", "--audience", "https://db.acme.example",
                     "--client-address", "10.20.0.1", "--lifetime", "1h"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("decision: allow by rule \"gitlab-db-migrations\""));
  EXPECT_THAT(r.out, HasSubstr("lifetime: 1h"));
  EXPECT_THAT(r.out, HasSubstr("MATCH gitlab-db-migrations"));
  EXPECT_THAT(r.out, HasSubstr("no    github-deploy-from-main"));
  EXPECT_THAT(r.out, HasSubstr("- the token's issuer is \"gitlab\", not \"github\""));
}

TEST_F(PolicyCommandTest, ExplainDenyWithClaimsFileAndTime) {
  std::string claims = Write("claims.json", R"({"job_name":"migrate"})");
  RunResult r = Run({"policy", "explain", "--policies", kPolicies, "--issuer", "gitlab",
                     "--subject", "project_path:acme/db:ref_type:branch:ref:main", "--claims",
                     claims, "--audience", "https://db.acme.example", "--client-address",
                     "10.20.0.1", "--time", "2026-11-22T19:30:00Z"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("decision: deny (access_denied), closest rule "
                               "\"gitlab-db-migrations\""));
  EXPECT_THAT(r.out, HasSubstr("(Sun) is outside the allowed window"));
}

TEST_F(PolicyCommandTest, ExplainSshWithKindAndPrincipals) {
  RunResult r = Run({"policy",           "explain",
                     "--policies",       kPolicies,
                     "--issuer",         "gitlab",
                     "--subject",        "project_path:acme/app:ref_type:branch:ref:main",
                     "--claim",          "project_path=acme/app",
                     "--claim",          "namespace_path=acme",
                     "--claim",          "ref=main",
                     "--claim",          "ref_type=branch",
                     "--claim",          "ref_protected=true",
                     "--claim",          "pipeline_source=push",
                     "--kind",           "ssh",
                     "--principal",      "ci-acme",
                     "--client-address", "10.1.2.3",
                     "--lifetime",       "1h"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("decision: allow by rule \"gitlab-ssh-protected-branch\""));
  EXPECT_THAT(r.out, HasSubstr("  kind:     ssh\n"));
  EXPECT_THAT(r.out, HasSubstr("  subject:  spiffe://acme.example/gitlab/acme/app/main\n"));
  EXPECT_THAT(r.out, HasSubstr("  principals: [ci-acme]\n"));
  EXPECT_THAT(r.out, HasSubstr("  source addresses: [10.1.2.3]\n"));
  EXPECT_THAT(r.out, HasSubstr("  lifetime: 10m\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("audience:")));
  // The JWT rule matched the identity; its trace says why it does not grant.
  EXPECT_THAT(r.out, HasSubstr("no    gitlab-deploy-protected-branch"));
  EXPECT_THAT(r.out, HasSubstr("- this rule grants jwt, not ssh"));

  RunResult denied = Run({"policy",           "explain",
                          "--policies",       kPolicies,
                          "--issuer",         "gitlab",
                          "--subject",        "project_path:acme/app:ref_type:branch:ref:main",
                          "--claim",          "project_path=acme/app",
                          "--claim",          "namespace_path=acme",
                          "--claim",          "ref=main",
                          "--claim",          "ref_type=branch",
                          "--claim",          "ref_protected=true",
                          "--kind",           "ssh",
                          "--principal",      "root",
                          "--client-address", "10.1.2.3"});
  EXPECT_EQ(denied.code, kExitOk) << denied.err;
  EXPECT_THAT(denied.out, HasSubstr("decision: deny (invalid_scope), closest rule "
                                    "\"gitlab-ssh-protected-branch\""));
  EXPECT_THAT(denied.out, HasSubstr("SSH principal \"root\" is not granted (granted: "
                                    "\"deploy\", \"ci-acme\")"));
}

TEST_F(PolicyCommandTest, ExplainX509SvidShowsRenewable) {
  RunResult r =
      Run({"policy",     "explain",
           "--policies", kPolicies,
           "--issuer",   "github",
           "--subject",  "repo:acme/app:ref:refs/heads/main",
           "--claim",    "repository=acme/app",
           "--claim",    "repository_owner=acme",
           "--claim",    "ref=refs/heads/main",
           "--claim",    "event_name=push",
           "--claim",    "job_workflow_ref=acme/app/.github/workflows/deploy.yml@refs/heads/main",
           "--kind",     "x509-svid"});
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(r.out, HasSubstr("decision: allow by rule \"github-deploy-from-main\""));
  EXPECT_THAT(r.out, HasSubstr("  kind:     x509-svid\n"));
  EXPECT_THAT(r.out, HasSubstr("  subject:  spiffe://acme.example/github/acme/app\n"));
  EXPECT_THAT(r.out, HasSubstr("  renewable: true\n"));
  EXPECT_THAT(r.out, HasSubstr("- this rule grants jwt, not x509-svid"));
}

TEST_F(PolicyCommandTest, ExplainUsageErrors) {
  RunResult kind = Run({"policy", "explain", "--policies", kPolicies, "--issuer", "github",
                        "--subject", "s", "--kind", "x509"});
  EXPECT_EQ(kind.code, kExitUsage);
  EXPECT_THAT(kind.err, HasSubstr("--kind x509 is not a credential kind (jwt, x509-svid, ssh)"));
  EXPECT_EQ(Run({"policy", "explain", "--issuer", "github", "--subject", "s"}).code, kExitUsage);
  EXPECT_EQ(Run({"policy", "explain", "--policies", kPolicies, "--issuer", "github", "--subject",
                 "s", "--lifetime", "forever"})
                .code,
            kExitUsage);
  EXPECT_EQ(Run({"policy", "explain", "--policies", kPolicies, "--issuer", "github", "--subject",
                 "s", "--time", "tomorrow"})
                .code,
            kExitUsage);
  EXPECT_EQ(Run({"policy", "explain", "--policies", kPolicies, "--issuer", "github", "--subject",
                 "s", "--claim", "novalue"})
                .code,
            kExitUsage);
  RunResult r = Run({"policy", "explain", "--policies", kPolicies, "--issuer", "github",
                     "--subject", "s", "--claims", "-"},
                    "[1,2]");
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_THAT(r.err, HasSubstr("writ: claims: "));
}

}  // namespace
}  // namespace writ::cli

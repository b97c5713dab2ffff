// Loading (every error type, with file:line), the self-test runner and
// PolicyStore reloads.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/policy/policy_engine.h"
#include "issuer/src/policy/policy_store.h"
#include "issuer/src/policy/policy_tests.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string LoadError(std::string yaml, PolicyEngineOptions options = {}) {
  auto engine = PolicyEngine::FromSources({{"p.yaml", std::move(yaml)}}, options);
  EXPECT_FALSE(engine.ok());
  if (engine.ok()) return "";
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(engine.status().message());
}

std::string Rule(std::string body) {
  return absl::StrCat("rules:\n  - name: r\n    issuer: github\n", body);
}

TEST(PolicyLoadTest, EveryErrorTypeNamesFileLineRuleAndField) {
  struct Case {
    std::string yaml;
    std::string error;
  } cases[] = {
      {"rules: [", "p.yaml:1: YAML: end of sequence flow not found"},
      {"rulez: []", "p.yaml:1: rulez: unknown key (expected one of: rules, tests)"},
      {"rules: {}", "p.yaml:1: rules: must be a list of rules"},
      {Rule("    grant: {audiences: [a]}\n    color: red\n"),
       "p.yaml:5: rule \"r\": color: unknown key"},
      {"rules:\n  - issuer: github\n    grant: {audiences: [a]}\n",
       "p.yaml:2: rule #1: name: is required"},
      {"rules:\n  - name: \"a b\"\n    issuer: github\n    grant: {audiences: [a]}\n",
       "p.yaml:2: rule \"a b\": name: must be 1 to 128 of [A-Za-z0-9._-]"},
      {"rules:\n  - name: r\n    grant: {audiences: [a]}\n",
       "p.yaml:2: rule \"r\": issuer: is required"},
      {Rule("    subject: x\n    subject_pattern: y\n    grant: {audiences: [a]}\n"),
       "p.yaml:5: rule \"r\": subject_pattern: give subject or subject_pattern, not both"},
      {Rule("    subject_pattern: \"(\"\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": subject_pattern: invalid regular expression: missing )"},
      {Rule(absl::StrCat("    subject_pattern: \"", std::string(1100, 'a'),
                         "\"\n    grant: {audiences: [a]}\n")),
       "p.yaml:4: rule \"r\": subject_pattern: pattern is 1100 bytes; the limit is 1024"},
      {Rule("    subject_pattern: \"((a{1,100}){1,100}){1,100}\"\n    grant: {audiences: [a]}\n"),
       "rule \"r\": subject_pattern: "},
      {Rule("    claims: {ref: {regex: \"[\"}}\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": claims.ref.regex: invalid regular expression"},
      {Rule("    claims: {ref: {glob: x, regex: y}}\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": claims.ref: must be a string, or a map with one of glob"},
      {Rule("    claims: {ref: {globb: x}}\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": claims.ref.globb: unknown key"},
      {Rule("    claims: {ref: {one_of: []}}\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": claims.ref.one_of: must list at least one value"},
      {Rule("    claims: {a..b: x}\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": claims.a..b: claim name \"a..b\" has an empty part"},
      {Rule("    conditions: {source_cidrs: [\"10.0.0.0/33\"]}\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": conditions.source_cidrs[0]: \"10.0.0.0/33\": prefix length must "
       "be 0 to 32"},
      {Rule("    conditions: {source_cidrs: [\"::1/128\", \"10.0.0.1/8\"]}\n"
            "    grant: {audiences: [a]}\n"),
       "conditions.source_cidrs[1]: \"10.0.0.1/8\" has address bits set past the /8 prefix"},
      {Rule("    conditions: {source_cidrs: [\"example.com/8\"]}\n    grant: {audiences: [a]}\n"),
       "is not an address block"},
      {Rule("    conditions: {time_window: {days: [mon, funday]}}\n    grant: {audiences: [a]}\n"),
       "p.yaml:4: rule \"r\": conditions.time_window: \"funday\" is not a weekday"},
      {Rule("    conditions: {time_window: {from: \"18:00\", to: \"07:00\"}}\n"
            "    grant: {audiences: [a]}\n"),
       "conditions.time_window: from 18:00 must be before to 07:00"},
      {Rule("    conditions: {time_window: {from: \"25:00\"}}\n    grant: {audiences: [a]}\n"),
       "\"25:00\" is not a time of day"},
      {Rule(""), "p.yaml:2: rule \"r\": grant: is required"},
      {Rule("    grant: {scopes: [a]}\n"), "p.yaml:4: rule \"r\": grant.audiences: is required"},
      {Rule("    grant: {audiences: []}\n"),
       "p.yaml:4: rule \"r\": grant.audiences: must list at least one audience"},
      {Rule("    grant: {audiences: [a], scopes: [x], default_scopes: [y]}\n"),
       "rule \"r\": grant.default_scopes: \"y\" is not in grant.scopes"},
      {Rule("    grant: {audiences: [a], max_lifetime: forever}\n"),
       "rule \"r\": grant.max_lifetime: \"forever\" is not a positive duration"},
      {Rule("    grant: {audiences: [a], default_lifetime: -5m}\n"),
       "grant.default_lifetime: \"-5m\" is not a positive duration"},
      {Rule("    grant: {audiences: [a], default_lifetime: 1h, max_lifetime: 5m}\n"),
       "grant.default_lifetime: is longer than max_lifetime (5m)"},
      {Rule("    grant: {audiences: [a], subject: \"spiffe://x/{repo\"}\n"),
       "rule \"r\": grant.subject: '{' at offset 11 is not closed"},
      {Rule("    grant: {audiences: [a], subject: \"x}\"}\n"),
       "grant.subject: '}' at offset 1 has no '{'"},
      {Rule("    grant: {audiences: [a]}\n    delegation: {max_depth: 0, actors: "
            "[{issuer: a, subject: b}]}\n"),
       "p.yaml:5: rule \"r\": delegation.max_depth: must be a whole number of at least 1"},
      {Rule("    grant: {audiences: [a]}\n    delegation: {actors: []}\n"),
       "rule \"r\": delegation.actors: must be a non-empty list"},
      {Rule("    grant: {audiences: [a]}\n    delegation: {actors: [{subject: b}]}\n"),
       "rule \"r\": delegation.actors[0].issuer: is required"},
      {Rule("    grant: {audiences: [a]}\ntests:\n  - name: t\n    identity: {issuer: g}\n"
            "    expect: {decision: allow}\n"),
       "p.yaml:7: test \"t\": identity.subject: is required"},
      {Rule("    grant: {audiences: [a]}\ntests:\n  - name: t\n    identity: {issuer: g, "
            "subject: s}\n    expect: {decision: maybe}\n"),
       "p.yaml:8: test \"t\": expect.decision: must be allow or deny"},
      {Rule("    grant: {audiences: [a]}\ntests:\n  - name: t\n    identity: {issuer: g, "
            "subject: s}\n    expect: {decision: allow, error: invalid_scope}\n"),
       "test \"t\": expect.error: is only for decision: deny"},
      {Rule("    grant: {audiences: [a]}\ntests:\n  - name: t\n    identity: {issuer: g, "
            "subject: s}\n    request: {time: yesterday}\n    expect: {decision: deny}\n"),
       "test \"t\": request.time: must be RFC 3339"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(LoadError(c.yaml), HasSubstr(c.error)) << c.yaml;
  }
}

TEST(PolicyLoadTest, UnknownIssuerIsAnErrorWhenIssuersAreKnown) {
  PolicyEngineOptions options;
  options.known_issuers = {"github", "gitlab"};
  EXPECT_THAT(LoadError(Rule("    grant: {audiences: [a]}\n") +
                            "  - name: s\n    issuer: bitbucket\n    grant: {audiences: [a]}\n",
                        options),
              HasSubstr("p.yaml:6: rule \"s\": issuer: \"bitbucket\" is not a trusted issuer of "
                        "this configuration (github, gitlab)"));
  EXPECT_TRUE(
      PolicyEngine::FromSources({{"p.yaml", Rule("    grant: {audiences: [a]}\n")}}, options).ok());
}

TEST(PolicyLoadTest, ListsEveryErrorAcrossFiles) {
  auto engine = PolicyEngine::FromSources(
      {{"a.yaml", Rule("    grant: {audiences: []}\n    bogus: 1\n")},
       {"b.yaml", Rule("    grant: {audiences: [x], max_lifetime: 1y}\n")}},
      {});
  ASSERT_FALSE(engine.ok());
  std::string message(engine.status().message());
  EXPECT_THAT(message, HasSubstr("a.yaml:5: rule \"r\": bogus: unknown key"));
  EXPECT_THAT(message, HasSubstr("a.yaml:4: rule \"r\": grant.audiences: must list"));
  EXPECT_THAT(message, HasSubstr("b.yaml:2: rule \"r\": name: is already used by another rule"));
  EXPECT_THAT(message, HasSubstr("b.yaml:4: rule \"r\": grant.max_lifetime:"));
}

TEST(PolicyLoadTest, DuplicateKeysAreErrors) {
  EXPECT_THAT(LoadError(Rule("    grant: {audiences: [a]}\n    issuer: gitlab\n")),
              HasSubstr("p.yaml:5: rule \"r\": issuer: is given twice"));
}

TEST(PolicyLoadTest, TestdataFilesFailWithTheirDefect) {
  const std::string dir = std::string(WRIT_TESTDATA_DIR) + "/policies/";
  struct Case {
    std::string file;
    std::string error;
  } cases[] = {
      {"bad-regex.yaml",
       "bad-regex.yaml:4: rule \"bad-regex\": subject_pattern: invalid "
       "regular expression"},
      {"unknown-key.yaml", "unknown-key.yaml:4: rule \"unknown-key\": subjekt: unknown key"},
      {"duplicate-rule-name.yaml",
       "duplicate-rule-name.yaml:5: rule \"twice\": name: is already "
       "used"},
      {"bad-cidr.yaml", "bad-cidr.yaml:5: rule \"bad-cidr\": conditions.source_cidrs[0]"},
      {"missing-audiences.yaml",
       "missing-audiences.yaml:4: rule \"missing-audiences\": "
       "grant.audiences: is required"},
  };
  for (const Case& c : cases) {
    auto engine = PolicyEngine::LoadFiles({dir + c.file}, {});
    ASSERT_FALSE(engine.ok()) << c.file;
    EXPECT_THAT(engine.status().message(), HasSubstr(c.error));
  }
}

TEST(PolicyLoadTest, MissingDirectoryIsNotFound) {
  EXPECT_EQ(PolicyEngine::LoadDirectory("/nonexistent/policies", {}).status().code(),
            absl::StatusCode::kNotFound);
}

// A temporary policy directory, removed at the end of the test.
class PolicyDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("writ-policy-test-", ::getpid(), "-",
                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

constexpr char kGood[] = R"(
rules:
  - name: deploy
    issuer: github
    subject: "repo:acme/app"
    grant: {audiences: [aud], scopes: [deploy]}
tests:
  - name: app may deploy
    identity: {issuer: github, subject: "repo:acme/app"}
    request: {scopes: [deploy]}
    expect: {decision: allow, rule: deploy, scopes: [deploy], lifetime: 5m, subject: "repo:acme/app"}
  - name: stranger is denied
    identity: {issuer: github, subject: "repo:evil/app"}
    expect: {decision: deny, error: access_denied}
)";

TEST_F(PolicyDirTest, LoadsYamlFilesInNameOrderAndIgnoresOthers) {
  Write("b.yml", "rules:\n  - name: b\n    issuer: github\n    grant: {audiences: [a]}\n");
  Write("a.yaml", "rules:\n  - name: a\n    issuer: github\n    grant: {audiences: [a]}\n");
  Write("notes.txt", "not a policy");
  auto engine = PolicyEngine::LoadDirectory(dir_.string(), {});
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_THAT((*engine)->file_names(), ElementsAre("a.yaml", "b.yml"));
}

TEST_F(PolicyDirTest, EmptyDirectoryDeniesEverything) {
  auto engine = PolicyEngine::LoadDirectory(dir_.string(), {});
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ((*engine)->rule_count(), 0u);
  EXPECT_THAT((*engine)->file_names(), IsEmpty());
}

TEST_F(PolicyDirTest, SelfTestRunnerReportsPassAndFail) {
  Write("good.yaml", kGood);
  std::ifstream bad(std::string(WRIT_TESTDATA_DIR) + "/policies/failing-self-test.yaml");
  std::string text((std::istreambuf_iterator<char>(bad)), std::istreambuf_iterator<char>());
  std::string renamed = text;
  renamed.replace(renamed.find("name: deploy"), 12, "name: deploy2");
  Write("zz.yaml", renamed);
  auto engine = PolicyEngine::LoadDirectory(dir_.string(), {});
  ASSERT_TRUE(engine.ok()) << engine.status();
  PolicyTestReport report = RunPolicyTests(**engine);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.passed, 2);
  EXPECT_EQ(report.failed, 1);
  ASSERT_EQ(report.results.size(), 3u);
  EXPECT_TRUE(report.results[0].passed);
  EXPECT_TRUE(report.results[0].message.empty());
  EXPECT_EQ(report.results[2].file, "zz.yaml");
  EXPECT_EQ(report.results[2].line, 8);
  EXPECT_THAT(report.results[2].message,
              HasSubstr("expected allow, got deny access_denied: no policy rule matches subject "
                        "\"repo:evil/app\""));
  EXPECT_EQ(report.Summary(), "2 passed, 1 failed");
}

TEST_F(PolicyDirTest, SelfTestMismatchMessagesNameWhatDiffered) {
  Write("p.yaml", std::string(kGood) + R"(
  - name: wrong lifetime
    identity: {issuer: github, subject: "repo:acme/app"}
    expect: {decision: allow, lifetime: 7m}
  - name: wrong code
    identity: {issuer: github, subject: "repo:acme/app"}
    request: {audience: other}
    expect: {decision: deny, error: invalid_scope}
)");
  auto engine = PolicyEngine::LoadDirectory(dir_.string(), {});
  ASSERT_TRUE(engine.ok()) << engine.status();
  PolicyTestReport report = RunPolicyTests(**engine);
  ASSERT_EQ(report.results.size(), 4u);
  EXPECT_THAT(report.results[2].message, HasSubstr("expected lifetime 7m, got allow"));
  EXPECT_THAT(report.results[3].message,
              HasSubstr("expected deny invalid_scope, got deny invalid_target: rule \"deploy\": "
                        "audience \"other\" is not allowed"));
}

TEST_F(PolicyDirTest, StoreReloadKeepsTheSetInForceWhenTheNewOneIsBad) {
  Write("p.yaml", kGood);
  auto store = PolicyStore::Open(dir_.string(), {});
  ASSERT_TRUE(store.ok()) << store.status();
  std::shared_ptr<const PolicyEngine> first = (*store)->Current();
  EXPECT_EQ(first->rule_count(), 1u);

  // Invalid YAML content: refused, old set kept.
  Write("p.yaml", "rules:\n  - name: deploy\n    issuer: github\n");
  absl::Status status = (*store)->Reload();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("p.yaml:2: rule \"deploy\": grant: is required"));
  EXPECT_EQ((*store)->Current(), first);

  // Loads, but a self-test fails: refused, old set kept.
  Write("p.yaml", kGood);
  std::filesystem::copy_file(std::string(WRIT_TESTDATA_DIR) + "/policies/failing-self-test.yaml",
                             dir_ / "q.yaml");
  {
    std::ifstream in(dir_ / "q.yaml");
    std::string t((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    t.replace(t.find("name: deploy"), 12, "name: deploy2");
    Write("q.yaml", t);
  }
  status = (*store)->Reload();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("q.yaml:8: test \"a stranger is allowed (wrong on "
                                          "purpose)\": expected allow"));
  EXPECT_EQ((*store)->Current(), first);

  // A valid set whose tests pass is swapped in; the old one stays usable.
  std::filesystem::remove(dir_ / "q.yaml");
  Write("r.yaml", "rules:\n  - name: more\n    issuer: gitlab\n    grant: {audiences: [a]}\n");
  ASSERT_TRUE((*store)->Reload().ok());
  EXPECT_NE((*store)->Current(), first);
  EXPECT_EQ((*store)->Current()->rule_count(), 2u);
  EXPECT_EQ(first->rule_count(), 1u);
}

TEST_F(PolicyDirTest, StoreOpenRefusesFailingSelfTests) {
  std::filesystem::copy_file(std::string(WRIT_TESTDATA_DIR) + "/policies/failing-self-test.yaml",
                             dir_ / "p.yaml");
  EXPECT_EQ(PolicyStore::Open(dir_.string(), {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PolicyLoadTest, ShippedPoliciesLoadWithTheDevIssuersAndPassTheirTests) {
  PolicyEngineOptions options;
  options.known_issuers = {"github", "gitlab"};
  auto engine =
      PolicyEngine::LoadDirectory(std::string(WRIT_TESTDATA_DIR) + "/../../policies", options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  PolicyTestReport report = RunPolicyTests(**engine);
  EXPECT_TRUE(report.ok()) << report.Summary();
  EXPECT_GT(report.passed, 10);
}

}  // namespace
}  // namespace writ::issuer

namespace writ::issuer {
namespace {

TEST(PolicyYamlShapeTest, StrayCommaAndDeepNestingAreLoadErrorsNotHangsOrCrashes) {
  auto comma = PolicyEngine::FromSources({{"comma.yaml", ","}}, {});
  ASSERT_FALSE(comma.ok());
  EXPECT_NE(comma.status().message().find("comma.yaml:1: unexpected content"), std::string::npos)
      << comma.status();
  auto deep = PolicyEngine::FromSources({{"deep.yaml", std::string(100000, '[')}}, {});
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("deep.yaml: [ ] and { } nest more than 64"),
            std::string::npos)
      << deep.status();
}

}  // namespace
}  // namespace writ::issuer

namespace writ::issuer {
namespace {

TEST(PolicyYamlShapeTest, SelfReferencingAliasInTestClaimsIsAnErrorNotAStackOverflow) {
  auto engine = PolicyEngine::FromSources({{"alias.yaml", R"(
rules: []
tests:
  - name: loop
    identity: {issuer: github, subject: s, claims: &c {a: *c}}
    request: {}
    expect: {decision: deny}
)"}},
                                          {});
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("alias refers to itself"), std::string::npos)
      << engine.status();
}

}  // namespace
}  // namespace writ::issuer

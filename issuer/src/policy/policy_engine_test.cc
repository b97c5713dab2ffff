#include "issuer/src/policy/policy_engine.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/policy/policy_test_util.h"

namespace writ::issuer {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

using policy_testing::Identity;

// Monday 2026-11-23 10:00 UTC.
absl::Time Monday10() { return absl::FromUnixSeconds(1795428000); }

PolicyRequest Request(std::string audience = "", std::vector<std::string> scopes = {}) {
  PolicyRequest r;
  r.audience = std::move(audience);
  r.scopes = std::move(scopes);
  r.now = Monday10();
  return r;
}

std::shared_ptr<const PolicyEngine> Load(std::vector<std::pair<std::string, std::string>> files,
                                         PolicyEngineOptions options = {}) {
  auto engine = PolicyEngine::FromSources(files, options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *engine : nullptr;
}

// A one-rule policy with `body` spliced in; audience "aud" and scopes a, b.
std::shared_ptr<const PolicyEngine> OneRule(std::string body, PolicyEngineOptions options = {}) {
  return Load({{"p.yaml", absl::StrCat(R"(
rules:
  - name: r
    issuer: github
)",
                                       body)}},
              options);
}

constexpr char kGrant[] = R"(
    grant:
      audiences: [aud]
      scopes: [a, b]
)";

TEST(PolicyEngineTest, EmptySetDeniesEverything) {
  auto engine = Load({});
  ASSERT_NE(engine, nullptr);
  Decision d = engine->Decide(Identity("github", "x", "{}"), Request("aud"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied);
  EXPECT_TRUE(d.rule.empty());
  EXPECT_THAT(d.reasons, Contains(HasSubstr("no policy rule matches subject \"x\"")));
}

TEST(PolicyEngineTest, ExactSubject) {
  auto engine = OneRule(absl::StrCat("    subject: \"repo:acme/app\"\n", kGrant));
  EXPECT_TRUE(engine->Decide(Identity("github", "repo:acme/app", "{}"), Request()).allowed);
  EXPECT_FALSE(engine->Decide(Identity("github", "repo:acme/app2", "{}"), Request()).allowed);
  EXPECT_FALSE(engine->Decide(Identity("gitlab", "repo:acme/app", "{}"), Request()).allowed);
}

TEST(PolicyEngineTest, SubjectPatternIsAnchored) {
  auto engine = OneRule(absl::StrCat("    subject_pattern: \"repo:acme/[a-z]+\"\n", kGrant));
  EXPECT_TRUE(engine->Decide(Identity("github", "repo:acme/app", "{}"), Request()).allowed);
  EXPECT_FALSE(engine->Decide(Identity("github", "xrepo:acme/app", "{}"), Request()).allowed);
  Decision d = engine->Decide(Identity("github", "repo:acme/app:x", "{}"), Request());
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reasons, Contains(HasSubstr("does not match pattern")));
}

TEST(PolicyEngineTest, ClaimMatchers) {
  auto engine = OneRule(absl::StrCat(R"(
    claims:
      owner: acme
      ref: {glob: "refs/heads/*"}
      wf: {regex: "ci-[0-9]+"}
      env: {one_of: [staging, production]}
      k8s.io.namespace: prod
)",
                                     kGrant));
  std::string good =
      R"({"owner":"acme","ref":"refs/heads/main","wf":"ci-12","env":"staging",
          "k8s":{"io":{"namespace":"prod"}}})";
  Decision d = engine->Decide(Identity("github", "s", good), Request());
  ASSERT_TRUE(d.allowed) << testing::PrintToString(d.reasons);
  EXPECT_THAT(d.used_claims, ElementsAre(Pair("owner", "acme"), Pair("ref", "refs/heads/main"),
                                         Pair("wf", "ci-12"), Pair("env", "staging"),
                                         Pair("k8s.io.namespace", "prod")));

  struct Case {
    std::string claims;
    std::string reason;
  } cases[] = {
      {R"({"owner":"evil","ref":"refs/heads/main","wf":"ci-1","env":"staging","k8s":{"io":{"namespace":"prod"}}})",
       "claim \"owner\" is \"evil\"; it must be \"acme\""},
      {R"({"owner":"acme","ref":"refs/tags/v1","wf":"ci-1","env":"staging","k8s":{"io":{"namespace":"prod"}}})",
       "must match glob \"refs/heads/*\""},
      {R"({"owner":"acme","ref":"refs/heads/m","wf":"xci-1","env":"staging","k8s":{"io":{"namespace":"prod"}}})",
       "claim \"wf\" is \"xci-1\"; it must match pattern"},
      {R"({"owner":"acme","ref":"refs/heads/m","wf":"ci-1","env":"dev","k8s":{"io":{"namespace":"prod"}}})",
       "must be one of \"staging\", \"production\""},
      {R"({"owner":"acme","ref":"refs/heads/m","wf":"ci-1","env":"staging","k8s.io":{"name":"prod"}})",
       "claim \"k8s.io.namespace\" is missing"},
      {R"({"ref":"refs/heads/m","wf":"ci-1","env":"staging","k8s":{"io":{"namespace":"prod"}}})",
       "claim \"owner\" is missing"},
      {R"({"owner":["acme"],"ref":"refs/heads/m","wf":"ci-1","env":"staging","k8s":{"io":{"namespace":"prod"}}})",
       "claim \"owner\" is not a string, number or boolean"},
  };
  for (const Case& c : cases) {
    Decision d = engine->Decide(Identity("github", "s", c.claims), Request());
    EXPECT_FALSE(d.allowed) << c.claims;
    EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied);
    EXPECT_THAT(d.reasons, Contains(HasSubstr(c.reason))) << c.claims;
  }
}

TEST(PolicyEngineTest, NonStringClaimsCompareByJsonText) {
  auto engine = OneRule(absl::StrCat(R"(
    claims:
      protected: "true"
      run: {regex: "[0-9]+"}
      deep.n: "7"
)",
                                     kGrant));
  EXPECT_TRUE(engine
                  ->Decide(Identity("github", "s", R"({"protected":true,"run":42,"deep":{"n":7}})"),
                           Request())
                  .allowed);
  EXPECT_FALSE(
      engine
          ->Decide(Identity("github", "s", R"({"protected":false,"run":42,"deep":{"n":7}})"),
                   Request())
          .allowed);
  EXPECT_FALSE(
      engine
          ->Decide(Identity("github", "s", R"({"protected":null,"run":42,"deep":{"n":7}})"),
                   Request())
          .allowed);
}

TEST(PolicyEngineTest, GlobIsLinearOnPathologicalInput) {
  auto engine =
      OneRule(absl::StrCat("    claims: {v: {glob: \"*a*a*a*a*a*a*a*a*a*b\"}}\n", kGrant));
  std::string value(100000, 'a');
  auto id = Identity("github", "s", absl::StrCat(R"({"v":")", value, R"("})"));
  absl::Time start = absl::Now();
  EXPECT_FALSE(engine->Decide(id, Request()).allowed);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  auto q = OneRule(absl::StrCat("    claims: {v: {glob: \"a?c*\"}}\n", kGrant));
  EXPECT_TRUE(q->Decide(Identity("github", "s", R"({"v":"abcdef"})"), Request()).allowed);
  EXPECT_FALSE(q->Decide(Identity("github", "s", R"({"v":"acdef"})"), Request()).allowed);
}

TEST(PolicyEngineTest, SourceCidrs) {
  auto engine = OneRule(absl::StrCat(
      "    conditions: {source_cidrs: [\"10.0.0.0/8\", \"2001:db8::/32\"]}\n", kGrant));
  auto id = Identity("github", "s", "{}");
  auto with = [&](std::string address) {
    PolicyRequest r = Request();
    r.client_address = std::move(address);
    return engine->Decide(id, r);
  };
  EXPECT_TRUE(with("10.1.2.3").allowed);
  EXPECT_TRUE(with("::ffff:10.1.2.3").allowed);
  EXPECT_TRUE(with("2001:db8::1").allowed);
  EXPECT_FALSE(with("11.0.0.1").allowed);
  EXPECT_FALSE(with("2001:db9::1").allowed);
  Decision unknown = with("");
  EXPECT_FALSE(unknown.allowed);
  EXPECT_EQ(unknown.rule, "r");  // identity matched; conditions failed
  EXPECT_EQ(unknown.deny_code, DenyCode::kAccessDenied);
  EXPECT_THAT(unknown.reasons, Contains(HasSubstr("client address is unknown")));
  EXPECT_THAT(with("not-an-ip").reasons, Contains(HasSubstr("is not an IP address")));
  EXPECT_THAT(with("11.0.0.1").reasons, Contains(HasSubstr("not in an allowed network")));
}

TEST(PolicyEngineTest, TimeWindowInUtc) {
  auto engine = OneRule(absl::StrCat(
      "    conditions: {time_window: {days: [mon, fri], from: \"09:00\", to: \"17:30\"}}\n",
      kGrant));
  auto id = Identity("github", "s", "{}");
  auto at = [&](absl::Time t) {
    PolicyRequest r = Request();
    r.now = t;
    return engine->Decide(id, r);
  };
  EXPECT_TRUE(at(Monday10()).allowed);
  EXPECT_TRUE(at(Monday10() - absl::Hours(1)).allowed);                      // 09:00 exactly
  EXPECT_FALSE(at(Monday10() - absl::Hours(1) - absl::Seconds(1)).allowed);  // 08:59:59
  EXPECT_FALSE(at(Monday10() + absl::Minutes(450)).allowed);                 // 17:30 exactly
  EXPECT_FALSE(at(Monday10() + absl::Hours(24)).allowed);                    // Tuesday
  Decision d = at(Monday10() + absl::Hours(24));
  EXPECT_THAT(d.reasons, Contains(HasSubstr("(Tue) is outside the allowed window (mon,fri "
                                            "09:00-17:30 UTC)")));
}

TEST(PolicyEngineTest, Audience) {
  auto one = OneRule(kGrant);
  auto id = Identity("github", "s", "{}");
  Decision d = one->Decide(id, Request());
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.grant->audience, "aud");
  d = one->Decide(id, Request("other"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidTarget);
  EXPECT_EQ(d.rule, "r");
  EXPECT_THAT(d.reasons, Contains(HasSubstr("audience \"other\" is not allowed")));

  auto several = OneRule("    grant: {audiences: [x, y]}\n");
  d = several->Decide(id, Request());
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidTarget);
  EXPECT_THAT(d.reasons, Contains(HasSubstr("audience required: rule \"r\" allows several")));
  EXPECT_TRUE(several->Decide(id, Request("y")).allowed);
}

TEST(PolicyEngineTest, Scopes) {
  auto engine = OneRule("    grant: {audiences: [aud], scopes: [a, b, c], default_scopes: [a]}\n");
  auto id = Identity("github", "s", "{}");
  Decision d = engine->Decide(id, Request("", {"c", "b", "c"}));
  ASSERT_TRUE(d.allowed);
  EXPECT_THAT(d.grant->scopes, ElementsAre("c", "b"));
  d = engine->Decide(id, Request());
  ASSERT_TRUE(d.allowed);
  EXPECT_THAT(d.grant->scopes, ElementsAre("a"));
  d = engine->Decide(id, Request("", {"a", "admin"}));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
  EXPECT_THAT(d.reasons, Contains(HasSubstr("scope \"admin\" is not allowed")));

  auto no_defaults = OneRule(kGrant);
  d = no_defaults->Decide(id, Request());
  ASSERT_TRUE(d.allowed);
  EXPECT_THAT(d.grant->scopes, IsEmpty());
}

TEST(PolicyEngineTest, LifetimeDefaultsAndClamping) {
  PolicyEngineOptions options;
  options.default_lifetime = absl::Minutes(3);
  options.max_lifetime = absl::Minutes(20);
  auto plain = OneRule(kGrant, options);
  auto ruled =
      OneRule("    grant: {audiences: [aud], default_lifetime: 7m, max_lifetime: 10m}\n", options);
  auto big = OneRule("    grant: {audiences: [aud], max_lifetime: 2h}\n", options);
  auto id = Identity("github", "s", "{}");
  auto lifetime = [&](const PolicyEngine& e, std::optional<absl::Duration> asked) {
    PolicyRequest r = Request();
    r.lifetime = asked;
    Decision d = e.Decide(id, r);
    EXPECT_TRUE(d.allowed);
    return d.allowed ? d.grant->lifetime : absl::ZeroDuration();
  };
  EXPECT_EQ(lifetime(*plain, std::nullopt), absl::Minutes(3));     // engine default
  EXPECT_EQ(lifetime(*plain, absl::Hours(5)), absl::Minutes(20));  // global max
  EXPECT_EQ(lifetime(*ruled, std::nullopt), absl::Minutes(7));     // rule default
  EXPECT_EQ(lifetime(*ruled, absl::Minutes(9)), absl::Minutes(9));
  EXPECT_EQ(lifetime(*ruled, absl::Minutes(11)), absl::Minutes(10));  // rule max
  EXPECT_EQ(lifetime(*big, absl::Hours(1)), absl::Minutes(20));       // global max wins
  PolicyRequest r = Request();
  r.lifetime = -absl::Seconds(1);
  Decision d = plain->Decide(id, r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
}

TEST(PolicyEngineTest, SubjectTemplate) {
  auto engine = OneRule(R"(
    grant:
      subject: "spiffe://acme.example/ci/{repository}/{env.name}"
      audiences: [aud]
      include_claims: [run_id, missing, env.name]
)");
  Decision d = engine->Decide(
      Identity("github", "s", R"({"repository":"acme/app","env":{"name":"prod"},"run_id":9})"),
      Request());
  ASSERT_TRUE(d.allowed) << testing::PrintToString(d.reasons);
  EXPECT_EQ(d.grant->subject, "spiffe://acme.example/ci/acme/app/prod");
  EXPECT_THAT(d.grant->facts, ElementsAre(Pair("run_id", "9"), Pair("env.name", "prod")));
  EXPECT_THAT(d.used_claims, ElementsAre(Pair("repository", "acme/app"), Pair("env.name", "prod")));

  for (const char* bad : {"acme/../x", "acme//x", "acme/app x", "/acme", ".", ""}) {
    Decision d = engine->Decide(
        Identity("github", "s",
                 absl::StrCat(R"({"repository":")", bad, R"(","env":{"name":"prod"}})")),
        Request());
    EXPECT_FALSE(d.allowed) << bad;
    EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied);
    EXPECT_THAT(d.reasons, Contains(HasSubstr("claim \"repository\" value"))) << bad;
  }
  d = engine->Decide(Identity("github", "s", R"({"repository":"acme/app"})"), Request());
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reasons, Contains(HasSubstr("needs claim \"env.name\", which is missing")));
  d = engine->Decide(Identity("github", "s", R"({"repository":"a","env":{"name":1}})"), Request());
  EXPECT_THAT(d.reasons, Contains(HasSubstr("needs claim \"env.name\", which is not a string")));

  auto plain = OneRule("    grant: {audiences: [aud], subject: \"ci:{sub}@{iss}\"}\n");
  d = plain->Decide(Identity("github", "a b", "{}"), Request());
  ASSERT_TRUE(d.allowed);  // not a spiffe:// template: no path-safety check
  EXPECT_EQ(d.grant->subject, "ci:a b@https://issuer.example");
  auto deflt = OneRule(kGrant);
  EXPECT_EQ(deflt->Decide(Identity("github", "repo:x", "{}"), Request()).grant->subject, "repo:x");
}

TEST(PolicyEngineTest, Delegation) {
  PolicyEngineOptions options;
  options.max_delegation_depth = 2;
  auto engine = OneRule(R"(
    grant: {audiences: [aud]}
    delegation:
      max_depth: 3
      actors:
        - {issuer: agents, subject: "agent:build-bot"}
        - {issuer: agents, subject_pattern: "agent:deploy-[0-9]+"}
)",
                        options);
  auto none = OneRule(kGrant);
  auto id = Identity("github", "s", "{}");
  auto with = [&](const PolicyEngine& e, std::vector<std::pair<std::string, std::string>> chain) {
    PolicyRequest r = Request();
    for (auto& [iss, sub] : chain) r.actors.push_back(Identity(iss, sub, "{}"));
    return e.Decide(id, r);
  };
  EXPECT_TRUE(with(*engine, {}).allowed);
  EXPECT_TRUE(with(*engine, {{"agents", "agent:build-bot"}}).allowed);
  EXPECT_TRUE(with(*engine, {{"agents", "agent:deploy-7"}, {"agents", "x"}}).allowed);
  Decision d = with(*engine, {{"agents", "agent:other"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, "r");
  EXPECT_THAT(d.reasons, Contains(HasSubstr("actor \"agent:other\" from issuer \"agents\" may "
                                            "not act for this subject")));
  EXPECT_FALSE(with(*engine, {{"github", "agent:build-bot"}}).allowed);  // wrong issuer
  d = with(*engine, {{"agents", "agent:build-bot"}, {"agents", "b"}, {"agents", "c"}});
  EXPECT_FALSE(d.allowed);  // global cap 2 beats the rule's 3
  EXPECT_THAT(d.reasons, Contains(HasSubstr("has 3 actors; at most 2 allowed")));
  d = with(*none, {{"agents", "agent:build-bot"}});
  EXPECT_FALSE(d.allowed);
  EXPECT_THAT(d.reasons, Contains(HasSubstr("this rule allows no delegation")));
}

TEST(PolicyEngineTest, FirstMatchWinsInFileNameThenRuleOrder) {
  constexpr char kRule[] = R"(
rules:
  - name: %s
    issuer: github
    grant: {audiences: [aud], scopes: [a]}
)";
  auto engine = Load({{"10-first.yaml", absl::StrReplaceAll(kRule, {{"%s", "one"}}) +
                                            "  - name: two\n    issuer: github\n"
                                            "    grant: {audiences: [aud]}\n"},
                      {"20-second.yaml", absl::StrReplaceAll(kRule, {{"%s", "three"}})}});
  Decision d = engine->Decide(Identity("github", "s", "{}"), Request());
  EXPECT_EQ(d.rule, "one");
  EXPECT_EQ(d.policy_file, "10-first.yaml");
  EXPECT_THAT(engine->file_names(), ElementsAre("10-first.yaml", "20-second.yaml"));
  EXPECT_EQ(engine->rule_count(), 3u);
}

TEST(PolicyEngineTest, DenyCodeIsTheFurthestRuleReached) {
  auto engine = Load({{"p.yaml", R"(
rules:
  - name: wrong-claims
    issuer: github
    claims: {team: blue}
    grant: {audiences: [aud], scopes: [a, b]}
  - name: wrong-audience
    issuer: github
    grant: {audiences: [other]}
  - name: wrong-scope
    issuer: github
    grant: {audiences: [aud], scopes: [a]}
)"}});
  auto id = Identity("github", "s", R"({"team":"red"})");
  Decision d = engine->Decide(id, Request("aud", {"b"}));
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
  EXPECT_EQ(d.rule, "wrong-scope");
  d = engine->Decide(id, Request("nope"));
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidTarget);
  EXPECT_EQ(d.rule, "wrong-audience");  // first of the rules that got as far
  d = engine->Decide(Identity("gitlab", "s", "{}"), Request("aud"));
  EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied);
  EXPECT_EQ(d.rule, "");
  EXPECT_TRUE(
      engine->Decide(Identity("github", "s", R"({"team":"blue"})"), Request("aud", {"b"})).allowed);
}

TEST(PolicyEngineTest, ExplainTracesEveryRule) {
  auto engine = Load({{"p.yaml", R"(
rules:
  - name: a
    issuer: gitlab
    claims: {team: blue}
    grant: {audiences: [aud]}
  - name: b
    issuer: github
    grant: {audiences: [aud]}
  - name: c
    issuer: github
    grant: {audiences: [aud]}
)"}});
  Explanation e = engine->Explain(Identity("github", "s", R"({"team":"red"})"), Request());
  EXPECT_TRUE(e.decision.allowed);
  EXPECT_EQ(e.decision.rule, "b");
  ASSERT_EQ(e.rules.size(), 3u);
  EXPECT_EQ(e.rules[0].rule, "a");
  EXPECT_FALSE(e.rules[0].matched);
  EXPECT_THAT(e.rules[0].why_not,
              ElementsAre(HasSubstr("issuer is \"github\", not \"gitlab\""),
                          HasSubstr("claim \"team\" is \"red\"; it must be \"blue\"")));
  EXPECT_TRUE(e.rules[1].matched);
  EXPECT_THAT(e.rules[1].why_not, IsEmpty());
  EXPECT_TRUE(e.rules[2].matched);  // evaluated too, though b decided
}

TEST(PolicyEngineTest, ReasonsNeverCarryControlCharacters) {
  auto engine = OneRule(absl::StrCat("    claims: {v: x}\n", kGrant));
  Decision d = engine->Decide(Identity("github", "s", R"({"v":"a\nb\u0000c"})"), Request());
  ASSERT_FALSE(d.reasons.empty());
  for (const std::string& r : d.reasons) {
    EXPECT_EQ(r.find('\n'), std::string::npos);
    EXPECT_EQ(r.find('\0'), std::string::npos);
  }
}

}  // namespace
}  // namespace writ::issuer

namespace writ::issuer {
namespace {

TEST(PolicyEngineClaimPathTest, DottedClaimNamesLikeKubernetesIoAreFound) {
  auto engine = OneRule(R"(
    claims:
      kubernetes.io.namespace: payments
      kubernetes.io.serviceaccount.name: deployer
    grant:
      subject: "spiffe://acme.example/ns/{kubernetes.io.namespace}/sa/{kubernetes.io.serviceaccount.name}"
      audiences: [aud]
)");
  const char* k8s =
      R"({"kubernetes.io":{"namespace":"payments","serviceaccount":{"name":"deployer"}}})";
  Decision d = engine->Decide(Identity("github", "s", k8s), Request());
  ASSERT_TRUE(d.allowed) << absl::StrJoin(d.reasons, "; ");
  EXPECT_EQ(d.grant->subject, "spiffe://acme.example/ns/payments/sa/deployer");
  // The nested reading still comes first, and a wrong value still fails.
  EXPECT_TRUE(engine
                  ->Decide(Identity("github", "s",
                                    R"({"kubernetes":{"io":{"namespace":"payments",)"
                                    R"("serviceaccount":{"name":"deployer"}}}})"),
                           Request())
                  .allowed);
  EXPECT_FALSE(
      engine
          ->Decide(Identity("github", "s", R"({"kubernetes.io":{"namespace":"other"}})"), Request())
          .allowed);
}

}  // namespace
}  // namespace writ::issuer

// Deciding requests for each credential kind: which rules grant a kind, the
// X.509-SVID and SSH grants (SPIFFE subject, renewable, principals, source
// addresses), every deny path with its code and reason, JWTs unchanged on
// rules that grant several kinds, and Explain traces.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/policy/policy_engine.h"
#include "issuer/src/policy/policy_test_util.h"

namespace writ::issuer {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

using policy_testing::Identity;

PolicyRequest Request(CredentialKind kind, std::string client_address = "") {
  PolicyRequest r;
  r.kind = kind;
  r.client_address = std::move(client_address);
  r.now = absl::FromUnixSeconds(1795428000);  // Monday 2026-11-23 10:00 UTC
  return r;
}

std::shared_ptr<const PolicyEngine> Load(std::string yaml, PolicyEngineOptions options = {}) {
  auto engine = PolicyEngine::FromSources({{"p.yaml", std::move(yaml)}}, options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *engine : nullptr;
}

// One rule "r" for issuer github whose grant is `grant` (indented block).
std::shared_ptr<const PolicyEngine> OneRule(std::string grant, PolicyEngineOptions options = {}) {
  return Load(absl::StrCat("rules:\n  - name: r\n    issuer: github\n    grant:\n", grant),
              options);
}

const AttestedIdentity& Acme() {
  static const AttestedIdentity* id = new AttestedIdentity(
      Identity("github", "repo:acme/app", R"({"repository":"acme/app","owner":"acme"})"));
  return *id;
}

constexpr char kSvid[] = R"(      subject: "spiffe://acme.example/ci/{repository}"
      credentials: [x509-svid]
)";

constexpr char kSsh[] = R"(      credentials: [ssh]
      ssh: {principals: [deploy, "ci-{owner}"]}
)";

TEST(CredentialKindsTest, ARuleGrantsOnlyJwtUnlessItSaysOtherwise) {
  auto engine = OneRule("      audiences: [aud]\n");
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->Decide(Acme(), Request(CredentialKind::kJwt)).allowed);
  for (CredentialKind kind : {CredentialKind::kX509Svid, CredentialKind::kSsh}) {
    Decision d = engine->Decide(Acme(), Request(kind, "10.0.0.1"));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.deny_code, DenyCode::kInvalidTarget);
    EXPECT_EQ(d.rule, "r");
    EXPECT_THAT(d.reasons, ElementsAre(absl::StrCat("rule \"r\": this rule grants jwt, not ",
                                                    CredentialKindName(kind))));
    EXPECT_FALSE(d.grant.has_value());
  }
}

TEST(CredentialKindsTest, X509SvidGrant) {
  auto engine = OneRule(absl::StrCat(kSvid, "      x509_svid: {renewable: true}\n",
                                     "      include_claims: [repository]\n"));
  ASSERT_NE(engine, nullptr);
  Decision d = engine->Decide(Acme(), Request(CredentialKind::kX509Svid));
  ASSERT_TRUE(d.allowed) << testing::PrintToString(d.reasons);
  EXPECT_EQ(d.grant->kind, CredentialKind::kX509Svid);
  EXPECT_EQ(d.grant->subject, "spiffe://acme.example/ci/acme/app");
  EXPECT_TRUE(d.grant->renewable);
  EXPECT_EQ(d.grant->audience, "");
  EXPECT_THAT(d.grant->scopes, IsEmpty());
  EXPECT_THAT(d.grant->ssh_principals, IsEmpty());
  EXPECT_THAT(d.grant->ssh_source_addresses, IsEmpty());
  EXPECT_EQ(d.grant->lifetime, absl::Minutes(5));
  EXPECT_THAT(d.grant->facts, ElementsAre(Pair("repository", "acme/app")));
  // A JWT is not granted by an x509-svid-only rule.
  EXPECT_EQ(engine->Decide(Acme(), Request(CredentialKind::kJwt)).deny_code,
            DenyCode::kInvalidTarget);
}

TEST(CredentialKindsTest, X509SvidIsNotRenewableByDefault) {
  auto engine = OneRule(kSvid);
  ASSERT_NE(engine, nullptr);
  Decision d = engine->Decide(Acme(), Request(CredentialKind::kX509Svid));
  ASSERT_TRUE(d.allowed);
  EXPECT_FALSE(d.grant->renewable);
  auto explicit_false = OneRule(absl::StrCat(kSvid, "      x509_svid: {renewable: false}\n"));
  ASSERT_NE(explicit_false, nullptr);
  EXPECT_FALSE(explicit_false->Decide(Acme(), Request(CredentialKind::kX509Svid)).grant->renewable);
}

TEST(CredentialKindsTest, X509SvidRefusesAudienceScopesAndPrincipals) {
  auto engine = OneRule(kSvid);
  ASSERT_NE(engine, nullptr);
  PolicyRequest with_audience = Request(CredentialKind::kX509Svid);
  with_audience.audience = "aud";
  Decision d = engine->Decide(Acme(), with_audience);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidTarget);
  EXPECT_THAT(d.reasons, ElementsAre("rule \"r\": an X.509-SVID has no audience; ask without one "
                                     "(\"aud\" was asked for)"));

  PolicyRequest with_scopes = Request(CredentialKind::kX509Svid);
  with_scopes.scopes = {"deploy"};
  d = engine->Decide(Acme(), with_scopes);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
  EXPECT_THAT(d.reasons, ElementsAre("rule \"r\": an X.509-SVID has no scopes; ask without them "
                                     "(\"deploy\" were asked for)"));

  PolicyRequest with_principals = Request(CredentialKind::kX509Svid);
  with_principals.ssh_principals = {"deploy"};
  d = engine->Decide(Acme(), with_principals);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
  EXPECT_THAT(d.reasons, ElementsAre("rule \"r\": SSH principals (\"deploy\") are only for ssh "
                                     "certificates, not x509-svid"));
}

TEST(CredentialKindsTest, X509SvidSubjectMustBeAValidSpiffeIdWhateverTheClaims) {
  auto engine = OneRule(R"(      subject: "spiffe://{org}.example/ci/{repository}"
      credentials: [x509-svid, jwt]
      audiences: [aud]
)");
  ASSERT_NE(engine, nullptr);
  struct Case {
    std::string claims;
    std::string reason;
  } cases[] = {
      // Path-safe, but an uppercase trust domain is not a SPIFFE ID.
      {R"({"org":"ACME","repository":"app"})",
       "rule \"r\": the granted subject \"spiffe://ACME.example/ci/app\" cannot be an "
       "X.509-SVID's SPIFFE ID: invalid SPIFFE ID: trust domain has 'A': the trust domain must "
       "be lowercase"},
      // Longer than a SPIFFE ID may be.
      {absl::StrCat(R"({"org":"acme","repository":")", std::string(2100, 'a'), "\"}"),
       "cannot be an X.509-SVID's SPIFFE ID: invalid SPIFFE ID: 2125 bytes, more than the 2048 "
       "allowed"},
      // Not path-safe at all.
      {R"({"org":"acme","repository":"a/../b"})",
       "rule \"r\": claim \"repository\" value \"a/../b\" cannot be part of a spiffe:// subject"},
      {R"({"org":"acme","repository":"a b"})", "value \"a b\" cannot be part of a spiffe://"},
      {R"({"org":"acme"})", "the granted subject needs claim \"repository\", which is missing"},
  };
  for (const Case& c : cases) {
    AttestedIdentity id = Identity("github", "s", c.claims);
    Decision d = engine->Decide(id, Request(CredentialKind::kX509Svid));
    EXPECT_FALSE(d.allowed) << c.claims;
    EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied) << c.claims;
    EXPECT_THAT(d.reasons, Contains(HasSubstr(c.reason))) << c.claims;
  }
  // JWTs are not held to SPIFFE ID rules (unchanged behaviour): only
  // path-safety applies to their spiffe:// subjects.
  Decision jwt =
      engine->Decide(Identity("github", "s", cases[0].claims), Request(CredentialKind::kJwt));
  ASSERT_TRUE(jwt.allowed) << testing::PrintToString(jwt.reasons);
  EXPECT_EQ(jwt.grant->subject, "spiffe://ACME.example/ci/app");
}

TEST(CredentialKindsTest, SshGrantsEveryPrincipalExpandedWhenNoneAreAsked) {
  auto engine = OneRule(absl::StrCat(kSsh, "      include_claims: [owner]\n"));
  ASSERT_NE(engine, nullptr);
  Decision d = engine->Decide(Acme(), Request(CredentialKind::kSsh));
  ASSERT_TRUE(d.allowed) << testing::PrintToString(d.reasons);
  EXPECT_EQ(d.grant->kind, CredentialKind::kSsh);
  EXPECT_EQ(d.grant->subject, "repo:acme/app");  // the default {sub}
  EXPECT_THAT(d.grant->ssh_principals, ElementsAre("deploy", "ci-acme"));
  EXPECT_THAT(d.grant->ssh_source_addresses, IsEmpty());  // not pinned
  EXPECT_FALSE(d.grant->renewable);
  EXPECT_EQ(d.grant->audience, "");
  EXPECT_THAT(d.grant->scopes, IsEmpty());
  EXPECT_THAT(d.grant->facts, ElementsAre(Pair("owner", "acme")));
  EXPECT_THAT(d.used_claims, Contains(Pair("owner", "acme")));
}

TEST(CredentialKindsTest, SshPrincipalsAskedNarrowTheGrant) {
  auto engine = OneRule(kSsh);
  ASSERT_NE(engine, nullptr);
  PolicyRequest r = Request(CredentialKind::kSsh);
  r.ssh_principals = {"ci-acme", "deploy", "ci-acme"};
  Decision d = engine->Decide(Acme(), r);
  ASSERT_TRUE(d.allowed) << testing::PrintToString(d.reasons);
  EXPECT_THAT(d.grant->ssh_principals, ElementsAre("ci-acme", "deploy"));  // asked order, once

  r.ssh_principals = {"deploy"};
  EXPECT_THAT(engine->Decide(Acme(), r).grant->ssh_principals, ElementsAre("deploy"));

  r.ssh_principals = {"deploy", "root", "ci-evil"};
  d = engine->Decide(Acme(), r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
  EXPECT_THAT(d.reasons,
              ElementsAre("rule \"r\": SSH principal \"root\" is not granted (granted: "
                          "\"deploy\", \"ci-acme\")",
                          "rule \"r\": SSH principal \"ci-evil\" is not granted (granted: "
                          "\"deploy\", \"ci-acme\")"));
}

TEST(CredentialKindsTest, PrincipalsThatExpandToTheSameNameAreGrantedOnce) {
  auto engine = OneRule("      credentials: [ssh]\n      ssh: {principals: [acme, \"{owner}\"]}\n");
  ASSERT_NE(engine, nullptr);
  Decision d = engine->Decide(Acme(), Request(CredentialKind::kSsh));
  ASSERT_TRUE(d.allowed);
  EXPECT_THAT(d.grant->ssh_principals, ElementsAre("acme"));
}

TEST(CredentialKindsTest, PrincipalTemplatesThatCannotExpandDeny) {
  auto engine =
      OneRule("      credentials: [ssh]\n      ssh: {principals: [deploy, \"ci-{team}\"]}\n");
  ASSERT_NE(engine, nullptr);
  struct Case {
    std::string claims;
    std::string reason;
  } cases[] = {
      {R"({})",
       "rule \"r\": SSH principal template \"ci-{team}\" needs claim \"team\", which is missing"},
      {R"({"team":7})", "needs claim \"team\", which is not a string"},
      {R"({"team":"red,root"})",
       "rule \"r\": SSH principal template \"ci-{team}\" expands to \"ci-red,root\", which is not "
       "a valid principal (1 to 255 printable ASCII characters, no space or comma)"},
      {R"({"team":"red root"})", "expands to \"ci-red root\", which is not a valid principal"},
      {R"({"team":"r\u00e9d"})", "expands to \"ci-r??d\", which is not a valid principal"},
      {absl::StrCat(R"({"team":")", std::string(253, 't'), "\"}"),
       "which is not a valid principal"},
  };
  for (const Case& c : cases) {
    Decision d = engine->Decide(Identity("github", "s", c.claims), Request(CredentialKind::kSsh));
    EXPECT_FALSE(d.allowed) << c.claims;
    EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied) << c.claims;
    EXPECT_THAT(d.reasons, Contains(HasSubstr(c.reason))) << c.claims;
  }
  // 255 bytes is the longest principal.
  Decision longest = engine->Decide(
      Identity("github", "s", absl::StrCat(R"({"team":")", std::string(252, 't'), "\"}")),
      Request(CredentialKind::kSsh));
  ASSERT_TRUE(longest.allowed) << testing::PrintToString(longest.reasons);
  EXPECT_EQ(longest.grant->ssh_principals[1].size(), 255u);
  // An empty expansion is not a principal.
  auto bare = OneRule("      credentials: [ssh]\n      ssh: {principals: [\"{team}\"]}\n");
  ASSERT_NE(bare, nullptr);
  Decision empty =
      bare->Decide(Identity("github", "s", R"({"team":""})"), Request(CredentialKind::kSsh));
  EXPECT_FALSE(empty.allowed);
  EXPECT_THAT(empty.reasons, Contains(HasSubstr("expands to \"\", which is not a valid")));
}

TEST(CredentialKindsTest, PrincipalTemplatesAreNotExpandedForOtherKinds) {
  // The JWT half of a [jwt, ssh] rule does not need the principals' claims.
  auto engine = OneRule(
      "      credentials: [jwt, ssh]\n      audiences: [aud]\n"
      "      ssh: {principals: [\"ci-{team}\"]}\n");
  ASSERT_NE(engine, nullptr);
  AttestedIdentity no_team = Identity("github", "s", "{}");
  EXPECT_TRUE(engine->Decide(no_team, Request(CredentialKind::kJwt)).allowed);
  EXPECT_FALSE(engine->Decide(no_team, Request(CredentialKind::kSsh)).allowed);
}

TEST(CredentialKindsTest, SshSourceAddressClientPinsTheRequestersAddress) {
  auto engine = OneRule(
      "      credentials: [ssh]\n      ssh: {principals: [deploy], source_address: client}\n");
  ASSERT_NE(engine, nullptr);
  struct Case {
    std::string address;
    std::string pinned;
  } cases[] = {
      {"10.1.2.3", "10.1.2.3"},
      {"::ffff:10.1.2.3", "10.1.2.3"},  // IPv4-mapped: pinned in IPv4 form
      {"fd00:0:0::7", "fd00::7"},       // canonical IPv6 text
      {"::1", "::1"},
  };
  for (const Case& c : cases) {
    Decision d = engine->Decide(Acme(), Request(CredentialKind::kSsh, c.address));
    ASSERT_TRUE(d.allowed) << c.address << testing::PrintToString(d.reasons);
    EXPECT_THAT(d.grant->ssh_source_addresses, ElementsAre(c.pinned));
  }
  Decision unknown = engine->Decide(Acme(), Request(CredentialKind::kSsh));
  EXPECT_FALSE(unknown.allowed);
  EXPECT_EQ(unknown.deny_code, DenyCode::kAccessDenied);
  EXPECT_EQ(unknown.rule, "r");
  EXPECT_THAT(unknown.reasons,
              ElementsAre("rule \"r\": the client address is unknown; this rule pins SSH "
                          "certificates to the requester's address (source_address: client)"));
  Decision garbage = engine->Decide(Acme(), Request(CredentialKind::kSsh, "10.1.2.3,0.0.0.0/0"));
  EXPECT_FALSE(garbage.allowed);
  EXPECT_THAT(garbage.reasons,
              ElementsAre("rule \"r\": client address \"10.1.2.3,0.0.0.0/0\" is not an IP "
                          "address, so the SSH certificate cannot be pinned to it"));
}

TEST(CredentialKindsTest, SshSourceAddressListIsGrantedAsWritten) {
  auto engine = OneRule(
      "      credentials: [ssh]\n      ssh:\n        principals: [deploy]\n"
      "        source_address: [10.0.0.0/8, 192.0.2.7, \"fd00::/8\"]\n");
  ASSERT_NE(engine, nullptr);
  // The caller's own address does not matter (nor is it needed).
  for (std::string address : {"", "203.0.113.9"}) {
    Decision d = engine->Decide(Acme(), Request(CredentialKind::kSsh, address));
    ASSERT_TRUE(d.allowed) << testing::PrintToString(d.reasons);
    EXPECT_THAT(d.grant->ssh_source_addresses, ElementsAre("10.0.0.0/8", "192.0.2.7", "fd00::/8"));
  }
}

TEST(CredentialKindsTest, SshRefusesAudienceAndScopes) {
  auto engine = OneRule(kSsh);
  ASSERT_NE(engine, nullptr);
  PolicyRequest r = Request(CredentialKind::kSsh);
  r.audience = "aud";
  Decision d = engine->Decide(Acme(), r);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidTarget);
  EXPECT_THAT(d.reasons, ElementsAre("rule \"r\": an SSH certificate has no audience; ask without "
                                     "one (\"aud\" was asked for)"));
  r = Request(CredentialKind::kSsh);
  r.scopes = {"a", "b"};
  d = engine->Decide(Acme(), r);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
  EXPECT_THAT(d.reasons, ElementsAre("rule \"r\": an SSH certificate has no scopes; ask without "
                                     "them (\"a\", \"b\" were asked for)"));
}

TEST(CredentialKindsTest, LifetimeRulesAreTheSameForEveryKind) {
  PolicyEngineOptions options;
  options.default_lifetime = absl::Minutes(2);
  options.max_lifetime = absl::Minutes(30);
  auto engine = OneRule(
      "      subject: \"spiffe://acme.example/x\"\n      credentials: [jwt, x509-svid, ssh]\n"
      "      audiences: [aud]\n      ssh: {principals: [d]}\n      max_lifetime: 10m\n",
      options);
  auto no_max = OneRule(
      "      subject: \"spiffe://acme.example/x\"\n      credentials: [jwt, x509-svid, ssh]\n"
      "      audiences: [aud]\n      ssh: {principals: [d]}\n      default_lifetime: 3m\n",
      options);
  ASSERT_NE(engine, nullptr);
  ASSERT_NE(no_max, nullptr);
  for (CredentialKind kind :
       {CredentialKind::kJwt, CredentialKind::kX509Svid, CredentialKind::kSsh}) {
    SCOPED_TRACE(CredentialKindName(kind));
    PolicyRequest r = Request(kind);
    EXPECT_EQ(engine->Decide(Acme(), r).grant->lifetime, absl::Minutes(2));  // engine default
    EXPECT_EQ(no_max->Decide(Acme(), r).grant->lifetime, absl::Minutes(3));  // rule default
    r.lifetime = absl::Minutes(7);
    EXPECT_EQ(engine->Decide(Acme(), r).grant->lifetime, absl::Minutes(7));  // as asked
    r.lifetime = absl::Hours(2);
    EXPECT_EQ(engine->Decide(Acme(), r).grant->lifetime, absl::Minutes(10));  // rule max
    EXPECT_EQ(no_max->Decide(Acme(), r).grant->lifetime, absl::Minutes(30));  // global cap
    r.lifetime = absl::ZeroDuration();
    Decision d = engine->Decide(Acme(), r);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.deny_code, DenyCode::kInvalidScope);
    EXPECT_EQ(d.grant.has_value(), false);
  }
}

TEST(CredentialKindsTest, JwtFromAMultiKindRuleIsUnchanged) {
  auto engine = OneRule(
      "      subject: \"spiffe://acme.example/ci/{repository}\"\n"
      "      credentials: [ssh, x509-svid, jwt]\n      x509_svid: {renewable: true}\n"
      "      ssh: {principals: [deploy], source_address: client}\n"
      "      audiences: [aud]\n      scopes: [a, b]\n      default_scopes: [a]\n");
  ASSERT_NE(engine, nullptr);
  Decision d = engine->Decide(Acme(), Request(CredentialKind::kJwt, "10.0.0.1"));
  ASSERT_TRUE(d.allowed) << testing::PrintToString(d.reasons);
  EXPECT_EQ(d.grant->kind, CredentialKind::kJwt);
  EXPECT_EQ(d.grant->subject, "spiffe://acme.example/ci/acme/app");
  EXPECT_EQ(d.grant->audience, "aud");
  EXPECT_THAT(d.grant->scopes, ElementsAre("a"));
  EXPECT_FALSE(d.grant->renewable);  // renewable is about SVIDs
  EXPECT_THAT(d.grant->ssh_principals, IsEmpty());
  EXPECT_THAT(d.grant->ssh_source_addresses, IsEmpty());
  // A JWT request's audience and scopes are checked as always.
  PolicyRequest bad = Request(CredentialKind::kJwt);
  bad.audience = "other";
  EXPECT_EQ(engine->Decide(Acme(), bad).deny_code, DenyCode::kInvalidTarget);
  bad = Request(CredentialKind::kJwt);
  bad.scopes = {"c"};
  EXPECT_EQ(engine->Decide(Acme(), bad).deny_code, DenyCode::kInvalidScope);
  // Principals on a JWT request are a mistake, not ignored.
  bad = Request(CredentialKind::kJwt);
  bad.ssh_principals = {"deploy"};
  Decision principals = engine->Decide(Acme(), bad);
  EXPECT_EQ(principals.deny_code, DenyCode::kInvalidScope);
  EXPECT_THAT(principals.reasons, ElementsAre("rule \"r\": SSH principals (\"deploy\") are only "
                                              "for ssh certificates, not jwt"));
  // The same rule grants the other kinds too.
  Decision svid = engine->Decide(Acme(), Request(CredentialKind::kX509Svid));
  ASSERT_TRUE(svid.allowed);
  EXPECT_TRUE(svid.grant->renewable);
  Decision ssh = engine->Decide(Acme(), Request(CredentialKind::kSsh, "10.0.0.1"));
  ASSERT_TRUE(ssh.allowed);
  EXPECT_THAT(ssh.grant->ssh_source_addresses, ElementsAre("10.0.0.1"));
}

constexpr char kTwoRules[] = R"(
rules:
  - name: jwt-anywhere
    issuer: github
    claims: {owner: acme}
    grant: {audiences: [aud]}
  - name: ssh-from-office
    issuer: github
    claims: {owner: acme, repository: acme/app}
    conditions: {source_cidrs: ["10.0.0.0/8"]}
    grant:
      credentials: [ssh]
      ssh: {principals: [deploy]}
)";

TEST(CredentialKindsTest, TheFirstRuleGrantingTheKindWins) {
  auto engine = Load(kTwoRules);
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Decide(Acme(), Request(CredentialKind::kJwt)).rule, "jwt-anywhere");
  EXPECT_EQ(engine->Decide(Acme(), Request(CredentialKind::kSsh, "10.9.9.9")).rule,
            "ssh-from-office");
}

TEST(CredentialKindsTest, DenialIsExplainedByTheRuleThatGrantsTheKindWhenItGotFurther) {
  auto engine = Load(kTwoRules);
  ASSERT_NE(engine, nullptr);
  // ssh-from-office grants ssh and matched who the caller is, but not the
  // network: that is the denial, not "jwt-anywhere grants jwt".
  Decision d = engine->Decide(Acme(), Request(CredentialKind::kSsh, "203.0.113.9"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied);
  EXPECT_EQ(d.rule, "ssh-from-office");
  EXPECT_THAT(d.reasons, ElementsAre(HasSubstr("client address 203.0.113.9 is not in an allowed "
                                               "network")));
  // A caller only the JWT rule knows: the kind is the problem.
  AttestedIdentity other = Identity("github", "s", R"({"owner":"acme","repository":"acme/lib"})");
  d = engine->Decide(other, Request(CredentialKind::kSsh, "10.0.0.1"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.deny_code, DenyCode::kInvalidTarget);
  EXPECT_EQ(d.rule, "jwt-anywhere");
  EXPECT_THAT(d.reasons, ElementsAre("rule \"jwt-anywhere\": this rule grants jwt, not ssh"));
  // A stranger is access_denied, whatever the kind.
  d = engine->Decide(Identity("github", "s", R"({"owner":"evil"})"),
                     Request(CredentialKind::kSsh, "10.0.0.1"));
  EXPECT_EQ(d.deny_code, DenyCode::kAccessDenied);
  EXPECT_EQ(d.rule, "");
}

TEST(CredentialKindsTest, ExplainTracesTheKindCheckOfEveryRule) {
  auto engine = Load(kTwoRules);
  ASSERT_NE(engine, nullptr);
  Explanation e = engine->Explain(Acme(), Request(CredentialKind::kSsh, "203.0.113.9"));
  EXPECT_FALSE(e.decision.allowed);
  EXPECT_EQ(e.decision.deny_code, DenyCode::kAccessDenied);
  EXPECT_EQ(e.decision.rule, "ssh-from-office");
  ASSERT_EQ(e.rules.size(), 2u);
  EXPECT_EQ(e.rules[0].rule, "jwt-anywhere");
  EXPECT_FALSE(e.rules[0].matched);
  EXPECT_THAT(e.rules[0].why_not, ElementsAre("this rule grants jwt, not ssh"));
  EXPECT_FALSE(e.rules[1].matched);
  EXPECT_THAT(e.rules[1].why_not, ElementsAre(HasSubstr("is not in an allowed network")));

  // Explain records every failure of a rule, the kind among them.
  AttestedIdentity stranger = Identity("github", "s", R"({"owner":"evil"})");
  e = engine->Explain(stranger, Request(CredentialKind::kX509Svid, "203.0.113.9"));
  EXPECT_THAT(e.rules[1].why_not, ElementsAre(HasSubstr("claim \"owner\" is \"evil\""),
                                              HasSubstr("claim \"repository\" is missing"),
                                              "this rule grants ssh, not x509-svid",
                                              HasSubstr("is not in an allowed network")));

  // An allowing rule's trace is clean; the decision is Decide's.
  e = engine->Explain(Acme(), Request(CredentialKind::kSsh, "10.0.0.1"));
  ASSERT_TRUE(e.decision.allowed);
  EXPECT_EQ(e.decision.rule, "ssh-from-office");
  EXPECT_THAT(e.decision.grant->ssh_principals, ElementsAre("deploy"));
  EXPECT_FALSE(e.rules[0].matched);
  EXPECT_TRUE(e.rules[1].matched);
  EXPECT_THAT(e.rules[1].why_not, IsEmpty());
}

TEST(CredentialKindsTest, KindNamesRoundTrip) {
  for (CredentialKind kind :
       {CredentialKind::kJwt, CredentialKind::kX509Svid, CredentialKind::kSsh}) {
    EXPECT_EQ(CredentialKindFromName(CredentialKindName(kind)), kind);
  }
  EXPECT_EQ(CredentialKindFromName("x509"), std::nullopt);
  EXPECT_EQ(CredentialKindFromName("SSH"), std::nullopt);
  EXPECT_EQ(CredentialKindFromName(""), std::nullopt);
}

}  // namespace
}  // namespace writ::issuer

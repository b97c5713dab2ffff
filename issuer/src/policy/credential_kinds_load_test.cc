// Loading the credential-kind parts of a grant (credentials, x509_svid, ssh)
// and of the self-test format (request.kind/principals, expect.principals/
// source_addresses/renewable): every error, with file:line, and the runner's
// comparisons.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/policy/policy_engine.h"
#include "issuer/src/policy/policy_tests.h"

namespace writ::issuer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Errors loads `yaml` as p.yaml and returns the load error ("" when it
// loads, which fails the test).
std::string Errors(std::string yaml) {
  auto engine = PolicyEngine::FromSources({{"p.yaml", std::move(yaml)}}, {});
  EXPECT_FALSE(engine.ok()) << "loaded:\n" << yaml;
  if (engine.ok()) return "";
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(engine.status().message());
}

// Grant is a one-rule policy whose grant (from line 4) is `grant`, an
// indented block.
std::string Grant(std::string grant) {
  return absl::StrCat("rules:\n  - name: r\n    issuer: github\n    grant:\n", grant);
}

TEST(CredentialKindsLoadTest, EveryGrantErrorNamesFileLineRuleAndField) {
  struct Case {
    std::string yaml;
    std::string error;
  } cases[] = {
      // credentials
      {Grant("      credentials: jwt\n      audiences: [a]\n"),
       "p.yaml:5: rule \"r\": grant.credentials: must be a list of strings"},
      {Grant("      credentials: []\n      audiences: [a]\n"),
       "p.yaml:5: rule \"r\": grant.credentials: must list at least one credential kind (jwt, "
       "x509-svid, ssh)"},
      {Grant("      credentials: [jwt, x509]\n      audiences: [a]\n"),
       "p.yaml:5: rule \"r\": grant.credentials[1]: \"x509\" is not a credential kind (jwt, "
       "x509-svid, ssh)"},
      {Grant("      credentials: [JWT]\n      audiences: [a]\n"),
       "grant.credentials[0]: \"JWT\" is not a credential kind"},
      {Grant("      credentials: [jwt, jwt]\n      audiences: [a]\n"),
       "p.yaml:5: rule \"r\": grant.credentials[1]: \"jwt\" is listed twice"},
      // x509-svid and its subject
      {Grant("      credentials: [x509-svid]\n"),
       "p.yaml:5: rule \"r\": grant.subject: credentials include x509-svid, so the subject must "
       "be a spiffe:// template (the SVID's SPIFFE ID), not \"{sub}\""},
      {Grant("      credentials: [x509-svid]\n      subject: \"repo:{repository}\"\n"),
       "p.yaml:6: rule \"r\": grant.subject: credentials include x509-svid, so the subject must "
       "be a spiffe:// template"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://ACME.example/ci\"\n"),
       "p.yaml:6: rule \"r\": grant.subject: \"spiffe://ACME.example/ci\": invalid SPIFFE ID: "
       "trust domain has 'A': the trust domain must be lowercase"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://acme.example:8443/ci\"\n"),
       "grant.subject: \"spiffe://acme.example:8443/ci\": invalid SPIFFE ID: trust domain has "
       "':': a port is not allowed"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://acme.example/{repo}/\"\n"),
       "p.yaml:6: rule \"r\": grant.subject: cannot expand to a valid SPIFFE ID (tried with each "
       "{claim} as \"x\": \"spiffe://acme.example/x/\"): invalid SPIFFE ID: the path has a "
       "trailing \"/\""},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://acme.example//{repo}\"\n"),
       "the path has an empty segment (\"//\")"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://acme.example/{a\"\n"),
       "p.yaml:6: rule \"r\": grant.subject: '{' at offset 22 is not closed"},
      {Grant("      audiences: [a]\n      x509_svid: {renewable: true}\n"),
       "p.yaml:6: rule \"r\": grant.x509_svid: is only for rules whose credentials include "
       "x509-svid"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://a.example/x\"\n"
             "      x509_svid: {renew: true}\n"),
       "p.yaml:7: rule \"r\": grant.x509_svid.renew: unknown key (expected one of: renewable)"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://a.example/x\"\n"
             "      x509_svid: {renewable: yes}\n"),
       "p.yaml:7: rule \"r\": grant.x509_svid.renewable: must be true or false"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://a.example/x\"\n"
             "      x509_svid: true\n"),
       "p.yaml:7: rule \"r\": grant.x509_svid: must be a map"},
      // ssh
      {Grant("      audiences: [a]\n      ssh: {principals: [deploy]}\n"),
       "p.yaml:6: rule \"r\": grant.ssh: is only for rules whose credentials include ssh"},
      {Grant("      credentials: [ssh]\n"),
       "p.yaml:5: rule \"r\": grant.ssh: is required when credentials include ssh (at least its "
       "principals)"},
      {Grant("      credentials: [ssh]\n      ssh: {source_address: client}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals: is required"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: deploy}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals: must be a list of strings"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: []}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals: must list at least one principal"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [deploy, \"a b\"]}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals[1]: \"a b\" is not an SSH principal (1 to 255 "
       "printable ASCII characters, no space or comma)"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [\"a,b\"]}\n"),
       "grant.ssh.principals[0]: \"a,b\" is not an SSH principal"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [\"\"]}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals[0]: is empty"},
      {Grant(absl::StrCat("      credentials: [ssh]\n      ssh: {principals: [",
                          std::string(256, 'a'), "]}\n")),
       "grant.ssh.principals[0]: \"aaaa"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [\"ci-{owner\"]}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals[0]: '{' at offset 3 is not closed"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [\"ci {owner}\"]}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals[0]: \"ci {owner}\" cannot expand to an SSH "
       "principal (1 to 255 printable ASCII characters, no space or comma)"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [\"{a..b}\"]}\n"),
       "grant.ssh.principals[0]: claim name \"a..b\" has an empty part"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [deploy, ci, deploy]}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.principals[2]: \"deploy\" is listed twice"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_addresses: [a]}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.source_addresses: unknown key (expected one of: "
       "principals, source_address)"},
      {Grant("      credentials: [ssh]\n      ssh: [deploy]\n"),
       "p.yaml:6: rule \"r\": grant.ssh: must be a map"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_address: server}\n"),
       "p.yaml:6: rule \"r\": grant.ssh.source_address: must be \"client\" (the requester's "
       "address) or a non-empty list of addresses or address blocks"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_address: []}\n"),
       "grant.ssh.source_address: must be \"client\""},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_address: [[a]]}\n"),
       "grant.ssh.source_address[0]: must be a string"},
      {Grant("      credentials: [ssh]\n      ssh:\n        principals: [d]\n"
             "        source_address: [10.0.0.0/8, 10.0.0.1/8]\n"),
       "p.yaml:8: rule \"r\": grant.ssh.source_address[1]: \"10.0.0.1/8\" has address bits set "
       "past the /8 prefix"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_address: "
             "[example.com]}\n"),
       "grant.ssh.source_address[0]: \"example.com\" is not an IP address or address block"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_address: [\"1.2.3.4,"
             "5.6.7.8\"]}\n"),
       "grant.ssh.source_address[0]: \"1.2.3.4,5.6.7.8\" is not an IP address"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_address: "
             "[\"::ffff:10.0.0.1\"]}\n"),
       "grant.ssh.source_address[0]: \"::ffff:10.0.0.1\": write IPv4-mapped addresses in IPv4 "
       "form"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d], source_address: "
             "[\"10.0.0.0/33\"]}\n"),
       "grant.ssh.source_address[0]: \"10.0.0.0/33\": prefix length must be 0 to 32"},
      // audiences and scopes are JWT-only
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d]}\n      audiences: [a]\n"),
       "p.yaml:7: rule \"r\": grant.audiences: is only for rules whose credentials include jwt"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://a.example/x\"\n"
             "      scopes: [a]\n"),
       "p.yaml:7: rule \"r\": grant.scopes: is only for rules whose credentials include jwt"},
      {Grant("      credentials: [x509-svid]\n      subject: \"spiffe://a.example/x\"\n"
             "      default_scopes: [a]\n"),
       "grant.default_scopes: is only for rules whose credentials include jwt"},
      {Grant("      credentials: [jwt, ssh]\n      ssh: {principals: [d]}\n"),
       "p.yaml:5: rule \"r\": grant.audiences: is required (a non-empty list of audiences)"},
      // lifetimes are checked for every kind
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d]}\n      max_lifetime: 1y\n"),
       "p.yaml:7: rule \"r\": grant.max_lifetime: \"1y\" is not a positive duration"},
      {Grant("      credentials: [ssh]\n      ssh: {principals: [d]}\n      audiences: [a]\n"
             "      default_lifetime: 1h\n      max_lifetime: 5m\n"),
       "grant.default_lifetime: is longer than max_lifetime (5m)"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Errors(c.yaml), HasSubstr(c.error)) << c.yaml;
  }
}

TEST(CredentialKindsLoadTest, AMalformedCredentialsListIsTheOnlyErrorItCauses) {
  // With the kind unknown, "ssh: only with ssh" and "audiences: required"
  // would be noise.
  std::string errors = Errors(Grant("      credentials: [sshh]\n      ssh: {principals: [d]}\n"));
  EXPECT_THAT(errors, HasSubstr("grant.credentials[0]: \"sshh\" is not a credential kind"));
  EXPECT_THAT(errors, Not(HasSubstr("grant.ssh:")));
  EXPECT_THAT(errors, Not(HasSubstr("grant.audiences")));
  EXPECT_EQ(errors.find('\n'), std::string::npos) << errors;
}

TEST(CredentialKindsLoadTest, EveryErrorOfOneRuleIsListed) {
  std::string errors =
      Errors(Grant("      credentials: [x509-svid, ssh]\n      x509_svid: {renewable: maybe}\n"
                   "      ssh: {principals: [\"a b\"], source_address: [nowhere]}\n"
                   "      audiences: [a]\n"));
  EXPECT_THAT(errors, HasSubstr("p.yaml:5: rule \"r\": grant.subject: credentials include "
                                "x509-svid"));
  EXPECT_THAT(errors, HasSubstr("p.yaml:6: rule \"r\": grant.x509_svid.renewable:"));
  EXPECT_THAT(errors, HasSubstr("p.yaml:7: rule \"r\": grant.ssh.principals[0]:"));
  EXPECT_THAT(errors, HasSubstr("p.yaml:7: rule \"r\": grant.ssh.source_address[0]:"));
  EXPECT_THAT(errors, HasSubstr("p.yaml:8: rule \"r\": grant.audiences: is only for"));
}

TEST(CredentialKindsLoadTest, ValidGrantsOfEveryKindLoad) {
  for (std::string grant : {
           // A JWT-only rule written the old way, and with the default spelled out.
           std::string("      audiences: [a]\n"),
           std::string("      credentials: [jwt]\n      audiences: [a]\n"),
           // An X.509-SVID needs no audiences; renewable may be false.
           std::string("      credentials: [x509-svid]\n"
                       "      subject: \"spiffe://acme.example/ci/{repository}\"\n"),
           std::string("      credentials: [x509-svid]\n      subject: \"spiffe://acme.example\"\n"
                       "      x509_svid: {renewable: false}\n"),
           std::string("      credentials: [x509-svid]\n"
                       "      subject: \"spiffe://{org}.example/{sub}\"\n"
                       "      x509_svid: {}\n"),
           // ssh with and without pinning; templates like the subject's.
           std::string("      credentials: [ssh]\n      ssh: {principals: [deploy]}\n"),
           std::string("      credentials: [ssh]\n      ssh:\n"
                       "        principals: [deploy, \"ci-{owner}\", \"{sub}\"]\n"
                       "        source_address: client\n"),
           std::string("      credentials: [ssh]\n      ssh:\n        principals: [deploy]\n"
                       "        source_address: [10.0.0.0/8, 192.0.2.7, \"fd00::/8\", \"::1\"]\n"
                       "      include_claims: [repository]\n      max_lifetime: 10m\n"),
           std::string(absl::StrCat("      credentials: [ssh]\n      ssh: {principals: [",
                                    std::string(255, 'p'), "]}\n")),
           // All three.
           std::string("      credentials: [ssh, x509-svid, jwt]\n"
                       "      subject: \"spiffe://acme.example/ci\"\n"
                       "      audiences: [a]\n      scopes: [s]\n      default_scopes: [s]\n"
                       "      x509_svid: {renewable: true}\n      ssh: {principals: [d]}\n"),
       }) {
    auto engine = PolicyEngine::FromSources({{"p.yaml", Grant(grant)}}, {});
    EXPECT_TRUE(engine.ok()) << grant << "\n" << engine.status();
  }
}

// A policy with one rule of each kind and `tests` appended.
std::string WithTests(std::string tests) {
  return absl::StrCat(R"(
rules:
  - name: svid
    issuer: github
    grant:
      subject: "spiffe://acme.example/{repository}"
      credentials: [x509-svid]
      x509_svid: {renewable: true}
  - name: ssh
    issuer: gitlab
    grant:
      credentials: [ssh]
      ssh: {principals: [deploy, ci], source_address: client}
tests:
)",
                      tests);
}

// A rule granting x509-svid in another trust domain than the issuer's could
// never issue: refused at load, naming both domains. JWT-only rules and
// templates with a {claim} in the trust domain are not affected.
TEST(CredentialKindsLoadTest, X509RulesMustBeInTheIssuersTrustDomain) {
  PolicyEngineOptions options;
  options.x509_trust_domain = "writ.example";
  const std::string svid = Grant(
      "      subject: \"spiffe://acme.example/ci/{repository}\"\n"
      "      credentials: [x509-svid]\n");
  auto engine = PolicyEngine::FromSources({{"p.yaml", svid}}, options);
  ASSERT_FALSE(engine.ok());
  EXPECT_THAT(engine.status().message(),
              HasSubstr("p.yaml:2: rule \"r\": grant.subject: SPIFFE IDs in trust domain "
                        "\"acme.example\", but this issuer's x509.trust_domain is "
                        "\"writ.example\""));
  options.x509_trust_domain = "acme.example";
  EXPECT_TRUE(PolicyEngine::FromSources({{"p.yaml", svid}}, options).ok());
  options.x509_trust_domain = "writ.example";
  EXPECT_TRUE(PolicyEngine::FromSources(
                  {{"p.yaml", Grant("      subject: \"spiffe://acme.example/ci/{repository}\"\n"
                                    "      audiences: [a]\n")}},
                  options)
                  .ok());
  EXPECT_TRUE(
      PolicyEngine::FromSources({{"p.yaml", Grant("      subject: \"spiffe://{org}.example/ci\"\n"
                                                  "      credentials: [x509-svid]\n")}},
                                options)
          .ok());
}

TEST(CredentialKindsLoadTest, SelfTestFormatErrors) {
  struct Case {
    std::string tests;
    std::string error;
  } cases[] = {
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    request: {kind: x509}\n    expect: {decision: deny}\n",
       "p.yaml:17: test \"t\": request.kind: must be jwt, x509-svid or ssh"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    request: {kind: [ssh]}\n    expect: {decision: deny}\n",
       "p.yaml:17: test \"t\": request.kind: must be a string"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    request: {kind: ssh, principals: deploy}\n    expect: {decision: deny}\n",
       "p.yaml:17: test \"t\": request.principals: must be a list of strings"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    request: {kind: ssh, principal: [deploy]}\n    expect: {decision: deny}\n",
       "test \"t\": request.principal: unknown key"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    expect: {decision: allow, renewable: maybe}\n",
       "p.yaml:17: test \"t\": expect.renewable: must be true or false"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    expect: {decision: allow, principals: deploy}\n",
       "p.yaml:17: test \"t\": expect.principals: must be a list of strings"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    expect: {decision: allow, source_addresses: 10.0.0.1}\n",
       "p.yaml:17: test \"t\": expect.source_addresses: must be a list of strings"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    expect: {decision: deny, principals: [deploy]}\n",
       "p.yaml:17: test \"t\": expect.principals: is only for decision: allow"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    expect: {decision: deny, source_addresses: [10.0.0.1]}\n",
       "test \"t\": expect.source_addresses: is only for decision: allow"},
      {"  - name: t\n    identity: {issuer: github, subject: s}\n"
       "    expect: {decision: deny, renewable: false}\n",
       "test \"t\": expect.renewable: is only for decision: allow"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Errors(WithTests(c.tests)), HasSubstr(c.error)) << c.tests;
  }
}

// Runs `tests` against WithTests' rules; returns each case's message ("" =
// passed).
std::vector<std::string> RunCases(std::string tests) {
  auto engine = PolicyEngine::FromSources({{"p.yaml", WithTests(std::move(tests))}}, {});
  EXPECT_TRUE(engine.ok()) << engine.status();
  std::vector<std::string> messages;
  if (!engine.ok()) return messages;
  for (const PolicyTestResult& r : RunPolicyTests(**engine).results) {
    messages.push_back(r.message);
  }
  return messages;
}

TEST(CredentialKindsLoadTest, SelfTestsCompareKindFields) {
  constexpr char kSvid[] =
      "    identity: {issuer: github, subject: s, claims: {repository: acme/app}}\n";
  constexpr char kSsh[] = "    identity: {issuer: gitlab, subject: s}\n";
  std::vector<std::string> m = RunCases(absl::StrCat(
      // Passing cases.
      "  - name: svid\n", kSvid,
      "    request: {kind: x509-svid}\n"
      "    expect: {decision: allow, rule: svid, renewable: true, scopes: [],\n"
      "             subject: \"spiffe://acme.example/acme/app\"}\n",
      "  - name: ssh\n", kSsh,
      "    request: {kind: ssh, principals: [ci], client_address: \"::ffff:192.0.2.1\"}\n"
      "    expect: {decision: allow, principals: [ci], source_addresses: [192.0.2.1]}\n",
      "  - name: jwt from svid rule\n", kSvid,
      "    expect: {decision: deny, error: invalid_target, rule: svid}\n",
      // Failing cases: each names what it expected and what it got.
      "  - name: wrong renewable\n", kSvid,
      "    request: {kind: x509-svid}\n    expect: {decision: allow, renewable: false}\n",
      "  - name: wrong principals\n", kSsh,
      "    request: {kind: ssh, client_address: 10.0.0.1}\n"
      "    expect: {decision: allow, principals: [deploy]}\n",
      "  - name: wrong addresses\n", kSsh,
      "    request: {kind: ssh, client_address: 10.0.0.1}\n"
      "    expect: {decision: allow, source_addresses: [10.0.0.0/8]}\n",
      "  - name: wrong code\n", kSsh,
      "    request: {kind: ssh, principals: [root], client_address: 10.0.0.1}\n"
      "    expect: {decision: deny, error: invalid_target}\n"));
  ASSERT_EQ(m.size(), 7u);
  EXPECT_EQ(m[0], "");
  EXPECT_EQ(m[1], "");
  EXPECT_EQ(m[2], "");
  EXPECT_EQ(m[3],
            "expected renewable false, got allow by rule \"svid\" (subject "
            "\"spiffe://acme.example/acme/app\", x509-svid, renewable true, lifetime 5m)");
  EXPECT_EQ(m[4],
            "expected principals [deploy], got allow by rule \"ssh\" (subject \"s\", ssh, "
            "principals [deploy, ci], source addresses [10.0.0.1], lifetime 5m)");
  EXPECT_THAT(m[5], HasSubstr("expected source addresses [10.0.0.0/8], got allow by rule \"ssh\""));
  EXPECT_THAT(m[6], HasSubstr("expected deny invalid_target, got deny invalid_scope: rule \"ssh\": "
                              "SSH principal \"root\" is not granted"));
}

}  // namespace
}  // namespace writ::issuer

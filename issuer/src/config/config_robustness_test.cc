// ParseIssuerConfig on hostile input: random bytes, mutated valid files and
// pathological nesting must produce a Status, never a crash or a hang.
#include <random>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "issuer/src/config/config_loader.h"

namespace writ::issuer {
namespace {

constexpr char kValid[] = R"(issuer_url: https://writ.acme.example
http: {host: 0.0.0.0, port: 8443, tls_cert_file: /etc/writ/tls.crt, tls_key_file: /etc/writ/tls.key}
grpc:
  host: 0.0.0.0
  port: 8444
  tls_cert_file: /etc/writ/tls.crt
  tls_key_file: /etc/writ/tls.key
data_dir: /var/lib/writ
policy_dir: /etc/writ/policies
tokens: {default_lifetime: 5m, max_lifetime: 1h, max_delegation_depth: 4}
limits: {max_body_bytes: 65536, max_header_bytes: 8192, max_grpc_message_bytes: 65536}
keys: {rotate_after: 24h, publish_lead: 1h, check_interval: 1m}
x509:
  enabled: true
  trust_domain: acme.example
  mode: self-signed
  ca_lifetime: 720h
  facts_extension_oid: 1.3.6.1.4.1.99999.1
ssh: {enabled: true}
trusted_issuers:
  - name: github
    issuer: https://token.actions.githubusercontent.com
    audiences: [https://writ.acme.example]
    algorithms: [RS256]
    leeway: 30s
    jwks_ttl: 5m
  - &gl
    name: gitlab
    issuer: "https://gitlab.com"
    audiences: ['https://writ.acme.example']
)";

// ExpectHandled checks that the outcome is a config or an InvalidArgument.
void ExpectHandled(const std::string& input) {
  absl::StatusOr<IssuerConfig> config = ParseIssuerConfig(input, "fuzz.yaml");
  if (!config.ok()) {
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
    EXPECT_FALSE(config.status().message().empty());
  }
}

TEST(ConfigRobustnessTest, TheSeedIsValid) {
  absl::StatusOr<IssuerConfig> config = ParseIssuerConfig(kValid, "seed.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
}

TEST(ConfigRobustnessTest, SurvivesRandomBytes) {
  std::mt19937 rng(20261123);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 400);
  for (int i = 0; i < 300; ++i) {
    std::string input(length(rng), '\0');
    for (char& c : input) c = static_cast<char>(byte(rng));
    ExpectHandled(input);
  }
}

TEST(ConfigRobustnessTest, SurvivesRandomYamlPunctuation) {
  // Random strings over YAML's structural alphabet reach far more parser
  // states than uniform bytes do.
  const std::string alphabet = "-:?[]{},&*!|>'\"%@`#\n \t ab0.~";
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 200);
  for (int i = 0; i < 400; ++i) {
    std::string input(length(rng), ' ');
    for (char& c : input) c = alphabet[pick(rng)];
    ExpectHandled(input);
  }
}

TEST(ConfigRobustnessTest, SurvivesMutatedValidFiles) {
  const std::string seed = kValid;
  const std::string inserts = ":-[]{}&*!|>'\"#\n ~0x\xff";
  std::mt19937 rng(42);
  for (int i = 0; i < 500; ++i) {
    std::string input = seed;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !input.empty(); ++e) {
      const size_t at = rng() % input.size();
      switch (rng() % 4) {
        case 0:
          input.erase(at, 1 + rng() % 8);
          break;
        case 1:
          input.insert(at, 1, inserts[rng() % inserts.size()]);
          break;
        case 2:
          input[at] = static_cast<char>(rng() % 256);
          break;
        default:  // duplicate a slice, as a careless paste would
          input.insert(at, input.substr(rng() % input.size(), rng() % 40));
          break;
      }
    }
    ExpectHandled(input);
  }
}

TEST(ConfigRobustnessTest, RefusesDeepFlowNestingWithoutRecursingIntoIt) {
  absl::StatusOr<IssuerConfig> config =
      ParseIssuerConfig("data_dir: " + std::string(100000, '['), "deep.yaml");
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), "deep.yaml: [ ] and { } nest more than 64 levels deep");
  ExpectHandled(std::string(60, '{') + std::string(60, '}'));
}

TEST(ConfigRobustnessTest, SurvivesDeepBlockNesting) {
  std::string input;
  for (int depth = 0; depth < 300; ++depth) input += std::string(depth, ' ') + "a:\n";
  ExpectHandled(input);
  std::string list;
  for (int depth = 0; depth < 300; ++depth) list += std::string(depth * 2, ' ') + "- \n";
  ExpectHandled(list);
}

TEST(ConfigRobustnessTest, SurvivesAliasesAndTags) {
  ExpectHandled("a: &x [1, 2]\nb: *x\nc: *undefined\n");
  ExpectHandled("trusted_issuers: [*nothing]\n");
  ExpectHandled("http: !!map {port: !!str 80}\n");
  ExpectHandled("? [complex, key]\n: value\n");
  ExpectHandled("data_dir: !<tag:yaml.org,2002:binary> aGVsbG8=\n");
  ExpectHandled(std::string("data_dir: \"a\0b\"\n", 15));
  ExpectHandled("%YAML 1.2\n%TAG ! tag:x,2000:\n---\ndata_dir: x\n");
}

}  // namespace
}  // namespace writ::issuer

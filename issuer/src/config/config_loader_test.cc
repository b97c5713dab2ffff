#include "issuer/src/config/config_loader.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/config/duration.h"

namespace writ::issuer {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Errors parses `yaml` as "writ.yaml" and returns the error lines; an
// unexpected success yields a single "<ok>" line.
std::vector<std::string> Errors(const std::string& yaml) {
  absl::StatusOr<IssuerConfig> config = ParseIssuerConfig(yaml, "writ.yaml");
  if (config.ok()) return {"<ok>"};
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  return absl::StrSplit(config.status().message(), '\n');
}

IssuerConfig MustParse(const std::string& yaml) {
  absl::StatusOr<IssuerConfig> config = ParseIssuerConfig(yaml, "writ.yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : IssuerConfig{};
}

// A minimal valid trusted_issuers entry, to prefix with "trusted_issuers:\n".
constexpr char kIssuerHead[] =
    "trusted_issuers:\n"
    "  - name: ci\n"
    "    issuer: https://ci.example\n"
    "    audiences: [https://writ.example]\n";

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "writ-config-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::filesystem::path file = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << content;
    return file.string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(DefaultIssuerConfigTest, IsTheLoopbackDevSetup) {
  IssuerConfig config = DefaultIssuerConfig();
  EXPECT_EQ(config.source, "embedded default");
  EXPECT_EQ(config.issuer_url, "http://127.0.0.1:8080");
  EXPECT_EQ(config.http.host, "127.0.0.1");
  EXPECT_EQ(config.http.port, 8080);
  EXPECT_TRUE(config.http.tls_cert_file.empty());
  EXPECT_TRUE(config.http.enabled);
  EXPECT_EQ(config.grpc.host, "127.0.0.1");
  EXPECT_EQ(config.grpc.port, 8081);
  EXPECT_TRUE(config.grpc.enabled);
  EXPECT_EQ(config.data_dir, "writ-data");
  EXPECT_EQ(config.policy_dir, "policies");
  ASSERT_EQ(config.trusted_issuers.size(), 2u);
  EXPECT_EQ(config.trusted_issuers[0].name, "github");
  EXPECT_EQ(config.trusted_issuers[0].issuer, "https://token.actions.githubusercontent.com");
  EXPECT_EQ(config.trusted_issuers[1].name, "gitlab");
  EXPECT_EQ(config.trusted_issuers[1].issuer, "https://gitlab.com");
  for (const TrustedIssuerConfig& t : config.trusted_issuers) {
    EXPECT_THAT(t.audiences, ElementsAre("http://127.0.0.1:8080"));
    EXPECT_THAT(t.algorithms, ElementsAre(JwsAlgorithm::kRs256));
    EXPECT_TRUE(t.jwks_uri.empty());
    EXPECT_TRUE(t.static_jwks.empty());
  }
  EXPECT_EQ(config.tokens.default_lifetime, absl::Minutes(5));
  EXPECT_EQ(config.tokens.max_lifetime, absl::Hours(1));
  EXPECT_EQ(config.tokens.max_delegation_depth, 4);
  EXPECT_EQ(config.limits.max_body_bytes, 65536u);
}

TEST(ParseIssuerConfigTest, EmptyOrCommentOnlyDocumentMeansDefaults) {
  for (const char* yaml : {"", "\n\n", "# nothing here\n", "---\n", "~\n"}) {
    absl::StatusOr<IssuerConfig> config = ParseIssuerConfig(yaml, "writ.yaml");
    ASSERT_TRUE(config.ok()) << "input: " << yaml << " " << config.status();
    EXPECT_EQ(config->source, "writ.yaml");
    EXPECT_EQ(config->issuer_url, "http://127.0.0.1:8080");
    EXPECT_EQ(config->trusted_issuers.size(), 2u);
    EXPECT_EQ(config->data_dir, "writ-data");
  }
}

TEST(ParseIssuerConfigTest, ReadsEveryField) {
  ScratchDir dir;
  dir.Write("keys/ci.jwks", R"({"keys":[]})");
  const std::string path = dir.Write("writ.yaml", R"(
issuer_url: https://writ.acme.example
http: {host: 0.0.0.0, port: 8443, tls_cert_file: /etc/writ/tls.crt, tls_key_file: /etc/writ/tls.key, enabled: true}
grpc: {host: "::", port: 8444, tls_cert_file: tls/grpc.crt, tls_key_file: tls/grpc.key, enabled: false}
data_dir: /var/lib/writ
policy_dir: /etc/writ/policies
tokens: {default_lifetime: 2m, max_lifetime: 1h30m, max_delegation_depth: 16}
limits: {max_body_bytes: 1000, max_header_bytes: 2000, max_grpc_message_bytes: 3000, http_threads: 12, http_io_threads: 3, max_http_connections: 77}
ledger: {commit_delay: 1ms, commit_group: 16, background_write_bytes_per_sec: 67108864}
trusted_issuers:
  - name: github
    issuer: https://token.actions.githubusercontent.com
    audiences: [https://writ.acme.example, writ]
    algorithms: [RS256, ES384, EdDSA]
    jwks_uri: https://token.actions.githubusercontent.com/.well-known/jwks?x=1
    leeway: 45s
    max_token_bytes: 4096
    one_time_jti: true
    jwks_ttl: 10m
    refresh_cooldown: 1m
    stale_keys_max: 0s
    connect_timeout: 500ms
    fetch_timeout: 3s
    max_response_bytes: 100000
  - name: k8s_prod-1
    issuer: http://127.0.0.1:6443
    audiences: [writ]
    static_jwks_file: keys/ci.jwks
)");
  absl::StatusOr<IssuerConfig> loaded = LoadIssuerConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const IssuerConfig& c = *loaded;
  EXPECT_EQ(c.source, path);
  EXPECT_EQ(c.issuer_url, "https://writ.acme.example");
  EXPECT_EQ(c.http.host, "0.0.0.0");
  EXPECT_EQ(c.http.port, 8443);
  EXPECT_EQ(c.http.tls_cert_file, "/etc/writ/tls.crt");
  EXPECT_EQ(c.http.tls_key_file, "/etc/writ/tls.key");
  EXPECT_TRUE(c.http.enabled);
  EXPECT_EQ(c.grpc.host, "::");
  EXPECT_EQ(c.grpc.port, 8444);
  EXPECT_EQ(c.grpc.tls_cert_file, dir.path() + "/tls/grpc.crt");
  EXPECT_EQ(c.grpc.tls_key_file, dir.path() + "/tls/grpc.key");
  EXPECT_FALSE(c.grpc.enabled);
  EXPECT_EQ(c.data_dir, "/var/lib/writ");
  EXPECT_EQ(c.policy_dir, "/etc/writ/policies");
  EXPECT_EQ(c.tokens.default_lifetime, absl::Minutes(2));
  EXPECT_EQ(c.tokens.max_lifetime, absl::Minutes(90));
  EXPECT_EQ(c.tokens.max_delegation_depth, 16);
  EXPECT_EQ(c.limits.max_body_bytes, 1000u);
  EXPECT_EQ(c.limits.max_header_bytes, 2000u);
  EXPECT_EQ(c.limits.max_grpc_message_bytes, 3000u);
  EXPECT_EQ(c.limits.http_threads, 12);
  EXPECT_EQ(c.limits.http_io_threads, 3);
  EXPECT_EQ(c.limits.max_http_connections, 77u);
  EXPECT_EQ(c.ledger.commit_delay, absl::Milliseconds(1));
  EXPECT_EQ(c.ledger.commit_group, 16u);
  EXPECT_EQ(c.ledger.background_write_bytes_per_sec, 64 << 20);
  ASSERT_EQ(c.trusted_issuers.size(), 2u);
  const TrustedIssuerConfig& gh = c.trusted_issuers[0];
  EXPECT_EQ(gh.name, "github");
  EXPECT_EQ(gh.issuer, "https://token.actions.githubusercontent.com");
  EXPECT_THAT(gh.audiences, ElementsAre("https://writ.acme.example", "writ"));
  EXPECT_THAT(gh.algorithms,
              ElementsAre(JwsAlgorithm::kRs256, JwsAlgorithm::kEs384, JwsAlgorithm::kEdDsa));
  EXPECT_EQ(gh.jwks_uri, "https://token.actions.githubusercontent.com/.well-known/jwks?x=1");
  EXPECT_TRUE(gh.static_jwks.empty());
  EXPECT_EQ(gh.leeway, absl::Seconds(45));
  EXPECT_EQ(gh.max_token_bytes, 4096u);
  EXPECT_TRUE(gh.one_time_jti);
  EXPECT_EQ(gh.jwks_ttl, absl::Minutes(10));
  EXPECT_EQ(gh.refresh_cooldown, absl::Minutes(1));
  EXPECT_EQ(gh.stale_keys_max, absl::ZeroDuration());
  EXPECT_EQ(gh.connect_timeout, absl::Milliseconds(500));
  EXPECT_EQ(gh.fetch_timeout, absl::Seconds(3));
  EXPECT_EQ(gh.max_response_bytes, 100000u);
  const TrustedIssuerConfig& k8s = c.trusted_issuers[1];
  EXPECT_EQ(k8s.name, "k8s_prod-1");
  EXPECT_EQ(k8s.issuer, "http://127.0.0.1:6443");
  EXPECT_EQ(k8s.static_jwks, R"({"keys":[]})");
  // Unset fields keep TrustedIssuerConfig's defaults.
  const TrustedIssuerConfig defaults;
  EXPECT_EQ(k8s.algorithms, defaults.algorithms);
  EXPECT_EQ(k8s.leeway, defaults.leeway);
  EXPECT_EQ(k8s.max_token_bytes, defaults.max_token_bytes);
  EXPECT_FALSE(k8s.one_time_jti);
  EXPECT_EQ(k8s.jwks_ttl, defaults.jwks_ttl);
  EXPECT_EQ(k8s.refresh_cooldown, defaults.refresh_cooldown);
  EXPECT_EQ(k8s.stale_keys_max, defaults.stale_keys_max);
  EXPECT_EQ(k8s.connect_timeout, defaults.connect_timeout);
  EXPECT_EQ(k8s.fetch_timeout, defaults.fetch_timeout);
  EXPECT_EQ(k8s.max_response_bytes, defaults.max_response_bytes);
}

TEST(DefaultIssuerConfigTest, KeysX509AndSshDefaults) {
  IssuerConfig config = DefaultIssuerConfig();
  EXPECT_EQ(config.keys.rotate_after, absl::Hours(24));
  EXPECT_EQ(config.keys.publish_lead, absl::Hours(1));
  EXPECT_EQ(config.keys.check_interval, absl::Minutes(1));
  EXPECT_TRUE(config.x509.enabled);
  EXPECT_EQ(config.x509.trust_domain, "acme.example");
  EXPECT_EQ(config.x509.mode, "self-signed");
  EXPECT_TRUE(config.x509.root_bundle_file.empty());
  EXPECT_EQ(config.x509.ca_lifetime, absl::Hours(24 * 30));
  EXPECT_EQ(config.x509.facts_extension_oid, "");
  EXPECT_TRUE(config.ssh.enabled);
}

TEST(ParseIssuerConfigTest, ReadsKeysX509AndSsh) {
  ScratchDir dir;
  const std::string path = dir.Write("etc/writ.yaml", R"(
keys: {rotate_after: 12h, publish_lead: 30m, check_interval: 10s}
x509:
  enabled: true
  trust_domain: prod.acme-corp.example
  mode: intermediate
  root_bundle_file: pki/roots.pem
  ca_lifetime: 72h
  facts_extension_oid: 1.3.6.1.4.1.99999.1
ssh: {enabled: false}
)");
  absl::StatusOr<IssuerConfig> loaded = LoadIssuerConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const IssuerConfig& c = *loaded;
  EXPECT_EQ(c.keys.rotate_after, absl::Hours(12));
  EXPECT_EQ(c.keys.publish_lead, absl::Minutes(30));
  EXPECT_EQ(c.keys.check_interval, absl::Seconds(10));
  EXPECT_TRUE(c.x509.enabled);
  EXPECT_EQ(c.x509.trust_domain, "prod.acme-corp.example");
  EXPECT_EQ(c.x509.mode, "intermediate");
  // Relative to the config file, like every other path.
  EXPECT_EQ(c.x509.root_bundle_file, dir.path() + "/etc/pki/roots.pem");
  EXPECT_EQ(c.x509.ca_lifetime, absl::Hours(72));
  EXPECT_EQ(c.x509.facts_extension_oid, "1.3.6.1.4.1.99999.1");
  EXPECT_FALSE(c.ssh.enabled);

  IssuerConfig off = MustParse("x509: {enabled: false, facts_extension_oid: ''}\n");
  EXPECT_FALSE(off.x509.enabled);
  EXPECT_EQ(off.x509.facts_extension_oid, "");
  EXPECT_EQ(off.x509.mode, "self-signed");
  EXPECT_TRUE(off.ssh.enabled);
}

TEST(ParseIssuerConfigTest, KeysSectionErrors) {
  EXPECT_THAT(Errors("keys:\n  rotate_after: 0s\n"),
              ElementsAre("writ.yaml:2:17: keys.rotate_after: must be positive, got 0s"));
  EXPECT_THAT(Errors("keys: {publish_lead: 0s}\n"),
              ElementsAre("writ.yaml:1:22: keys.publish_lead: must be positive, got 0s"));
  EXPECT_THAT(Errors("keys: {check_interval: -1s}\n"),
              ElementsAre("writ.yaml:1:24: keys.check_interval: must not be negative"));
  EXPECT_THAT(Errors("keys: {check_interval: 1d}\n"),
              ElementsAre(HasSubstr("keys.check_interval: invalid duration \"1d\"")));
  EXPECT_THAT(Errors("keys: {rotation: 1h}\n"),
              ElementsAre("writ.yaml:1:8: keys.rotation: unknown key (expected one of: "
                          "rotate_after, publish_lead, check_interval)"));
  EXPECT_THAT(Errors("keys: [1h]\n"),
              ElementsAre("writ.yaml:1:7: keys: expected a mapping, got a list"));
  EXPECT_THAT(Errors("keys: {rotate_after: 1h, publish_lead: 2h}\n"),
              ElementsAre("writ.yaml:1:40: keys.publish_lead: must not exceed rotate_after (2h > "
                          "1h): the next key must have been published for publish_lead when the "
                          "active one is due"));
}

TEST(ParseIssuerConfigTest, X509SectionErrors) {
  EXPECT_THAT(Errors("x509: {enabled: maybe}\n"),
              ElementsAre("writ.yaml:1:17: x509.enabled: expected true or false, got \"maybe\""));
  EXPECT_THAT(Errors("x509: {mode: root}\n"),
              ElementsAre("writ.yaml:1:14: x509.mode: \"root\" is not \"self-signed\" or "
                          "\"intermediate\""));
  EXPECT_THAT(Errors("x509:\n  mode: intermediate\n"),
              ElementsAre("writ.yaml:2:9: x509.root_bundle_file: is required in intermediate "
                          "mode: the operator's root certificates (PEM) that Writ's CA "
                          "certificates chain to"));
  EXPECT_THAT(Errors("x509: {mode: intermediate, root_bundle_file: ''}\n"),
              ::testing::Contains(HasSubstr("x509.root_bundle_file: must not be empty")));
  EXPECT_THAT(Errors("x509: {ca_lifetime: 0s}\n"),
              ElementsAre("writ.yaml:1:21: x509.ca_lifetime: must be positive, got 0s"));
  EXPECT_THAT(Errors("x509: {colour: blue}\n"),
              ElementsAre(HasSubstr("x509.colour: unknown key (expected one of: enabled, "
                                    "trust_domain, mode, root_bundle_file, ca_lifetime, "
                                    "facts_extension_oid)")));
  EXPECT_THAT(Errors("ssh: {enabled: 1}\n"),
              ElementsAre("writ.yaml:1:16: ssh.enabled: expected true or false, got \"1\""));
  EXPECT_THAT(Errors("ssh: {ca: x}\n"),
              ElementsAre("writ.yaml:1:7: ssh.ca: unknown key (expected one of: enabled)"));
}

TEST(ParseIssuerConfigTest, TrustDomainMustBeASpiffeTrustDomain) {
  for (const char* bad : {"Acme.example", "acme.example/ns", "acme.example:8443", "''",
                          "spiffe://acme.example", "acme example", "a@b"}) {
    std::vector<std::string> errors = Errors(absl::StrCat("x509: {trust_domain: ", bad, "}\n"));
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_THAT(errors[0], HasSubstr("x509.trust_domain: ")) << bad;
    EXPECT_THAT(errors[0], HasSubstr("is not a SPIFFE trust domain")) << bad;
  }
  EXPECT_THAT(Errors(absl::StrCat("x509: {trust_domain: ", std::string(256, 'a'), "}\n")),
              ElementsAre(HasSubstr("is not a SPIFFE trust domain")));
  for (const std::string& good :
       std::vector<std::string>{"acme.example", "a", "x_y-z.0", std::string(255, 'a')}) {
    EXPECT_EQ(MustParse(absl::StrCat("x509: {trust_domain: ", good, "}\n")).x509.trust_domain,
              good);
  }
}

TEST(ParseIssuerConfigTest, FactsExtensionOidMustBeDotted) {
  for (const char* bad :
       {"1", "1.", ".1", "1..2", "3.1", "1.40", "0.99", "1.02", "a.b", "1.2.x",
        "2.25.1234567890123456789012345678901234567890", "1 .2",
        "2.25.219598111397571597917930807101480163434.1", "1.3.6.1.4.1.2147483648"}) {
    std::vector<std::string> errors =
        Errors(absl::StrCat("x509: {facts_extension_oid: '", bad, "'}\n"));
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_THAT(errors[0], HasSubstr("x509.facts_extension_oid: \"")) << bad;
    EXPECT_THAT(errors[0], HasSubstr("is not a dotted OID")) << bad;
  }
  for (const char* good :
       {"1.3.6.1.4.1.99999.1", "2.999", "0.39", "2.25.0", "1.3.6.1.4.1.2147483647.1"}) {
    EXPECT_EQ(MustParse(absl::StrCat("x509: {facts_extension_oid: '", good, "'}\n"))
                  .x509.facts_extension_oid,
              good);
  }
}

TEST(ParseIssuerConfigTest, CaLifetimeMustOutliveRotationAndTokens) {
  // 24h + 1h + 1h = 26h: exactly that is not enough.
  EXPECT_THAT(Errors("x509:\n  ca_lifetime: 26h\n"),
              ElementsAre("writ.yaml:2:16: x509.ca_lifetime: must exceed keys.rotate_after + "
                          "keys.publish_lead + tokens.max_lifetime (26h <= 24h + 1h + 1h): a CA "
                          "certificate must outlive what its key signs"));
  EXPECT_EQ(MustParse("x509:\n  ca_lifetime: 26h0m1s\n").x509.ca_lifetime,
            absl::Hours(26) + absl::Seconds(1));
  // The error points at what was written when ca_lifetime was not.
  EXPECT_THAT(Errors("keys:\n  rotate_after: 800h\n"),
              ElementsAre(HasSubstr("writ.yaml:2:17: x509.ca_lifetime: must exceed")));
  EXPECT_THAT(Errors("tokens:\n  max_lifetime: 720h\n"),
              ElementsAre(HasSubstr("writ.yaml:2:17: x509.ca_lifetime: must exceed")));
  // Only a self-signed CA has a lifetime of Writ's choosing.
  MustParse("keys: {rotate_after: 800h}\nx509: {enabled: false}\n");
  MustParse("keys: {rotate_after: 800h}\nx509: {mode: intermediate, root_bundle_file: /r.pem}\n");
}

TEST(ParseIssuerConfigTest, PartialFileKeepsOtherDefaults) {
  IssuerConfig c = MustParse("tokens:\n  max_lifetime: 2h\nlimits: {http_threads: 4}\n");
  EXPECT_EQ(c.tokens.max_lifetime, absl::Hours(2));
  EXPECT_EQ(c.tokens.default_lifetime, absl::Minutes(5));
  EXPECT_EQ(c.limits.http_threads, 4);
  EXPECT_EQ(c.limits.max_body_bytes, 65536u);
  EXPECT_EQ(c.http.port, 8080);
  EXPECT_EQ(c.grpc.port, 8081);
}

TEST(ParseIssuerConfigTest, IssuerUrlFollowsHttpListenerWhenUnset) {
  EXPECT_EQ(MustParse("http: {port: 9090}\n").issuer_url, "http://127.0.0.1:9090");
  // Any free port: the server derives the URL after binding.
  EXPECT_EQ(MustParse("http: {port: 0}\n").issuer_url, "");
  EXPECT_EQ(MustParse("http: {host: '::1', port: 9090}\n").issuer_url, "http://[::1]:9090");
  IssuerConfig tls =
      MustParse("http: {host: writ.internal, port: 8443, tls_cert_file: /c, tls_key_file: /k}\n");
  EXPECT_EQ(tls.issuer_url, "https://writ.internal:8443");
  // The default trusted issuers follow issuer_url.
  ASSERT_EQ(tls.trusted_issuers.size(), 2u);
  EXPECT_THAT(tls.trusted_issuers[0].audiences, ElementsAre("https://writ.internal:8443"));
  IssuerConfig set = MustParse("issuer_url: https://writ.acme.example/tenant-a\n");
  EXPECT_THAT(set.trusted_issuers[1].audiences, ElementsAre("https://writ.acme.example/tenant-a"));
}

TEST(ParseIssuerConfigTest, IssuerUrlCannotBeDerivedFromWildcardHost) {
  EXPECT_THAT(Errors("http:\n  host: 0.0.0.0\n  tls_cert_file: /c\n  tls_key_file: /k\n"),
              ElementsAre("writ.yaml:1:1: issuer_url: is required when http.host is the "
                          "wildcard address \"0.0.0.0\": set the URL clients use to reach this "
                          "issuer"));
}

TEST(ParseIssuerConfigTest, TrustedIssuersReplaceTheDefaults) {
  IssuerConfig c = MustParse(kIssuerHead);
  ASSERT_EQ(c.trusted_issuers.size(), 1u);
  EXPECT_EQ(c.trusted_issuers[0].name, "ci");
}

TEST(ParseIssuerConfigTest, RelativeDirectoriesResolveAgainstTheConfigFile) {
  ScratchDir dir;
  const std::string path = dir.Write("etc/writ.yaml", "data_dir: state\npolicy_dir: ../policies\n");
  absl::StatusOr<IssuerConfig> c = LoadIssuerConfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, dir.path() + "/etc/state");
  EXPECT_EQ(c->policy_dir, dir.path() + "/policies");
  // A bare source name has no directory: paths stay as written.
  IssuerConfig bare = MustParse("data_dir: state\n");
  EXPECT_EQ(bare.data_dir, "state");
}

TEST(ParseIssuerConfigTest, StaticJwksFileResolvesAgainstTheConfigFile) {
  ScratchDir dir;
  dir.Write("conf/jwks/cluster.json", "{\"keys\":[{\"kty\":\"EC\"}]}");
  const std::string yaml = std::string(kIssuerHead) + "    static_jwks_file: jwks/cluster.json\n";
  absl::StatusOr<IssuerConfig> c = ParseIssuerConfig(yaml, dir.path() + "/conf/writ.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->trusted_issuers[0].static_jwks, "{\"keys\":[{\"kty\":\"EC\"}]}");

  // Relative to the config file, not to the working directory.
  absl::StatusOr<IssuerConfig> elsewhere = ParseIssuerConfig(yaml, dir.path() + "/writ.yaml");
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.status().message(),
            dir.path() + "/writ.yaml:5:23: trusted_issuers[0].static_jwks_file: " + dir.path() +
                "/jwks/cluster.json: no such file");
}

TEST(ParseIssuerConfigTest, StaticJwksFileMustNotBeEmpty) {
  ScratchDir dir;
  dir.Write("empty.json", "  \n");
  const std::string yaml = std::string(kIssuerHead) + "    static_jwks_file: empty.json\n";
  absl::StatusOr<IssuerConfig> c = ParseIssuerConfig(yaml, dir.path() + "/writ.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("empty.json: is empty"));
}

TEST(LoadIssuerConfigTest, MissingFileIsNotFound) {
  absl::StatusOr<IssuerConfig> c = LoadIssuerConfig("/nonexistent/writ.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent/writ.yaml"));
}

TEST(LoadIssuerConfigTest, DirectoryIsRefused) {
  ScratchDir dir;
  EXPECT_EQ(LoadIssuerConfig(dir.path()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LoadIssuerConfigTest, OversizedFileIsRefused) {
  ScratchDir dir;
  const std::string path = dir.Write("big.yaml", "# " + std::string(2 << 20, 'x') + "\n");
  absl::StatusOr<IssuerConfig> c = LoadIssuerConfig(path);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("larger than the limit"));
}

TEST(ParseIssuerConfigTest, SyntaxErrorReportsItsLine) {
  std::vector<std::string> errors = Errors("tokens:\n  max_lifetime: 1h\n  bad: [1, 2\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("writ.yaml:4:1: invalid YAML: "));
  errors = Errors("http:\n  port: 1\n port: 2\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("writ.yaml:3:"));
}

TEST(ParseIssuerConfigTest, SeveralDocumentsAreRefused) {
  EXPECT_THAT(Errors("data_dir: a\n---\ndata_dir: b\n"),
              ElementsAre("writ.yaml:2:1: unexpected content after the first YAML "
                          "document (a second --- document, or a stray \",\")"));
  EXPECT_EQ(Errors("data_dir: a\n,\n").size(), 1u);
  EXPECT_EQ(Errors(",").size(), 1u);
}

TEST(ParseIssuerConfigTest, TopLevelMustBeAMapping) {
  EXPECT_THAT(Errors("- a\n- b\n"), ElementsAre("writ.yaml:1:1: expected a mapping, got a list"));
  EXPECT_THAT(Errors("just words\n"),
              ElementsAre("writ.yaml:1:1: expected a mapping, got a scalar"));
}

TEST(ParseIssuerConfigTest, UnknownKeysAreErrors) {
  EXPECT_THAT(Errors("isuer_url: https://x.example\n"),
              ElementsAre("writ.yaml:1:1: isuer_url: unknown key (expected one of: issuer_url, "
                          "http, grpc, data_dir, policy_dir, tokens, limits, trusted_issuers, "
                          "keys, x509, ssh, ledger)"));
  EXPECT_THAT(Errors("tokens:\n  max_lifetme: 1h\n"),
              ElementsAre("writ.yaml:2:3: tokens.max_lifetme: unknown key (expected one of: "
                          "default_lifetime, max_lifetime, max_delegation_depth)"));
  std::vector<std::string> nested = Errors(std::string(kIssuerHead) + "    audience: [x]\n");
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_THAT(nested[0],
              ::testing::StartsWith("writ.yaml:5:5: trusted_issuers[0].audience: unknown key"));
}

TEST(ParseIssuerConfigTest, DuplicateKeysAreErrors) {
  EXPECT_THAT(Errors("data_dir: a\ndata_dir: b\n"),
              ElementsAre("writ.yaml:2:1: data_dir: duplicate key"));
}

TEST(ParseIssuerConfigTest, WrongTypesAreErrors) {
  EXPECT_THAT(Errors("http:\n  port: eighty\n"),
              ElementsAre("writ.yaml:2:9: http.port: expected an integer, got \"eighty\""));
  EXPECT_THAT(Errors("http:\n  port: \"8080\"\n"),
              ElementsAre("writ.yaml:2:9: http.port: expected an integer, got a scalar"));
  EXPECT_THAT(Errors("http:\n  port: [1]\n"),
              ElementsAre("writ.yaml:2:9: http.port: expected an integer, got a list"));
  EXPECT_THAT(Errors("grpc:\n  enabled: yes\n"),
              ElementsAre("writ.yaml:2:12: grpc.enabled: expected true or false, got \"yes\""));
  EXPECT_THAT(Errors("data_dir: {a: b}\n"),
              ElementsAre("writ.yaml:1:11: data_dir: expected a string, got a mapping"));
  EXPECT_THAT(Errors("data_dir:\n"), ElementsAre("writ.yaml:1:1: data_dir: has no value"));
  EXPECT_THAT(Errors("trusted_issuers:\n  - name: a\n    issuer:\n    audiences: [w]\n"),
              ElementsAre("writ.yaml:3:5: trusted_issuers[0].issuer: has no value"));
  EXPECT_THAT(Errors("data_dir: ~\n"), ElementsAre("writ.yaml:1:1: data_dir: has no value"));
  EXPECT_THAT(Errors("http:\n  port: 1\n  host: [a]\n"),
              ElementsAre("writ.yaml:3:9: http.host: expected a string, got a list"));
  EXPECT_THAT(Errors("policy_dir: ''\n"),
              ElementsAre("writ.yaml:1:13: policy_dir: must not be empty"));
  EXPECT_THAT(Errors("tokens: 5m\n"),
              ElementsAre("writ.yaml:1:9: tokens: expected a mapping, got a scalar"));
  EXPECT_THAT(Errors("trusted_issuers: {name: x}\n"),
              ElementsAre("writ.yaml:1:18: trusted_issuers: expected a list of trusted issuers"));
  EXPECT_THAT(Errors("limits: {max_body_bytes: 1.5}\n"),
              ElementsAre("writ.yaml:1:26: limits.max_body_bytes: expected an integer, got "
                          "\"1.5\""));
}

TEST(ParseIssuerConfigTest, PortsMustBeInRange) {
  EXPECT_THAT(Errors("http:\n  port: 65536\n"),
              ElementsAre("writ.yaml:2:9: http.port: must be between 0 and 65535, got 65536"));
  EXPECT_THAT(Errors("grpc: {port: -1}\n"),
              ElementsAre("writ.yaml:1:14: grpc.port: must be between 0 and 65535, got -1"));
  EXPECT_EQ(MustParse("grpc: {port: 0}\n").grpc.port, 0);
  EXPECT_EQ(MustParse("grpc: {port: 65535}\n").grpc.port, 65535);
}

TEST(ParseIssuerConfigTest, TlsNeedsCertAndKey) {
  EXPECT_THAT(Errors("http:\n  tls_cert_file: /etc/writ/tls.crt\n"),
              ElementsAre("writ.yaml:2:18: http.tls_key_file: is required when tls_cert_file "
                          "is set"));
  EXPECT_THAT(Errors("grpc:\n  tls_key_file: /etc/writ/tls.key\n"),
              ElementsAre("writ.yaml:2:17: grpc.tls_cert_file: is required when tls_key_file "
                          "is set"));
}

TEST(ParseIssuerConfigTest, PlainListenersOnlyOnLoopback) {
  EXPECT_THAT(
      Errors("issuer_url: https://writ.example\nhttp:\n  host: 0.0.0.0\n"),
      ElementsAre("writ.yaml:3:9: http.host: \"0.0.0.0\" is not a loopback address: without "
                  "tls_cert_file and tls_key_file a listener may only bind 127.0.0.1, ::1 or "
                  "localhost"));
  std::vector<std::string> grpc = Errors("grpc: {host: 10.1.2.3}\n");
  ASSERT_EQ(grpc.size(), 1u);
  EXPECT_THAT(grpc[0], ::testing::StartsWith("writ.yaml:1:14: grpc.host: \"10.1.2.3\" is not a "
                                             "loopback address"));
  for (const char* host :
       {"127.0.0.1", "127.9.8.7", "localhost", "LOCALHOST", "'::1'", "'[::1]'"}) {
    MustParse(std::string("grpc: {host: ") + host + "}\n");
  }
  // With TLS, or disabled, any host is fine.
  MustParse("grpc: {host: 0.0.0.0, tls_cert_file: /c, tls_key_file: /k}\n");
  MustParse("grpc: {host: 0.0.0.0, enabled: false}\n");
}

TEST(ParseIssuerConfigTest, IssuerUrlMustBeHttpsUnlessLoopback) {
  EXPECT_THAT(Errors("issuer_url: http://writ.example\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"http://writ.example\" must use https "
                          "(plain http is allowed only for loopback hosts)"));
  EXPECT_THAT(Errors("issuer_url: ftp://writ.example\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"ftp://writ.example\" must be an "
                          "https:// URL, got scheme \"ftp\""));
  EXPECT_THAT(Errors("issuer_url: writ.example\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"writ.example\" must be an absolute "
                          "https:// URL"));
  EXPECT_THAT(Errors("issuer_url: https://writ.example/\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"https://writ.example/\" must not end "
                          "with \"/\" (it is the exact \"iss\" of Writ's tokens)"));
  EXPECT_THAT(Errors("issuer_url: https://writ.example?a=b\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"https://writ.example?a=b\" must not "
                          "have a ?query"));
  EXPECT_THAT(Errors("issuer_url: https://user@writ.example\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"https://user@writ.example\" must not "
                          "contain user info (@)"));
  EXPECT_THAT(Errors("issuer_url: https://writ.example:99999\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"https://writ.example:99999\" has an "
                          "invalid port \"99999\""));
  EXPECT_EQ(MustParse("issuer_url: http://localhost:8080\n").issuer_url, "http://localhost:8080");
  EXPECT_EQ(MustParse("issuer_url: 'http://[::1]:8080'\n").issuer_url, "http://[::1]:8080");
}

TEST(ParseIssuerConfigTest, TrustedIssuerNameRules) {
  EXPECT_THAT(Errors("trusted_issuers:\n  - name: ''\n    issuer: https://a.example\n"
                     "    audiences: [w]\n"),
              ElementsAre("writ.yaml:2:11: trusted_issuers[0].name: \"\" is not a valid name: "
                          "use one or more of a-z, 0-9, _ and -"));
  EXPECT_THAT(Errors("trusted_issuers:\n  - name: GitHub\n    issuer: https://a.example\n"
                     "    audiences: [w]\n"),
              ElementsAre("writ.yaml:2:11: trusted_issuers[0].name: \"GitHub\" is not a valid "
                          "name: use one or more of a-z, 0-9, _ and -"));
  EXPECT_THAT(Errors(std::string(kIssuerHead) +
                     "  - name: ci\n    issuer: https://other.example\n    audiences: [w]\n"),
              ElementsAre("writ.yaml:5:11: trusted_issuers[1].name: duplicate name \"ci\" (also "
                          "trusted_issuers[0])"));
  EXPECT_THAT(Errors(std::string(kIssuerHead) +
                     "  - name: ci2\n    issuer: https://ci.example\n    audiences: [w]\n"),
              ElementsAre("writ.yaml:6:13: trusted_issuers[1].issuer: duplicate issuer "
                          "\"https://ci.example\" (also trusted_issuers[0]): merge the entries' "
                          "audiences instead"));
}

TEST(ParseIssuerConfigTest, TrustedIssuerRequiredFields) {
  EXPECT_THAT(Errors("trusted_issuers:\n  - one_time_jti: true\n"),
              ElementsAre("writ.yaml:2:5: trusted_issuers[0].name: is required",
                          "writ.yaml:2:5: trusted_issuers[0].issuer: is required",
                          "writ.yaml:2:5: trusted_issuers[0].audiences: is required"));
  EXPECT_THAT(Errors("trusted_issuers:\n  - github\n"),
              ElementsAre("writ.yaml:2:5: trusted_issuers[0]: expected a mapping with at least "
                          "name, issuer and audiences"));
  EXPECT_THAT(Errors("trusted_issuers: []\n"),
              ElementsAre("writ.yaml:1:18: trusted_issuers: must list at least one issuer (omit "
                          "the key to keep the defaults)"));
}

TEST(ParseIssuerConfigTest, TrustedIssuerUrlsMustBeHttpsUnlessLoopback) {
  EXPECT_THAT(Errors("trusted_issuers:\n  - name: a\n    issuer: http://a.example\n"
                     "    audiences: [w]\n"),
              ElementsAre("writ.yaml:3:13: trusted_issuers[0].issuer: \"http://a.example\" must "
                          "use https (plain http is allowed only for loopback hosts)"));
  EXPECT_THAT(Errors(std::string(kIssuerHead) + "    jwks_uri: http://ci.example/jwks\n"),
              ElementsAre("writ.yaml:5:15: trusted_issuers[0].jwks_uri: "
                          "\"http://ci.example/jwks\" must use https (plain http is allowed only "
                          "for loopback hosts)"));
  MustParse(
      "trusted_issuers:\n  - {name: a, issuer: 'http://127.0.0.1:9000', audiences: [w], "
      "jwks_uri: 'http://localhost:9000/jwks'}\n");
}

TEST(ParseIssuerConfigTest, TrustedIssuerAudiencesMustNotBeEmpty) {
  EXPECT_THAT(Errors("trusted_issuers:\n  - name: a\n    issuer: https://a.example\n"
                     "    audiences: []\n"),
              ElementsAre("writ.yaml:4:16: trusted_issuers[0].audiences: must not be empty"));
  EXPECT_THAT(Errors("trusted_issuers:\n  - name: a\n    issuer: https://a.example\n"
                     "    audiences: [w, '']\n"),
              ElementsAre("writ.yaml:4:20: trusted_issuers[0].audiences[1]: must not be an "
                          "empty string"));
  EXPECT_THAT(Errors("trusted_issuers:\n  - name: a\n    issuer: https://a.example\n"
                     "    audiences: w\n"),
              ElementsAre("writ.yaml:4:16: trusted_issuers[0].audiences: expected a list of "
                          "strings, got a scalar"));
}

TEST(ParseIssuerConfigTest, TrustedIssuerAlgorithmsMustBeKnownAndNotNone) {
  std::vector<std::string> none = Errors(std::string(kIssuerHead) + "    algorithms: [none]\n");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_THAT(none[0], ::testing::StartsWith("writ.yaml:5:18: trusted_issuers[0].algorithms[0]: "));
  EXPECT_THAT(none[0], HasSubstr("none"));
  std::vector<std::string> bad =
      Errors(std::string(kIssuerHead) + "    algorithms: [RS256, HS256, rs256]\n");
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_THAT(bad[0], ::testing::StartsWith("writ.yaml:5:25: trusted_issuers[0].algorithms[1]: "));
  EXPECT_THAT(bad[1], ::testing::StartsWith("writ.yaml:5:32: trusted_issuers[0].algorithms[2]: "));
  EXPECT_THAT(Errors(std::string(kIssuerHead) + "    algorithms: []\n"),
              ElementsAre("writ.yaml:5:17: trusted_issuers[0].algorithms: must not be empty"));
}

TEST(ParseIssuerConfigTest, TrustedIssuerDurationAndSizeBounds) {
  auto one = [](const std::string& line) { return Errors(std::string(kIssuerHead) + line); };
  EXPECT_THAT(one("    leeway: 61s\n"),
              ElementsAre("writ.yaml:5:13: trusted_issuers[0].leeway: must be between 0s and "
                          "1m, got 1m1s"));
  EXPECT_EQ(MustParse(std::string(kIssuerHead) + "    leeway: 60s\n").trusted_issuers[0].leeway,
            absl::Seconds(60));
  EXPECT_EQ(MustParse(std::string(kIssuerHead) + "    leeway: 0s\n").trusted_issuers[0].leeway,
            absl::ZeroDuration());
  for (const char* key : {"jwks_ttl", "refresh_cooldown", "connect_timeout", "fetch_timeout"}) {
    EXPECT_THAT(one(std::string("    ") + key + ": 0s\n"),
                ElementsAre(::testing::EndsWith(std::string(key) + ": must be positive, got 0s")));
  }
  EXPECT_THAT(one("    stale_keys_max: -1s\n"),
              ElementsAre("writ.yaml:5:21: trusted_issuers[0].stale_keys_max: must not be "
                          "negative"));
  for (const char* key : {"max_token_bytes", "max_response_bytes"}) {
    EXPECT_THAT(one(std::string("    ") + key + ": 0\n"),
                ElementsAre(::testing::EndsWith(std::string(key) +
                                                ": must be between 1 and 1073741824, got 0")));
  }
  EXPECT_THAT(one("    one_time_jti: 1\n"),
              ElementsAre("writ.yaml:5:19: trusted_issuers[0].one_time_jti: expected true or "
                          "false, got \"1\""));
}

TEST(ParseIssuerConfigTest, TrustedIssuerTakesOneKeySource) {
  ScratchDir dir;
  dir.Write("k.json", "{}");
  absl::StatusOr<IssuerConfig> c = ParseIssuerConfig(std::string(kIssuerHead) +
                                                         "    jwks_uri: https://ci.example/jwks\n"
                                                         "    static_jwks_file: k.json\n",
                                                     dir.path() + "/w.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), dir.path() +
                                      "/w.yaml:6:5: trusted_issuers[0].static_jwks_file: "
                                      "set either jwks_uri or static_jwks_file, not both");
}

TEST(ParseIssuerConfigTest, TokenLifetimeRules) {
  EXPECT_THAT(Errors("tokens:\n  default_lifetime: 0s\n"),
              ElementsAre("writ.yaml:2:21: tokens.default_lifetime: must be positive, got 0s"));
  EXPECT_THAT(Errors("tokens:\n  default_lifetime: 2h\n"),
              ElementsAre("writ.yaml:2:21: tokens.default_lifetime: must not exceed "
                          "max_lifetime (2h > 1h)"));
  EXPECT_THAT(Errors("tokens:\n  max_lifetime: 1m\n"),
              ElementsAre("writ.yaml:2:17: tokens.default_lifetime: must not exceed "
                          "max_lifetime (5m > 1m)"));
  EXPECT_EQ(MustParse("tokens: {default_lifetime: 1h}\n").tokens.default_lifetime, absl::Hours(1));
  EXPECT_THAT(Errors("tokens: {max_delegation_depth: 17}\n"),
              ElementsAre("writ.yaml:1:32: tokens.max_delegation_depth: must be between 0 and "
                          "16, got 17"));
  EXPECT_THAT(Errors("tokens: {max_delegation_depth: -1}\n"),
              ElementsAre("writ.yaml:1:32: tokens.max_delegation_depth: must be between 0 and "
                          "16, got -1"));
  EXPECT_EQ(MustParse("tokens: {max_delegation_depth: 0}\n").tokens.max_delegation_depth, 0);
}

TEST(ParseIssuerConfigTest, LimitRules) {
  EXPECT_THAT(Errors("limits: {max_body_bytes: 0}\n"),
              ElementsAre("writ.yaml:1:26: limits.max_body_bytes: must be between 1 and "
                          "1073741824, got 0"));
  EXPECT_THAT(Errors("limits: {max_grpc_message_bytes: -5}\n"),
              ElementsAre("writ.yaml:1:34: limits.max_grpc_message_bytes: must be between 1 "
                          "and 1073741824, got -5"));
  EXPECT_THAT(Errors("limits: {max_http_connections: 0}\n"),
              ElementsAre("writ.yaml:1:32: limits.max_http_connections: must be between 1 and "
                          "1000000, got 0"));
  EXPECT_THAT(Errors("limits: {http_threads: 1025}\n"),
              ElementsAre("writ.yaml:1:24: limits.http_threads: must be between 0 and 1024, got "
                          "1025"));
  EXPECT_THAT(Errors("limits: {http_io_threads: 65}\n"),
              ElementsAre("writ.yaml:1:27: limits.http_io_threads: must be between 0 and 64, got "
                          "65"));
}

TEST(ParseIssuerConfigTest, LedgerRules) {
  const IssuerConfig defaults = MustParse("data_dir: d\n");
  EXPECT_EQ(defaults.ledger.commit_delay, absl::Microseconds(300));
  EXPECT_EQ(defaults.ledger.commit_group, 8u);
  EXPECT_EQ(defaults.ledger.background_write_bytes_per_sec, 160 << 20);
  const IssuerConfig off =
      MustParse("ledger: {commit_delay: 0, background_write_bytes_per_sec: 0}\n");
  EXPECT_EQ(off.ledger.commit_delay, absl::ZeroDuration());
  EXPECT_EQ(off.ledger.background_write_bytes_per_sec, 0);
  EXPECT_THAT(Errors("ledger: {commit_delay: 1s}\n"),
              ElementsAre(HasSubstr("ledger.commit_delay: must be between 0")));
  EXPECT_THAT(Errors("ledger: {commit_delay: -1ms}\n"),
              ElementsAre(HasSubstr("ledger.commit_delay: must not be negative")));
  EXPECT_THAT(
      Errors("ledger: {commit_group: 0}\n"),
      ElementsAre("writ.yaml:1:24: ledger.commit_group: must be between 1 and 4096, got 0"));
  EXPECT_THAT(Errors("ledger: {background_write_bytes_per_sec: 33554431}\n"),
              ElementsAre("writ.yaml:1:42: ledger.background_write_bytes_per_sec: must be 0 (no "
                          "limit) or at least 33554432 (32 MiB/s; the limiter may go down to "
                          "1/20 of it)"));
  EXPECT_EQ(MustParse("ledger: {background_write_bytes_per_sec: 33554432}\n")
                .ledger.background_write_bytes_per_sec,
            32 << 20);
  EXPECT_THAT(Errors("ledger: {commit_dealy: 1ms}\n"),
              ElementsAre(HasSubstr("ledger.commit_dealy")));
}

TEST(ParseIssuerConfigTest, ReportsEveryErrorNotJustTheFirst) {
  EXPECT_THAT(Errors("issuer_url: http://writ.example\n"
                     "http:\n"
                     "  port: 70000\n"
                     "tokens:\n"
                     "  max_delegation_depth: 99\n"
                     "trusted_issuers:\n"
                     "  - name: Bad Name\n"
                     "    issuer: https://a.example\n"
                     "    audiences: []\n"
                     "    colour: blue\n"),
              ElementsAre("writ.yaml:1:13: issuer_url: \"http://writ.example\" must use https "
                          "(plain http is allowed only for loopback hosts)",
                          "writ.yaml:3:9: http.port: must be between 0 and 65535, got 70000",
                          "writ.yaml:5:25: tokens.max_delegation_depth: must be between 0 and 16, "
                          "got 99",
                          "writ.yaml:7:11: trusted_issuers[0].name: \"Bad Name\" is not a valid "
                          "name: use one or more of a-z, 0-9, _ and -",
                          "writ.yaml:9:16: trusted_issuers[0].audiences: must not be empty",
                          ::testing::StartsWith("writ.yaml:10:5: trusted_issuers[0].colour: "
                                                "unknown key")));
}

TEST(ConfigDurationTest, ParsesGoStyleDurations) {
  struct Case {
    const char* text;
    absl::Duration want;
  } cases[] = {
      {"0", absl::ZeroDuration()},        {"0s", absl::ZeroDuration()},
      {"500ms", absl::Milliseconds(500)}, {"30s", absl::Seconds(30)},
      {"5m", absl::Minutes(5)},           {"1h", absl::Hours(1)},
      {"1h30m", absl::Minutes(90)},       {"1h0m0s", absl::Hours(1)},
      {"1.5h", absl::Minutes(90)},        {".5s", absl::Milliseconds(500)},
      {"2.s", absl::Seconds(2)},          {"10us", absl::Microseconds(10)},
      {"7ns", absl::Nanoseconds(7)},      {"1m1s1ms", absl::Seconds(61) + absl::Milliseconds(1)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::Duration> d = ParseConfigDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status();
    EXPECT_EQ(*d, c.want) << c.text;
    EXPECT_EQ(ParseConfigDuration(FormatConfigDuration(*d)).value(), *d) << c.text;
  }
}

TEST(ConfigDurationTest, RefusesMalformedDurations) {
  for (const char* text :
       {"", "5", "s", "5d", "5 s", " 5s", "5s ", "1h-30m", "-1s", "+1s", "inf", "1e3s", "1..5s",
        "5S", "ms", "99999999999999999999h", "9223372036854775807h", "1000000h"}) {
    absl::StatusOr<absl::Duration> d = ParseConfigDuration(text);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << "\"" << text << "\"";
  }
  EXPECT_EQ(ParseConfigDuration("-1s").status().message(), "must not be negative");
  EXPECT_THAT(ParseConfigDuration("5d").status().message(), HasSubstr("unknown unit \"d\""));
  EXPECT_THAT(ParseConfigDuration("5").status().message(), HasSubstr("missing unit"));
}

TEST(ConfigDurationTest, DurationFieldReportsBadUnitWithPosition) {
  EXPECT_THAT(Errors("tokens:\n  max_lifetime: 1d\n"),
              ElementsAre("writ.yaml:2:17: tokens.max_lifetime: invalid duration \"1d\": unknown "
                          "unit \"d\" (use ns, us, ms, s, m or h)"));
}

}  // namespace
}  // namespace writ::issuer

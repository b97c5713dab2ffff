// Every example under deploy/ must load, and its policies must refer only to
// issuers its writ.yaml trusts and self-test each kind of decision.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/config/config_loader.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer {
namespace {

namespace fs = std::filesystem;

fs::path DeployDir() { return fs::path(WRIT_TESTDATA_DIR) / ".." / ".." / "deploy"; }

std::vector<fs::path> PlatformDirs() {
  std::vector<fs::path> dirs;
  for (const fs::directory_entry& entry : fs::directory_iterator(DeployDir())) {
    if (fs::exists(entry.path() / "writ.yaml")) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

TEST(DeployConfigsTest, EveryPlatformIsPresent) {
  std::set<std::string> names;
  for (const fs::path& dir : PlatformDirs()) names.insert(dir.filename().string());
  EXPECT_THAT(names,
              ::testing::IsSupersetOf({"github-actions", "gitlab-ci", "kubernetes", "entra-id"}));
}

TEST(DeployConfigsTest, EveryWritYamlLoads) {
  for (const fs::path& dir : PlatformDirs()) {
    absl::StatusOr<IssuerConfig> config = LoadIssuerConfig((dir / "writ.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    // Production-shaped: TLS on every enabled listener, an https issuer.
    EXPECT_THAT(config->issuer_url, ::testing::StartsWith("https://")) << dir;
    EXPECT_FALSE(config->http.tls_cert_file.empty()) << dir;
    EXPECT_FALSE(config->trusted_issuers.empty()) << dir;
  }
}

// PolicyIssuers collects every issuer name a policy file refers to.
void CollectIssuers(const YAML::Node& policy, std::set<std::string>* out) {
  for (const YAML::Node& rule : policy["rules"]) {
    out->insert(rule["issuer"].as<std::string>());
    if (rule["delegation"] && rule["delegation"]["actors"]) {
      for (const YAML::Node& actor : rule["delegation"]["actors"]) {
        out->insert(actor["issuer"].as<std::string>());
      }
    }
  }
  for (const YAML::Node& test : policy["tests"]) {
    out->insert(test["identity"]["issuer"].as<std::string>());
  }
}

TEST(DeployConfigsTest, PoliciesUseTheTrustedIssuerNamesAndTestEveryDecision) {
  std::map<std::string, fs::path> rule_owner;
  for (const fs::path& dir : PlatformDirs()) {
    absl::StatusOr<IssuerConfig> config = LoadIssuerConfig((dir / "writ.yaml").string());
    ASSERT_TRUE(config.ok()) << config.status();
    std::set<std::string> trusted;
    for (const TrustedIssuerConfig& t : config->trusted_issuers) trusted.insert(t.name);

    int files = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir / "policies")) {
      if (entry.path().extension() != ".yaml") continue;
      ++files;
      SCOPED_TRACE(entry.path().string());
      YAML::Node policy = YAML::LoadFile(entry.path().string());
      ASSERT_TRUE(policy["rules"].IsSequence());
      ASSERT_TRUE(policy["tests"].IsSequence());

      std::set<std::string> used;
      CollectIssuers(policy, &used);
      for (const std::string& name : used) {
        EXPECT_TRUE(trusted.count(name)) << "issuer \"" << name << "\" is not in writ.yaml";
      }
      for (const YAML::Node& rule : policy["rules"]) {
        const std::string name = rule["name"].as<std::string>();
        auto [it, fresh] = rule_owner.emplace(name, entry.path());
        EXPECT_TRUE(fresh) << "rule " << name << " also in " << it->second;
        EXPECT_TRUE(rule["grant"]["audiences"].IsSequence() &&
                    rule["grant"]["audiences"].size() > 0)
            << name;
      }
      std::set<std::string> outcomes;
      for (const YAML::Node& test : policy["tests"]) {
        const YAML::Node expect = test["expect"];
        outcomes.insert(expect["decision"].as<std::string>() == "allow"
                            ? "allow"
                            : expect["error"].as<std::string>());
      }
      EXPECT_THAT(outcomes, ::testing::IsSupersetOf(
                                {"allow", "access_denied", "invalid_target", "invalid_scope"}));
    }
    EXPECT_GE(files, 1) << dir;
  }
}

}  // namespace
}  // namespace writ::issuer

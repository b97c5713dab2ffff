// writ token against a loopback stand-in for the GitHub runner's OIDC
// endpoint and Writ's token endpoint (real HTTP through the SDK's Client).
#include <httplib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/cli/commands.h"

namespace writ::cli {
namespace {

class TokenCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/gh-oidc", [this](const httplib::Request& req, httplib::Response& res) {
      gh_auth_ = req.get_header_value("Authorization");
      gh_audience_ = req.get_param_value("audience");
      res.set_content(R"({"value":"github-oidc-token"})", "application/json");
    });
    server_.Post("/oauth2/token", [this](const httplib::Request& req, httplib::Response& res) {
      form_.clear();
      for (const auto& [k, v] : req.params) form_[k] = v;
      if (form_["subject_token"] == "bad") {
        res.status = 400;
        res.set_content(
            R"({"error":"invalid_scope","error_description":"scope \"admin\" is not allowed"})",
            "application/json");
        return;
      }
      if (form_["subject_token"] == "outage") {
        res.status = 503;
        res.set_content(R"({"error":"temporarily_unavailable","error_description":"ledger"})",
                        "application/json");
        return;
      }
      res.set_content(
          R"({"access_token":"writ-token","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":300,"scope":"deploy:write"})",
          "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost (httplib 0.11).
    while (!server_.is_running()) std::this_thread::yield();
    issuer_ = absl::StrCat("http://127.0.0.1:", port_);
  }
  void TearDown() override {
    server_.stop();
    thread_.join();
  }

  int Run(std::vector<std::string> args) {
    std::istringstream in(stdin_);
    out_.str("");
    err_.str("");
    CommandEnv env{&in, &out_, &err_};
    env.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars_.find(name);
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
    args.insert(args.begin(), "token");
    return RunWrit(args, env);
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string issuer_;
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::string> form_;
  std::string gh_auth_, gh_audience_;
  std::string stdin_;
  std::ostringstream out_, err_;
};

TEST_F(TokenCommandTest, GitHubActionsVariablesAreUsedAutomatically) {
  vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = issuer_ + "/gh-oidc?api-version=2.0";
  vars_["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runner-secret";
  ASSERT_EQ(Run({"--issuer", issuer_, "--audience", "https://deploy.acme.example", "--scope",
                 "deploy:write", "--scope", "deploy:read", "--lifetime", "10m"}),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), "writ-token\n");
  EXPECT_EQ(gh_auth_, "bearer runner-secret");
  EXPECT_EQ(gh_audience_, issuer_);
  EXPECT_EQ(form_["grant_type"], "urn:ietf:params:oauth:grant-type:token-exchange");
  EXPECT_EQ(form_["subject_token"], "github-oidc-token");
  EXPECT_EQ(form_["subject_token_type"], "urn:ietf:params:oauth:token-type:jwt");
  EXPECT_EQ(form_["audience"], "https://deploy.acme.example");
  EXPECT_EQ(form_["scope"], "deploy:write deploy:read");
  EXPECT_EQ(form_["requested_lifetime"], "600");
}

TEST_F(TokenCommandTest, GitHubOidcAudienceCanBeChosen) {
  vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = issuer_ + "/gh-oidc?api-version=2.0";
  vars_["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runner-secret";
  ASSERT_EQ(Run({"--issuer", issuer_, "--github-actions", "--oidc-audience", "writ prod"}), 0);
  EXPECT_EQ(gh_audience_, "writ prod");
}

TEST_F(TokenCommandTest, GitHubActionsWithoutIdTokenPermissionSaysWhatToAdd) {
  EXPECT_EQ(Run({"--issuer", issuer_, "--github-actions"}), 1);
  EXPECT_NE(err_.str().find("id-token: write"), std::string::npos);
}

TEST_F(TokenCommandTest, TokenFromEnvironmentVariableAndEnvFormat) {
  vars_["CI_JOB_JWT_V2"] = "gitlab-token\n";
  ASSERT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "CI_JOB_JWT_V2", "--format", "env"}), 0)
      << err_.str();
  EXPECT_EQ(form_["subject_token"], "gitlab-token");
  EXPECT_EQ(out_.str(),
            "WRIT_TOKEN=writ-token\nWRIT_TOKEN_EXPIRES_IN=300\nWRIT_TOKEN_SCOPE=deploy:write\n");
}

TEST_F(TokenCommandTest, TokenFromFileWrittenToPrivateOutputFile) {
  std::string dir = ::testing::TempDir();
  std::string in = dir + "/oidc.jwt", out = dir + "/writ.jwt";
  std::ofstream(in) << "file-token\n";
  std::ofstream(out) << "old token";
  ASSERT_EQ(Run({"--issuer", issuer_, "--oidc-token-file", in, "--out", out}), 0) << err_.str();
  EXPECT_EQ(form_["subject_token"], "file-token");
  std::ifstream f(out);
  std::string got((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "writ-token\n");
  struct stat st {};
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(out_.str().empty());
  std::remove(in.c_str());
  std::remove(out.c_str());
}

TEST_F(TokenCommandTest, RefusalPrintsTheIssuersReasonAndExitsThree) {
  vars_["T"] = "bad";
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T"}), kExitRefused);
  EXPECT_EQ(err_.str(),
            "writ: the issuer refused: invalid_scope: scope \"admin\" is not allowed\n");
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(TokenCommandTest, OutageIsReported) {
  vars_["T"] = "outage";
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T"}), kExitUnavailable);
  EXPECT_NE(err_.str().find("temporarily_unavailable"), std::string::npos);
}

TEST_F(TokenCommandTest, JsonFormatIsATokenResponse) {
  vars_["T"] = "x";
  ASSERT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T", "--format", "json"}), 0)
      << err_.str();
  EXPECT_EQ(out_.str(),
            "{\"access_token\":\"writ-token\",\"issued_token_type\":\"urn:ietf:params:oauth:"
            "token-type:access_token\",\"token_type\":\"Bearer\",\"expires_in\":300,\"scope\":"
            "\"deploy:write\"}\n");
}

TEST_F(TokenCommandTest, TokenFromStandardInputAndActorFromFile) {
  std::string actor = ::testing::TempDir() + "/actor.jwt";
  std::ofstream(actor) << "actor-token\n";
  stdin_ = "stdin-token\n";
  ASSERT_EQ(Run({"--issuer", issuer_, "--oidc-token-file", "-", "--actor-token-file", actor}), 0)
      << err_.str();
  EXPECT_EQ(form_["subject_token"], "stdin-token");
  EXPECT_EQ(form_["actor_token"], "actor-token");
  EXPECT_EQ(form_["actor_token_type"], "urn:ietf:params:oauth:token-type:jwt");
  std::remove(actor.c_str());
}

TEST_F(TokenCommandTest, MissingTokenFileIsAnError) {
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-file", ::testing::TempDir() + "/nope.jwt"}), 1);
  EXPECT_NE(err_.str().find("nope.jwt"), std::string::npos) << err_.str();
  EXPECT_TRUE(form_.empty());
}

TEST_F(TokenCommandTest, UsageErrors) {
  vars_["T"] = "x";
  EXPECT_EQ(Run({"--issuer", issuer_}), 2);  // no token source
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T", "--github-actions"}), 2);
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T", "--lifetime", "soon"}), 2);
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T", "--lifetime", "500ms"}), 2);
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T", "--format", "xml"}), 2);
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T", "--azure-imds"}), 2);
  EXPECT_EQ(Run({"--issuer", issuer_, "--oidc-token-env", "T", "--azure-client-id", "id"}), 2);
  EXPECT_NE(err_.str().find("--azure-client-id goes with --azure-imds"), std::string::npos);
}

TEST_F(TokenCommandTest, RefusesPlainHttpToANonLoopbackIssuer) {
  vars_["T"] = "x";
  EXPECT_EQ(Run({"--issuer", "http://writ.example.com", "--oidc-token-env", "T"}), 1);
  EXPECT_NE(err_.str().find("https://"), std::string::npos);
  // A DNS name that starts like a loopback address is not one.
  EXPECT_EQ(Run({"--issuer", "http://127.evil.example", "--oidc-token-env", "T"}), 1);
  EXPECT_NE(err_.str().find("https://"), std::string::npos);
  vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = "http://127.0.0.1.evil.example/x?a=b";
  vars_["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runner-secret";
  EXPECT_EQ(Run({"--issuer", issuer_, "--github-actions"}), 1);
  EXPECT_NE(err_.str().find("ACTIONS_ID_TOKEN_REQUEST_URL must be an https://"), std::string::npos)
      << err_.str();
}

TEST_F(TokenCommandTest, UnreachableIssuerIsAClearError) {
  vars_["T"] = "x";
  EXPECT_EQ(Run({"--issuer", "http://127.0.0.1:1", "--oidc-token-env", "T"}), kExitUnavailable);
  EXPECT_NE(err_.str().find("cannot reach 127.0.0.1"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace writ::cli

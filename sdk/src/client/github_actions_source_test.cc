// NewGitHubActionsSource against a loopback stand-in for the runner's OIDC
// token endpoint, through the real CurlFetcher.
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/client/client_test_util.h"
#include "writ/client/attestation.h"

namespace writ {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_internal::IsError;

class GitHubActionsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      auth_ = req.get_header_value("Authorization");
      audience_ =
          req.has_param("audience") ? std::optional(req.get_param_value("audience")) : std::nullopt;
      api_version_ = req.get_param_value("api-version");
      target_ = req.target;
      res.status = status_;
      res.set_content(body_, "application/json");
    });
    server_.Start();
    vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = server_.Url("/token?api-version=2.0");
    vars_["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runner-secret";
  }

  std::shared_ptr<AttestationSource> Source() {
    SourceOptions options;
    options.getenv = [this](absl::string_view name) -> std::optional<std::string> {
      auto it = vars_.find(std::string(name));
      if (it == vars_.end()) return std::nullopt;
      return it->second;
    };
    return NewGitHubActionsSource(options);
  }

  testing_internal::StandInServer server_;
  std::map<std::string, std::string> vars_;
  int status_ = 200;
  std::string body_ = R"({"count":1,"value":"github-oidc-token"})";
  std::atomic<int> requests_{0};
  std::string auth_, api_version_, target_;
  std::optional<std::string> audience_;
};

TEST_F(GitHubActionsSourceTest, SendsBearerAndEscapedAudience) {
  const std::string audience = "https://writ.acme.example/a b&c=d?e";
  ASSERT_OK_AND_ASSIGN(std::string token, Source()->Token(audience));
  EXPECT_EQ(token, "github-oidc-token");
  EXPECT_EQ(auth_, "bearer runner-secret");
  EXPECT_EQ(audience_, audience);
  EXPECT_EQ(api_version_, "2.0");
  EXPECT_THAT(target_, HasSubstr("&audience=https%3A%2F%2Fwrit.acme.example%2Fa%20b%26c%3Dd%3Fe"));
}

TEST_F(GitHubActionsSourceTest, StartsTheQueryWhenTheUrlHasNone) {
  vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = server_.Url("/token");
  ASSERT_OK(Source()->Token("writ"));
  EXPECT_EQ(target_, "/token?audience=writ");
}

TEST_F(GitHubActionsSourceTest, EmptyAudienceIsLeftOut) {
  ASSERT_OK(Source()->Token(""));
  EXPECT_EQ(audience_, std::nullopt);
}

TEST_F(GitHubActionsSourceTest, MissingVariablesNameThePermission) {
  vars_.erase("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
  auto got = Source()->Token("writ");
  EXPECT_THAT(got, IsError(absl::StatusCode::kFailedPrecondition, "id-token: write"));
  EXPECT_THAT(got, IsError(absl::StatusCode::kFailedPrecondition,
                           "ACTIONS_ID_TOKEN_REQUEST_TOKEN is not set"));
  vars_.clear();
  EXPECT_THAT(
      Source()->Token("writ"),
      IsError(absl::StatusCode::kFailedPrecondition,
              "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set"));
  vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = "";
  vars_["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runner-secret";
  EXPECT_THAT(Source()->Token("writ"),
              IsError(absl::StatusCode::kFailedPrecondition, "ACTIONS_ID_TOKEN_REQUEST_URL is"));
  EXPECT_EQ(requests_, 0);
}

TEST_F(GitHubActionsSourceTest, ErrorStatusIsUnavailableWithoutTheRequestToken) {
  status_ = 403;
  body_ = R"({"message":"runner-secret is not valid"})";
  auto got = Source()->Token("writ");
  EXPECT_THAT(got, IsError(absl::StatusCode::kUnavailable, "answered HTTP 403"));
  EXPECT_THAT(std::string(got.status().message()), Not(HasSubstr("runner-secret")));
  status_ = 500;
  EXPECT_THAT(Source()->Token("writ"), IsError(absl::StatusCode::kUnavailable, "HTTP 500"));
}

TEST_F(GitHubActionsSourceTest, AnswerWithoutAValueIsRefused) {
  for (const char* body : {R"({"count":0})", R"({"value":""})", R"({"value":42})", "not json",
                           R"({"value":"a","value":"b"})", R"(["value"])"}) {
    SCOPED_TRACE(body);
    body_ = body;
    EXPECT_THAT(Source()->Token("writ"),
                IsError(absl::StatusCode::kInvalidArgument, "answered without a token"));
  }
  body_ = R"({"value":"two words"})";
  EXPECT_THAT(Source()->Token("writ"), IsError(absl::StatusCode::kInvalidArgument, "whitespace"));
}

TEST_F(GitHubActionsSourceTest, PlainHttpToANonLoopbackHostIsRefusedBeforeAnyRequest) {
  for (const char* url :
       {"http://pipelines.actions.example/token", "http://127.0.0.1.evil.example/x",
        "http://169.254.169.254/token", "ftp://127.0.0.1/x", "not a url"}) {
    SCOPED_TRACE(url);
    vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = url;
    EXPECT_THAT(Source()->Token("writ"),
                IsError(absl::StatusCode::kInvalidArgument,
                        "ACTIONS_ID_TOKEN_REQUEST_URL must be an https:// URL"));
  }
  EXPECT_EQ(requests_, 0);
}

TEST_F(GitHubActionsSourceTest, RequestTokenWithALineBreakIsRefused) {
  vars_["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "abc\r\nX-Injected: 1";
  auto got = Source()->Token("writ");
  EXPECT_THAT(got, IsError(absl::StatusCode::kInvalidArgument, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"));
  EXPECT_EQ(requests_, 0);
}

TEST_F(GitHubActionsSourceTest, UnreachableEndpointIsUnavailable) {
  vars_["ACTIONS_ID_TOKEN_REQUEST_URL"] = "http://127.0.0.1:1/token";
  EXPECT_THAT(Source()->Token("writ"),
              IsError(absl::StatusCode::kUnavailable, "GitHub's OIDC token endpoint: "));
}

TEST_F(GitHubActionsSourceTest, DescribesItself) {
  EXPECT_EQ(Source()->Describe(), "GitHub Actions");
}

}  // namespace
}  // namespace writ

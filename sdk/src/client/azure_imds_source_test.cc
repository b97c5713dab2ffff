// NewAzureImdsSource against a loopback stand-in that behaves as Azure
// documents IMDS's managed-identity endpoint: 400 without "Metadata: true",
// numbers as strings, error JSON, transient 404/410/429/5xx.
#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sdk/src/client/client_test_util.h"
#include "writ/client/attestation.h"
#include "writ/net/curl_fetcher.h"

namespace writ {
namespace {

using ::testing::HasSubstr;
using testing_internal::IsError;

constexpr char kPath[] = "/metadata/identity/oauth2/token";

class AzureImdsSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Get(kPath, [this](const httplib::Request& req, httplib::Response& res) {
      absl::MutexLock lock(&mu_);
      ++requests_;
      if (req.get_header_value("Metadata") != "true") {
        res.status = 400;
        res.set_content(
            R"({"error":"invalid_request","error_description":"Required metadata header not specified"})",
            "application/json");
        return;
      }
      api_version_ = req.get_param_value("api-version");
      resource_ = req.get_param_value("resource");
      client_id_ = req.has_param("client_id")
                       ? std::optional<std::string>(req.get_param_value("client_id"))
                       : std::nullopt;
      target_ = req.target;
      if (!failures_.empty()) {
        res.status = failures_.front();
        failures_.pop_front();
        res.set_content(R"({"error":"throttled","error_description":"try again"})",
                        "application/json");
        return;
      }
      if (!error_body_.empty()) {
        res.status = 400;
        res.set_content(error_body_, "application/json");
        return;
      }
      res.set_content(
          ok_body_.empty()
              ? absl::StrCat(
                    R"({"access_token":"azure-token","refresh_token":"","expires_in":"86399",)",
                    R"("expires_on":"1700086399","not_before":"1700000000","resource":")",
                    resource_, R"(","token_type":"Bearer"})")
              : ok_body_,
          "application/json");
    });
    server_.Start();
  }

  AzureImdsOptions Options() {
    AzureImdsOptions options;
    options.endpoint = server_.Url(kPath);
    options.retry_delay = absl::Milliseconds(1);
    return options;
  }

  int requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

  testing_internal::StandInServer server_;
  absl::Mutex mu_;
  int requests_ = 0;
  std::deque<int> failures_;
  std::string error_body_, ok_body_;
  std::string api_version_, resource_, target_;
  std::optional<std::string> client_id_;
};

TEST_F(AzureImdsSourceTest, TheStandInRefusesARequestWithoutMetadataHeader) {
  CurlFetcher fetcher;
  ASSERT_OK_AND_ASSIGN(HttpResponse reply,
                       fetcher.Get(server_.Url(absl::StrCat(kPath,
                                                            "?api-version=2018-02-01&"
                                                            "resource=writ")),
                                   {}));
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("Required metadata header"));
}

TEST_F(AzureImdsSourceTest, AsksForTheAudienceAsResourceWithMetadataHeader) {
  ASSERT_OK_AND_ASSIGN(std::string token,
                       NewAzureImdsSource(Options())->Token("api://writ prod/&x"));
  EXPECT_EQ(token, "azure-token");
  EXPECT_EQ(api_version_, "2018-02-01");
  EXPECT_EQ(resource_, "api://writ prod/&x");
  EXPECT_EQ(client_id_, std::nullopt);
  EXPECT_EQ(target_, absl::StrCat(kPath,
                                  "?api-version=2018-02-01&resource=api%3A%2F%2Fwrit%20prod"
                                  "%2F%26x"));
  EXPECT_EQ(requests(), 1);
}

TEST_F(AzureImdsSourceTest, ClientIdResourceAndApiVersionAreSent) {
  AzureImdsOptions options = Options();
  options.client_id = "6f1c3a2e-0000-4000-8000-000000000001";
  options.resource = "api://writ";
  options.api_version = "2019-08-01";
  auto source = NewAzureImdsSource(options);
  ASSERT_OK(source->Token("ignored-audience"));
  EXPECT_EQ(client_id_, "6f1c3a2e-0000-4000-8000-000000000001");
  EXPECT_EQ(resource_, "api://writ");
  EXPECT_EQ(api_version_, "2019-08-01");
  EXPECT_EQ(source->Describe(), "Azure managed identity 6f1c3a2e-0000-4000-8000-000000000001");
  EXPECT_EQ(NewAzureImdsSource(Options())->Describe(), "Azure managed identity");
}

TEST_F(AzureImdsSourceTest, ErrorJsonIsSurfacedAndAClientErrorIsNotRetried) {
  error_body_ = R"({"error":"invalid_request","error_description":"Identity not found"})";
  EXPECT_THAT(NewAzureImdsSource(Options())->Token("api://writ"),
              IsError(absl::StatusCode::kFailedPrecondition,
                      "Azure IMDS answered HTTP 400: invalid_request: Identity not found"));
  EXPECT_EQ(requests(), 1);
}

TEST_F(AzureImdsSourceTest, TransientAnswersAreRetried) {
  failures_ = {429, 500, 410};
  ASSERT_OK_AND_ASSIGN(std::string token, NewAzureImdsSource(Options())->Token("api://writ"));
  EXPECT_EQ(token, "azure-token");
  EXPECT_EQ(requests(), 4);
}

TEST_F(AzureImdsSourceTest, GivesUpAfterThreeRetries) {
  failures_ = {503, 404, 500, 429, 500};
  EXPECT_THAT(NewAzureImdsSource(Options())->Token("api://writ"),
              IsError(absl::StatusCode::kUnavailable,
                      "Azure IMDS answered HTTP 429: throttled: try again (4 attempts)"));
  EXPECT_EQ(requests(), 4);
}

TEST_F(AzureImdsSourceTest, RetriesStayWithinTheTimeout) {
  failures_ = {500, 500};
  AzureImdsOptions options = Options();
  options.timeout = absl::Milliseconds(500);
  options.retry_delay = absl::Seconds(5);
  EXPECT_THAT(NewAzureImdsSource(options)->Token("api://writ"),
              IsError(absl::StatusCode::kUnavailable, "(1 attempt)"));
  EXPECT_EQ(requests(), 1);
}

TEST_F(AzureImdsSourceTest, AnswerWithoutAccessTokenIsRefused) {
  for (const char* body : {R"({"expires_on":"1700086399"})", R"({"access_token":17})",
                           R"({"access_token":""})", "<html>"}) {
    SCOPED_TRACE(body);
    ok_body_ = body;
    EXPECT_THAT(NewAzureImdsSource(Options())->Token("api://writ"),
                IsError(absl::StatusCode::kInvalidArgument, "Azure IMDS answered without a token"));
  }
}

TEST_F(AzureImdsSourceTest, NeedsAResourceAndAnAllowedEndpoint) {
  EXPECT_THAT(NewAzureImdsSource(Options())->Token(""),
              IsError(absl::StatusCode::kInvalidArgument, "needs a resource"));
  AzureImdsOptions options = Options();
  for (const char* endpoint : {"http://10.0.0.1/metadata/identity/oauth2/token",
                               "http://169.254.169.253/metadata/identity/oauth2/token", ""}) {
    SCOPED_TRACE(endpoint);
    options.endpoint = endpoint;
    EXPECT_THAT(NewAzureImdsSource(options)->Token("api://writ"),
                IsError(absl::StatusCode::kInvalidArgument, "Azure IMDS endpoint"));
  }
  EXPECT_EQ(requests(), 0);
  // The real address is allowed over plain http by default.
  EXPECT_EQ(AzureImdsOptions().endpoint, "http://169.254.169.254/metadata/identity/oauth2/token");
}

TEST_F(AzureImdsSourceTest, UnreachableImdsIsUnavailable) {
  AzureImdsOptions options = Options();
  options.endpoint = absl::StrCat("http://127.0.0.1:1", kPath);
  EXPECT_THAT(NewAzureImdsSource(options)->Token("api://writ"),
              IsError(absl::StatusCode::kUnavailable, "Azure IMDS cannot be reached"));
}

}  // namespace
}  // namespace writ

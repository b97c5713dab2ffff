// The GitHub Actions attestation source: the runner's OIDC token endpoint,
// called as actions/core getIDToken calls it.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sdk/src/client/client_util.h"
#include "writ/base/status_macros.h"
#include "writ/client/attestation.h"
#include "writ/net/fetch_url.h"

namespace writ {
namespace {

using client_internal::CleanToken;
using client_internal::FetcherHandle;
using client_internal::PercentEncode;
using client_internal::ReadEnv;

constexpr char kUrlVar[] = "ACTIONS_ID_TOKEN_REQUEST_URL";
constexpr char kTokenVar[] = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
constexpr char kEndpoint[] = "GitHub's OIDC token endpoint";

// TokenValue returns the "value" member of the endpoint's JSON answer.
absl::StatusOr<std::string> TokenValue(absl::string_view body) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(client_internal::ParseJsonReply(body, "its answer", &doc));
  return client_internal::RequiredString(doc, "value");
}

class GitHubActionsSource final : public AttestationSource {
 public:
  explicit GitHubActionsSource(SourceOptions options)
      : options_(std::move(options)), fetcher_(options_.fetcher) {}

  absl::StatusOr<std::string> Token(absl::string_view audience) override {
    std::optional<std::string> url = ReadEnv(options_.getenv, kUrlVar);
    std::optional<std::string> bearer = ReadEnv(options_.getenv, kTokenVar);
    std::vector<const char*> missing;
    if (!url.has_value() || url->empty()) missing.push_back(kUrlVar);
    if (!bearer.has_value() || bearer->empty()) missing.push_back(kTokenVar);
    if (!missing.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          absl::StrJoin(missing, " and "), missing.size() == 1 ? " is" : " are",
          " not set: outside GitHub Actions use another attestation source; inside, give the "
          "job `permissions: id-token: write`"));
    }
    if (absl::Status s = ParseFetchUrl(*url).status(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          kUrlVar, " must be an https:// URL (plain http only on a loopback host): ", s.message()));
    }
    // The runner's request token goes into a header: refuse line breaks.
    absl::StatusOr<std::string> request_token = CleanToken(*bearer, kTokenVar);
    if (!request_token.ok()) return request_token.status();

    HttpRequest request;
    request.url = *url;
    if (!audience.empty()) {
      absl::StrAppend(&request.url, absl::StrContains(*url, "?") ? "&" : "?",
                      "audience=", PercentEncode(audience));
    }
    request.headers = {absl::StrCat("Authorization: bearer ", *request_token),
                       "Accept: application/json"};
    absl::StatusOr<HttpResponse> reply =
        fetcher_.get()->Fetch(request, client_internal::LimitsFor(options_.timeout));
    if (!reply.ok()) {
      return absl::Status(reply.status().code(),
                          absl::StrCat(kEndpoint, ": ", reply.status().message()));
    }
    if (reply->status != 200) {
      return absl::UnavailableError(
          absl::StrCat(kEndpoint, " answered HTTP ", reply->status,
                       reply->status == 401 || reply->status == 403
                           ? " (the request token was refused: it is valid only while the job runs)"
                           : ""));
    }
    absl::StatusOr<std::string> value = TokenValue(reply->body);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kEndpoint, " answered without a token: ", value.status().message()));
    }
    return CleanToken(*value, kEndpoint);
  }

  std::string Describe() const override { return "GitHub Actions"; }

 private:
  const SourceOptions options_;
  FetcherHandle fetcher_;
};

}  // namespace

std::shared_ptr<AttestationSource> NewGitHubActionsSource(SourceOptions options) {
  return std::make_shared<GitHubActionsSource>(std::move(options));
}

}  // namespace writ

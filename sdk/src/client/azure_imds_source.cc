// The Azure managed-identity attestation source: the Instance Metadata
// Service's token endpoint, called as Azure documents it ("Metadata: true",
// api-version, resource, client_id; retry 404, 410, 429 and 5xx with
// exponential backoff).
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/src/client/client_util.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/base/status_macros.h"
#include "writ/client/attestation.h"
#include "writ/net/fetch_url.h"

namespace writ {
namespace {

using client_internal::PercentEncode;

constexpr int kMaxRetries = 3;

bool IsTransient(long status) {
  return status == 404 || status == 410 || status == 429 || status >= 500;
}

// ErrorText is IMDS's error JSON as "<error>: <error_description>", or empty
// when the body is not one.
std::string ErrorText(absl::string_view body) {
  rapidjson::Document doc;
  if (!client_internal::ParseJsonReply(body, "the answer", &doc).ok()) return "";
  absl::StatusOr<std::optional<std::string>> error = client_internal::OptionalString(doc, "error");
  absl::StatusOr<std::optional<std::string>> description =
      client_internal::OptionalString(doc, "error_description");
  std::string out;
  if (error.ok() && error->has_value()) out = internal::Printable(**error, 100);
  if (description.ok() && description->has_value() && !(*description)->empty()) {
    absl::StrAppend(&out, out.empty() ? "" : ": ", internal::Printable(**description, 400));
  }
  return out;
}

absl::StatusOr<std::string> AccessToken(absl::string_view body) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(client_internal::ParseJsonReply(body, "its answer", &doc));
  // expires_in, expires_on and not_before come as strings of digits; Writ
  // reads the token's own exp, so they are not needed here.
  return client_internal::RequiredString(doc, "access_token");
}

class AzureImdsSource final : public AttestationSource {
 public:
  explicit AzureImdsSource(AzureImdsOptions options)
      : options_(std::move(options)), fetcher_(options_.fetcher) {}

  absl::StatusOr<std::string> Token(absl::string_view audience) override {
    const std::string resource =
        options_.resource.empty() ? std::string(audience) : options_.resource;
    if (resource.empty()) {
      return absl::InvalidArgumentError(
          "Azure IMDS needs a resource: the audience Writ accepts for Azure tokens");
    }
    absl::StatusOr<FetchUrl> endpoint =
        ParseFetchUrl(options_.endpoint, /*allow_metadata_http=*/true);
    if (!endpoint.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Azure IMDS endpoint: ", endpoint.status().message()));
    }
    HttpRequest request;
    request.allow_metadata_http = true;
    request.url = absl::StrCat(
        options_.endpoint, absl::StrContains(options_.endpoint, "?") ? "&" : "?",
        "api-version=", PercentEncode(options_.api_version), "&resource=", PercentEncode(resource));
    if (!options_.client_id.empty()) {
      absl::StrAppend(&request.url, "&client_id=", PercentEncode(options_.client_id));
    }
    request.headers = {"Metadata: true", "Accept: application/json"};

    // Transport timing on a monotonic clock (as the fetcher's own deadline).
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoMilliseconds(options_.timeout);
    auto remaining = [&deadline] {
      return absl::FromChrono(deadline - std::chrono::steady_clock::now());
    };
    absl::Duration delay = options_.retry_delay;
    std::string last;
    int attempt = 0;
    for (;; ++attempt) {
      absl::StatusOr<HttpResponse> reply =
          fetcher_.get()->Fetch(request, client_internal::LimitsFor(remaining()));
      if (!reply.ok()) {
        return absl::Status(reply.status().code(),
                            absl::StrCat("Azure IMDS cannot be reached (is this an Azure VM or "
                                         "scale set with a managed identity?): ",
                                         reply.status().message()));
      }
      if (reply->status == 200) {
        absl::StatusOr<std::string> token = AccessToken(reply->body);
        if (!token.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("Azure IMDS answered without a token: ", token.status().message()));
        }
        return client_internal::CleanToken(*token, "Azure IMDS");
      }
      const std::string text = ErrorText(reply->body);
      last =
          absl::StrCat("Azure IMDS answered HTTP ", reply->status, text.empty() ? "" : ": ", text);
      if (!IsTransient(reply->status)) return absl::FailedPreconditionError(last);
      if (attempt == kMaxRetries) break;
      const absl::Duration left = remaining();
      if (left <= delay) break;
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(delay));
      delay *= 2;
    }
    return absl::UnavailableError(
        absl::StrCat(last, " (", attempt + 1, attempt == 0 ? " attempt)" : " attempts)"));
  }

  std::string Describe() const override {
    return options_.client_id.empty()
               ? "Azure managed identity"
               : absl::StrCat("Azure managed identity ", internal::Printable(options_.client_id));
  }

 private:
  const AzureImdsOptions options_;
  client_internal::FetcherHandle fetcher_;
};

}  // namespace

std::shared_ptr<AttestationSource> NewAzureImdsSource(AzureImdsOptions options) {
  return std::make_shared<AzureImdsSource>(std::move(options));
}

}  // namespace writ

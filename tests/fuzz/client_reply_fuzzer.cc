// libFuzzer target: the SDK client's and attestation sources' handling of a
// server's answer (Writ's token, SVID, SSH and bundle endpoints; GitHub's and
// Azure IMDS's token endpoints), through a fetcher that answers the input.
// Input: byte 0 picks the HTTP status, byte 1 the call, the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "writ/client/attestation.h"
#include "writ/client/client.h"
#include "writ/net/http_fetcher.h"

namespace {

class AnswerFetcher final : public writ::HttpFetcher {
 public:
  AnswerFetcher(long status, std::string body) : status_(status), body_(std::move(body)) {}
  absl::StatusOr<writ::HttpResponse> Fetch(const writ::HttpRequest&,
                                           const writ::FetchLimits&) override {
    return writ::HttpResponse{status_, body_};
  }

 private:
  const long status_;
  const std::string body_;
};

constexpr long kStatuses[] = {200, 200, 200, 200, 302, 400, 401, 403, 404, 410, 429, 500, 503};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const long status = kStatuses[data[0] % (sizeof(kStatuses) / sizeof(kStatuses[0]))];
  const int call = data[1] % 6;
  AnswerFetcher fetcher(status, std::string(reinterpret_cast<const char*>(data) + 2, size - 2));

  if (call == 4) {
    writ::SourceOptions options;
    options.fetcher = &fetcher;
    options.getenv = [](absl::string_view name) -> std::optional<std::string> {
      return name == "ACTIONS_ID_TOKEN_REQUEST_URL" ? "https://runner.example/token"
                                                    : "runner-token";
    };
    auto token = writ::NewGitHubActionsSource(options)->Token("writ");
    if (token.ok() && token->empty()) abort();
    return 0;
  }
  if (call == 5) {
    writ::AzureImdsOptions options;
    options.fetcher = &fetcher;
    options.retry_delay = absl::ZeroDuration();
    auto token = writ::NewAzureImdsSource(options)->Token("api://writ");
    if (token.ok() && token->empty()) abort();
    return 0;
  }
  writ::ClientOptions options;
  options.issuer_url = "https://writ.example";
  options.fetcher = &fetcher;
  options.attestation = writ::NewCallbackSource(
      [](absl::string_view) -> absl::StatusOr<std::string> { return std::string("subject"); });
  auto client = writ::Client::New(std::move(options));
  if (!client.ok()) abort();
  switch (call) {
    case 0: {
      auto token = (*client)->ExchangeToken({});
      if (token.ok() && (token->access_token.empty() || token->expires_at <= token->issued_at)) {
        abort();
      }
      break;
    }
    case 1: {
      auto svid = (*client)->MintX509Svid("csr");
      if (svid.ok() && !absl::StrContains(svid->certificate_chain_pem, "BEGIN CERTIFICATE")) {
        abort();
      }
      break;
    }
    case 2: {
      auto cert = (*client)->MintSshCertificate("ssh-ed25519 AAAA", {"deploy"});
      if (cert.ok() && cert->certificate.empty()) abort();
      break;
    }
    default: {
      auto pem = (*client)->FetchBundlePem();
      if (pem.ok() && status != 200) abort();
      break;
    }
  }
  return 0;
}

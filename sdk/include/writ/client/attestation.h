// AttestationSource: where a workload's OIDC token comes from — the proof of
// who it is that Writ verifies before issuing anything.
//
//   std::shared_ptr<AttestationSource> source = NewGitHubActionsSource();
//   ASSIGN_OR_RETURN(std::string oidc_token, source->Token("https://writ.acme.example"));
//
// Sources, each built to the platform's documented behaviour:
//   - NewGitHubActionsSource: GitHub Actions' runner endpoint
//     (ACTIONS_ID_TOKEN_REQUEST_URL + ACTIONS_ID_TOKEN_REQUEST_TOKEN; the
//     job needs `permissions: id-token: write`).
//   - NewEnvVarSource: a token in an environment variable (GitLab CI
//     `id_tokens:`, which names the variable).
//   - NewTokenFileSource: a token file, re-read when it changes (Kubernetes
//     projected service-account tokens, which the kubelet rotates).
//   - NewAzureImdsSource: the Azure Instance Metadata Service managed-identity
//     endpoint.
//   - NewCallbackSource: the caller's own function.
#ifndef WRIT_CLIENT_ATTESTATION_H_
#define WRIT_CLIENT_ATTESTATION_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "writ/net/http_fetcher.h"

namespace writ {

// AttestationSource yields this workload's OIDC token. Implementations are
// thread-safe.
class AttestationSource {
 public:
  virtual ~AttestationSource() = default;

  // Token returns an OIDC token for `audience` (sources whose platform fixes
  // the audience ignore it). Errors: kFailedPrecondition when the platform's
  // setup is missing (an unset variable, a missing file: the message says what
  // to configure), kUnavailable when the platform's endpoint cannot be
  // reached or answers an error, kInvalidArgument for an unusable answer.
  // Never puts a token or credential in a message.
  virtual absl::StatusOr<std::string> Token(absl::string_view audience) = 0;

  // Describe names the source for messages ("GitHub Actions", "file
  // /var/run/secrets/tokens/writ").
  virtual std::string Describe() const = 0;
};

// GetEnv reads an environment variable; tests inject their own.
using GetEnvFn = std::function<std::optional<std::string>(absl::string_view name)>;

// SourceOptions are what every network-backed source shares.
struct SourceOptions {
  // getenv reads the environment. Default: null (the process environment).
  GetEnvFn getenv;
  // fetcher makes HTTP requests; not owned. Default: null (a CurlFetcher the
  // source owns).
  HttpFetcher* fetcher = nullptr;
  // timeout bounds one token request. Default: 10 s.
  absl::Duration timeout = absl::Seconds(10);
};

// NewGitHubActionsSource fetches the job's OIDC token from
// $ACTIONS_ID_TOKEN_REQUEST_URL with "&audience=<audience>" and
// "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN", as actions/core
// getIDToken does. The URL must be https (http only on loopback).
std::shared_ptr<AttestationSource> NewGitHubActionsSource(SourceOptions options = {});

// NewEnvVarSource returns the token in environment variable `name`, read on
// every call.
std::shared_ptr<AttestationSource> NewEnvVarSource(std::string name, GetEnvFn getenv = nullptr);

// NewTokenFileSource reads the token in `path`, and reads it again whenever
// the file changes (inode, size or modification time; a symlink swap counts).
// The file must be at most 64 KiB.
std::shared_ptr<AttestationSource> NewTokenFileSource(std::string path);

// AzureImdsOptions configures the Azure managed-identity source.
struct AzureImdsOptions : SourceOptions {
  // endpoint is the IMDS token endpoint. Default:
  // "http://169.254.169.254/metadata/identity/oauth2/token" (plain http is
  // allowed for this address only; tests point it at a loopback stand-in).
  std::string endpoint = "http://169.254.169.254/metadata/identity/oauth2/token";
  // api_version is sent as api-version. Default: "2018-02-01".
  std::string api_version = "2018-02-01";
  // client_id selects a user-assigned identity. Default: empty (the
  // system-assigned identity).
  std::string client_id;
  // resource overrides the audience passed to Token() as the `resource`
  // parameter. Default: empty (use the audience).
  std::string resource;
  // retry_delay is the wait before the first retry, doubled before each
  // next one (never past the timeout). Default: 1 s.
  absl::Duration retry_delay = absl::Seconds(1);
};

// NewAzureImdsSource asks IMDS for a token (GET with "Metadata: true" and
// api-version, resource [, client_id]) and returns its access_token. IMDS's
// transient answers (HTTP 404, 410, 429, 5xx) are retried up to 3 times
// with backoff within the timeout, then reported as kUnavailable; another
// error answer (400: no such identity, a bad resource) is kFailedPrecondition
// at once. Its error JSON is reported as "<error>: <error_description>". An
// unreachable IMDS (not an Azure VM) is kUnavailable, not retried.
std::shared_ptr<AttestationSource> NewAzureImdsSource(AzureImdsOptions options = {});

// NewCallbackSource calls `fn` for every token.
std::shared_ptr<AttestationSource> NewCallbackSource(
    std::function<absl::StatusOr<std::string>(absl::string_view audience)> fn,
    std::string description = "callback");

}  // namespace writ

#endif  // WRIT_CLIENT_ATTESTATION_H_

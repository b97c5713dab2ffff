#include "sdk/cli/workload_flags.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/cli/io.h"
#include "writ/base/status_macros.h"
#include "writ/client/attestation.h"
#include "writ/net/fetch_url.h"

namespace writ::cli {
namespace {

constexpr size_t kMaxOidcTokenBytes = 64 * 1024;

}  // namespace

void WorkloadFlags::Register(FlagSet& flags, absl::string_view format_help) {
  flags.String("issuer", "URL", &issuer,
               "Writ's issuer URL (default: $WRIT_ISSUER, else http://127.0.0.1:8080)");
  flags.Bool("github-actions", &github_actions,
             "get the OIDC token from the GitHub Actions runner (the default when "
             "ACTIONS_ID_TOKEN_REQUEST_URL is set; needs `permissions: id-token: write`)");
  flags.String("oidc-token-env", "VAR", &oidc_token_env,
               "read the OIDC token from environment variable VAR (e.g. a GitLab id_token)");
  flags.String("oidc-token-file", "FILE", &oidc_token_file,
               "read the OIDC token from FILE, re-read when it changes (e.g. a Kubernetes "
               "projected token; - for standard input)");
  flags.Bool("azure-imds", &azure_imds,
             "get the OIDC token of this Azure VM's managed identity from the Instance "
             "Metadata Service");
  flags.String("azure-client-id", "ID", &azure_client_id,
               "with --azure-imds: the client ID of a user-assigned managed identity "
               "(default: the system-assigned identity)");
  flags.String("oidc-audience", "AUD", &oidc_audience,
               "with --github-actions or --azure-imds: the audience (Azure: resource) of the "
               "OIDC token (default: the issuer URL)");
  flags.String("lifetime", "DURATION", &lifetime, "lifetime to ask for, e.g. 10m");
  flags.String("format", "raw|json|env", &format, format_help);
  flags.String("out", "FILE", &out, "write to FILE (mode 0600) instead of standard output");
}

absl::Status WorkloadFlags::Check(const FlagSet& flags) const {
  const int sources =
      flags.IsSet("oidc-token-file") + flags.IsSet("oidc-token-env") + github_actions + azure_imds;
  if (sources > 1) {
    return flags.Error(
        "give one of --github-actions, --oidc-token-env, --oidc-token-file, --azure-imds");
  }
  if (flags.IsSet("azure-client-id") && !azure_imds) {
    return flags.Error("--azure-client-id goes with --azure-imds");
  }
  if (format != "raw" && format != "json" && format != "env") {
    return flags.Error("--format must be raw, json or env");
  }
  if (!lifetime.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(lifetime, &d) || d < absl::Seconds(1) ||
        d == absl::InfiniteDuration()) {
      return flags.Error(absl::StrCat("--lifetime: \"", Printable(lifetime),
                                      "\" is not a duration of at least 1s, such as 10m"));
    }
  }
  return absl::OkStatus();
}

std::optional<absl::Duration> WorkloadFlags::Lifetime() const {
  absl::Duration d;
  if (lifetime.empty() || !absl::ParseDuration(lifetime, &d)) return std::nullopt;
  return d;
}

absl::StatusOr<std::unique_ptr<Client>> WorkloadFlags::NewClient(const FlagSet& flags,
                                                                 CommandEnv& env) const {
  ClientOptions options;
  options.issuer_url =
      issuer.empty() ? env.getenv("WRIT_ISSUER").value_or("http://127.0.0.1:8080") : issuer;
  while (absl::EndsWith(options.issuer_url, "/")) options.issuer_url.pop_back();
  if (absl::Status s = ParseFetchUrl(options.issuer_url).status(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--issuer must be an https:// URL (plain http only to a loopback address): ", s.message()));
  }
  options.attestation_audience = oidc_audience;
  GetEnvFn getenv = [&env](absl::string_view name) { return env.getenv(std::string(name)); };
  if (flags.IsSet("oidc-token-file")) {
    if (oidc_token_file == "-") {
      ASSIGN_OR_RETURN(std::string raw, ReadInput(oidc_token_file, "--oidc-token-file", *env.in,
                                                  kMaxOidcTokenBytes));
      options.attestation =
          NewCallbackSource([raw](absl::string_view) -> absl::StatusOr<std::string> { return raw; },
                            "standard input");
    } else {
      options.attestation = NewTokenFileSource(oidc_token_file);
    }
  } else if (flags.IsSet("oidc-token-env")) {
    options.attestation = NewEnvVarSource(oidc_token_env, getenv);
  } else if (azure_imds) {
    AzureImdsOptions azure;
    azure.getenv = getenv;
    azure.client_id = azure_client_id;
    options.attestation = NewAzureImdsSource(std::move(azure));
  } else if (github_actions || env.getenv("ACTIONS_ID_TOKEN_REQUEST_URL").has_value()) {
    SourceOptions github;
    github.getenv = getenv;
    options.attestation = NewGitHubActionsSource(std::move(github));
  } else {
    return flags.Error(
        "no OIDC token: use --oidc-token-file, --oidc-token-env, --azure-imds, or run in "
        "GitHub Actions");
  }
  return Client::New(std::move(options));
}

absl::Status WorkloadFlags::Emit(CommandEnv& env, absl::string_view output) const {
  if (out.empty()) {
    *env.out << output;
    return absl::OkStatus();
  }
  return WritePrivateFileAtomically(out, output);
}

absl::Status WritePrivateFileAtomically(const std::string& path, absl::string_view contents) {
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());  // mode 0600
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  bool ok = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

}  // namespace writ::cli

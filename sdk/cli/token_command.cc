// writ token: exchange this job's OIDC token for a short-lived Writ token,
// with the SDK's Client and attestation sources.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "writ/base/status_macros.h"
#include "writ/client/attestation.h"
#include "writ/client/client.h"
#include "writ/net/fetch_url.h"

namespace writ::cli {
namespace {

constexpr size_t kMaxOidcTokenBytes = 64 * 1024;
constexpr char kAccessTokenType[] = "urn:ietf:params:oauth:token-type:access_token";

// TokenJson renders the token as an RFC 8693 token response.
std::string TokenJson(const Token& token) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](absl::string_view v) {
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  str("access_token");
  str(token.access_token);
  str("issued_token_type");
  str(kAccessTokenType);
  str("token_type");
  str(token.token_type);
  str("expires_in");
  w.Int64(absl::ToInt64Seconds(token.expires_at - token.issued_at));
  str("scope");
  str(absl::StrJoin(token.scopes, " "));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

// WritePrivateFileAtomically replaces `path` with `contents`, mode 0600, so a
// re-run of a pipeline step overwrites its old token and a reader never sees
// a half-written one.
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

}  // namespace

absl::Status RunTokenCommand(absl::string_view name, absl::Span<const std::string> args,
                             CommandEnv& env) {
  std::string issuer, audience, lifetime, token_file, token_env, oidc_audience, actor_file,
      azure_client_id, out_path, format = "raw";
  std::vector<std::string> scopes;
  bool github = false, azure = false;
  FlagSet flags(
      std::string(name),
      "[--issuer URL] [--audience AUD] [--scope S]... [--lifetime 10m] "
      "[--oidc-token-file F | --oidc-token-env VAR | --github-actions | --azure-imds "
      "[--azure-client-id ID]] [--oidc-audience AUD] [--actor-token-file F] [--out FILE] "
      "[--format raw|json|env]",
      "Exchanges this workload's OIDC token (RFC 8693) for a short-lived Writ\n"
      "token and prints it. In GitHub Actions (with `permissions: id-token: write`)\n"
      "the OIDC token is fetched from the runner, so one line does it:\n"
      "  writ token --issuer https://writ.acme.example --audience https://deploy.acme.example "
      "--scope deploy:write\n"
      "Exit codes: 0 token issued, 1 refused or failed (the issuer's reason on\n"
      "stderr), 2 usage error.");
  flags.String("issuer", "URL", &issuer,
               "Writ's issuer URL (default: $WRIT_ISSUER, else http://127.0.0.1:8080)");
  flags.String("audience", "AUD", &audience, "audience of the Writ token");
  flags.StringList("scope", "S", &scopes, "a scope to ask for (repeatable)");
  flags.String("lifetime", "DURATION", &lifetime, "lifetime to ask for, e.g. 10m");
  flags.String("oidc-token-file", "FILE", &token_file,
               "read the OIDC token from FILE, re-read when it changes (e.g. a Kubernetes "
               "projected token; - for standard input)");
  flags.String("oidc-token-env", "VAR", &token_env,
               "read the OIDC token from environment variable VAR (e.g. a GitLab id_token)");
  flags.Bool("github-actions", &github,
             "fetch the OIDC token from the GitHub Actions runner (the default when "
             "ACTIONS_ID_TOKEN_REQUEST_URL is set)");
  flags.Bool("azure-imds", &azure,
             "get the OIDC token of this Azure VM's managed identity from the Instance "
             "Metadata Service");
  flags.String("azure-client-id", "ID", &azure_client_id,
               "with --azure-imds: the client ID of a user-assigned managed identity "
               "(default: the system-assigned identity)");
  flags.String("oidc-audience", "AUD", &oidc_audience,
               "with --github-actions or --azure-imds: the audience (Azure: resource) of the "
               "OIDC token (default: the issuer URL)");
  flags.String("actor-token-file", "FILE", &actor_file,
               "delegation: the acting party's OIDC token (becomes the \"act\" claim)");
  flags.String("out", "FILE", &out_path, "write to FILE (mode 0600) instead of standard output");
  flags.String("format", "raw|json|env", &format,
               "raw: the token; json: the token response; env: WRIT_TOKEN=... lines");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  int sources = flags.IsSet("oidc-token-file") + flags.IsSet("oidc-token-env") + github + azure;
  if (sources > 1) {
    return flags.Error(
        "give one of --oidc-token-file, --oidc-token-env, --github-actions, --azure-imds");
  }
  if (flags.IsSet("azure-client-id") && !azure) {
    return flags.Error("--azure-client-id goes with --azure-imds");
  }
  if (format != "raw" && format != "json" && format != "env") {
    return flags.Error("--format must be raw, json or env");
  }
  TokenRequest request;
  request.audience = audience;
  request.scopes = scopes;
  if (!lifetime.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(lifetime, &d) || d < absl::Seconds(1) ||
        d == absl::InfiniteDuration()) {
      return flags.Error(absl::StrCat("--lifetime: \"", Printable(lifetime),
                                      "\" is not a duration of at least 1s, such as 10m"));
    }
    request.lifetime = d;
  }
  if (issuer.empty()) issuer = env.getenv("WRIT_ISSUER").value_or("http://127.0.0.1:8080");
  while (absl::EndsWith(issuer, "/")) issuer.pop_back();
  if (absl::Status s = ParseFetchUrl(issuer).status(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--issuer must be an https:// URL (plain http only to a loopback address): ", s.message()));
  }

  GetEnvFn getenv = [&env](absl::string_view var) { return env.getenv(std::string(var)); };
  std::shared_ptr<AttestationSource> source;
  if (flags.IsSet("oidc-token-file") && token_file == "-") {
    ASSIGN_OR_RETURN(std::string raw,
                     ReadInput(token_file, "--oidc-token-file", *env.in, kMaxOidcTokenBytes));
    source = NewCallbackSource(
        [raw](absl::string_view) -> absl::StatusOr<std::string> { return raw; }, "standard input");
  } else if (flags.IsSet("oidc-token-file")) {
    source = NewTokenFileSource(token_file);
  } else if (flags.IsSet("oidc-token-env")) {
    source = NewEnvVarSource(token_env, getenv);
  } else if (azure) {
    AzureImdsOptions options;
    options.getenv = getenv;
    options.client_id = azure_client_id;
    source = NewAzureImdsSource(std::move(options));
  } else if (github || env.getenv("ACTIONS_ID_TOKEN_REQUEST_URL").has_value()) {
    SourceOptions options;
    options.getenv = getenv;
    source = NewGitHubActionsSource(std::move(options));
  } else {
    return flags.Error(
        "no OIDC token: use --oidc-token-file, --oidc-token-env, --azure-imds, or run in "
        "GitHub Actions");
  }
  if (!actor_file.empty()) {
    ASSIGN_OR_RETURN(std::string raw,
                     ReadInput(actor_file, "--actor-token-file", *env.in, kMaxOidcTokenBytes));
    request.actor_token = std::string(TrimToken(raw));
    if (request.actor_token.empty()) {
      return absl::InvalidArgumentError("the --actor-token-file token is empty");
    }
  }

  ClientOptions options;
  options.issuer_url = issuer;
  options.attestation = std::move(source);
  options.attestation_audience = oidc_audience;
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::New(std::move(options)));
  ASSIGN_OR_RETURN(Token token, client->ExchangeToken(request));

  std::string output;
  if (format == "raw") {
    output = token.access_token + "\n";
  } else if (format == "json") {
    output = TokenJson(token) + "\n";
  } else {
    output = absl::StrCat("WRIT_TOKEN=", token.access_token, "\nWRIT_TOKEN_EXPIRES_IN=",
                          absl::ToInt64Seconds(token.expires_at - token.issued_at),
                          "\nWRIT_TOKEN_SCOPE=", absl::StrJoin(token.scopes, " "), "\n");
  }
  if (out_path.empty()) {
    *env.out << output;
    return absl::OkStatus();
  }
  return WritePrivateFileAtomically(out_path, output);
}

}  // namespace writ::cli

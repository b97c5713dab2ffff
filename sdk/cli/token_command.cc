// writ token: exchange this job's OIDC token for a short-lived Writ token.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/http_client.h"
#include "sdk/cli/io.h"
#include "writ/base/status_macros.h"

namespace writ::cli {
namespace {

constexpr size_t kMaxOidcTokenBytes = 64 * 1024;
constexpr char kTokenExchange[] = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr char kJwtType[] = "urn:ietf:params:oauth:token-type:jwt";

std::string GetString(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "";
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// FetchGitHubToken asks the runner's OIDC endpoint for an ID token, as
// actions/core getIDToken does.
absl::StatusOr<std::string> FetchGitHubToken(CommandEnv& env, const std::string& audience) {
  std::optional<std::string> url = env.getenv("ACTIONS_ID_TOKEN_REQUEST_URL");
  std::optional<std::string> bearer = env.getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
  if (!url || !bearer || url->empty() || bearer->empty()) {
    return absl::FailedPreconditionError(
        "ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set: give the job `permissions: "
        "id-token: write`");
  }
  RETURN_IF_ERROR(CheckSecureUrl(*url, "ACTIONS_ID_TOKEN_REQUEST_URL"));
  std::string escaped;
  for (unsigned char ch : audience) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      escaped.push_back(static_cast<char>(ch));
    } else {
      absl::StrAppend(&escaped, "%", absl::Hex(ch, absl::kZeroPad2));
    }
  }
  std::string request_url =
      absl::StrCat(*url, absl::StrContains(*url, "?") ? "&" : "?", "audience=", escaped);
  ASSIGN_OR_RETURN(HttpReply reply,
                   HttpGet(request_url, {absl::StrCat("Authorization: bearer ", *bearer),
                                         "Accept: application/json"}));
  if (reply.status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GitHub's OIDC token endpoint answered HTTP ", reply.status));
  }
  rapidjson::Document doc;
  doc.Parse(reply.body.c_str(), reply.body.size());
  if (doc.HasParseError() || !doc.IsObject() || GetString(doc, "value").empty()) {
    return absl::UnavailableError("GitHub's OIDC token endpoint answered without a token");
  }
  return GetString(doc, "value");
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
      out_path, format = "raw";
  std::vector<std::string> scopes;
  bool github = false;
  FlagSet flags(
      std::string(name),
      "[--issuer URL] [--audience AUD] [--scope S]... [--lifetime 10m] "
      "[--oidc-token-file F | --oidc-token-env VAR | --github-actions] "
      "[--actor-token-file F] [--out FILE] [--format raw|json|env]",
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
               "read the OIDC token from FILE (e.g. a Kubernetes projected token)");
  flags.String("oidc-token-env", "VAR", &token_env,
               "read the OIDC token from environment variable VAR (e.g. a GitLab id_token)");
  flags.Bool("github-actions", &github,
             "fetch the OIDC token from the GitHub Actions runner (the default when "
             "ACTIONS_ID_TOKEN_REQUEST_URL is set)");
  flags.String("oidc-audience", "AUD", &oidc_audience,
               "with --github-actions: the audience of the OIDC token (default: the issuer URL)");
  flags.String("actor-token-file", "FILE", &actor_file,
               "delegation: the acting party's OIDC token (becomes the \"act\" claim)");
  flags.String("out", "FILE", &out_path, "write to FILE (mode 0600) instead of standard output");
  flags.String("format", "raw|json|env", &format,
               "raw: the token; json: the issuer's response; env: WRIT_TOKEN=... lines");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  int sources = flags.IsSet("oidc-token-file") + flags.IsSet("oidc-token-env") + github;
  if (sources > 1) {
    return flags.Error("give one of --oidc-token-file, --oidc-token-env, --github-actions");
  }
  if (format != "raw" && format != "json" && format != "env") {
    return flags.Error("--format must be raw, json or env");
  }
  std::optional<absl::Duration> life;
  if (!lifetime.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(lifetime, &d) || d < absl::Seconds(1)) {
      return flags.Error(absl::StrCat("--lifetime: \"", Printable(lifetime),
                                      "\" is not a duration of at least 1s, such as 10m"));
    }
    life = d;
  }
  if (issuer.empty()) issuer = env.getenv("WRIT_ISSUER").value_or("http://127.0.0.1:8080");
  while (absl::EndsWith(issuer, "/")) issuer.pop_back();
  RETURN_IF_ERROR(CheckSecureUrl(issuer, "--issuer"));

  std::string oidc_token;
  if (flags.IsSet("oidc-token-file")) {
    ASSIGN_OR_RETURN(std::string raw,
                     ReadInput(token_file, "--oidc-token-file", *env.in, kMaxOidcTokenBytes));
    oidc_token = std::string(TrimToken(raw));
  } else if (flags.IsSet("oidc-token-env")) {
    std::optional<std::string> v = env.getenv(token_env);
    if (!v || v->empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("environment variable ", Printable(token_env), " is not set or empty"));
    }
    oidc_token = std::string(TrimToken(*v));
  } else if (github || env.getenv("ACTIONS_ID_TOKEN_REQUEST_URL").has_value()) {
    ASSIGN_OR_RETURN(oidc_token,
                     FetchGitHubToken(env, oidc_audience.empty() ? issuer : oidc_audience));
  } else {
    return flags.Error(
        "no OIDC token: use --oidc-token-file, --oidc-token-env, or run in GitHub Actions");
  }
  if (oidc_token.empty()) return absl::InvalidArgumentError("the OIDC token is empty");

  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", kTokenExchange},
      {"subject_token", oidc_token},
      {"subject_token_type", kJwtType},
  };
  if (!audience.empty()) form.emplace_back("audience", audience);
  if (!scopes.empty()) form.emplace_back("scope", absl::StrJoin(scopes, " "));
  if (life) form.emplace_back("requested_lifetime", absl::StrCat(absl::ToInt64Seconds(*life)));
  if (!actor_file.empty()) {
    ASSIGN_OR_RETURN(std::string raw,
                     ReadInput(actor_file, "--actor-token-file", *env.in, kMaxOidcTokenBytes));
    form.emplace_back("actor_token", std::string(TrimToken(raw)));
    form.emplace_back("actor_token_type", kJwtType);
  }
  ASSIGN_OR_RETURN(HttpReply reply, HttpPostForm(absl::StrCat(issuer, "/oauth2/token"), form));
  rapidjson::Document doc;
  doc.Parse(reply.body.c_str(), reply.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::UnavailableError(
        absl::StrCat("the issuer answered HTTP ", reply.status, " without a JSON body"));
  }
  if (reply.status != 200) {
    std::string error = GetString(doc, "error");
    std::string description = GetString(doc, "error_description");
    auto status =
        reply.status >= 500 ? absl::UnavailableError("") : absl::PermissionDeniedError("");
    return absl::Status(status.code(),
                        absl::StrCat("the issuer refused: ", error.empty() ? "error" : error,
                                     description.empty() ? "" : ": ", Printable(description, 400)));
  }
  std::string token = GetString(doc, "access_token");
  if (token.empty()) return absl::UnavailableError("the issuer's answer has no access_token");

  std::string output;
  if (format == "raw") {
    output = token + "\n";
  } else if (format == "json") {
    output = reply.body + "\n";
  } else {
    const rapidjson::Value& root = doc;
    auto it = root.FindMember("expires_in");
    int64_t expires_in = it != root.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
    output = absl::StrCat("WRIT_TOKEN=", token, "\nWRIT_TOKEN_EXPIRES_IN=", expires_in,
                          "\nWRIT_TOKEN_SCOPE=", GetString(doc, "scope"), "\n");
  }
  if (out_path.empty()) {
    *env.out << output;
    return absl::OkStatus();
  }
  return WritePrivateFileAtomically(out_path, output);
}

}  // namespace writ::cli

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
#include "sdk/cli/workload_flags.h"
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

}  // namespace

absl::Status RunTokenCommand(absl::string_view name, absl::Span<const std::string> args,
                             CommandEnv& env) {
  WorkloadFlags workload;
  std::string audience, actor_file;
  std::vector<std::string> scopes;
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
      "Exit codes: 0 token issued, 1 failed, 2 usage error, 3 refused (the\n"
      "issuer's reason on stderr), 4 issuer or token source unreachable (retry later).");
  workload.Register(flags, "raw: the token; json: the token response; env: WRIT_TOKEN=... lines");
  flags.String("audience", "AUD", &audience, "audience of the Writ token");
  flags.StringList("scope", "S", &scopes, "a scope to ask for (repeatable)");
  flags.String("actor-token-file", "FILE", &actor_file,
               "delegation: the acting party's OIDC token (becomes the \"act\" claim)");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(workload.Check(flags));
  TokenRequest request;
  request.audience = audience;
  request.scopes = scopes;
  request.lifetime = workload.Lifetime();
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client, workload.NewClient(flags, env));
  if (!actor_file.empty()) {
    ASSIGN_OR_RETURN(std::string raw,
                     ReadInput(actor_file, "--actor-token-file", *env.in, kMaxOidcTokenBytes));
    request.actor_token = std::string(TrimToken(raw));
    if (request.actor_token.empty()) {
      return absl::InvalidArgumentError("the --actor-token-file token is empty");
    }
  }
  ASSIGN_OR_RETURN(Token token, client->ExchangeToken(request));

  std::string output;
  if (workload.format == "raw") {
    output = token.access_token + "\n";
  } else if (workload.format == "json") {
    output = TokenJson(token) + "\n";
  } else {
    output = absl::StrCat("WRIT_TOKEN=", token.access_token, "\nWRIT_TOKEN_EXPIRES_IN=",
                          absl::ToInt64Seconds(token.expires_at - token.issued_at),
                          "\nWRIT_TOKEN_SCOPE=", absl::StrJoin(token.scopes, " "), "\n");
  }
  return workload.Emit(env, output);
}

}  // namespace writ::cli

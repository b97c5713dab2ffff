#include "sdk/src/client/http_client.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sdk/src/client/oauth_error.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/base/status_macros.h"
#include "writ/net/fetch_url.h"

namespace writ {
namespace {

using client_internal::CleanToken;
using client_internal::OptionalString;
using client_internal::PercentEncode;
using client_internal::RequiredInt64;
using client_internal::RequiredString;

constexpr char kGrantType[] = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr char kJwtType[] = "urn:ietf:params:oauth:token-type:jwt";
constexpr char kPemCertificate[] = "-----BEGIN CERTIFICATE-----";
// The issuer refuses larger CSRs (CertificateRequest::kMaxBytes); an SSH
// public key line is far shorter.
constexpr size_t kMaxCsrBytes = 64 * 1024;
constexpr size_t kMaxSshKeyBytes = 16 * 1024;
// Writ caps every lifetime at 366 days; a longer expires_in is not Writ's.
constexpr int64_t kMaxExpiresIn = 366 * 86400;

// Unusable turns a defect of a 200 answer into kUnavailable: Writ (or
// something in front of it) answered, but not with what it promises.
absl::Status Unusable(absl::string_view what, const absl::Status& why) {
  return absl::UnavailableError(
      absl::StrCat("the issuer answered without a usable ", what, ": ", why.message()));
}

absl::StatusOr<std::string> LifetimeParameter(std::optional<absl::Duration> lifetime) {
  if (!lifetime.has_value()) return std::string();
  if (*lifetime < absl::Seconds(1) || *lifetime == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("lifetime must be at least 1s and finite, not ",
                                                   absl::FormatDuration(*lifetime)));
  }
  return absl::StrCat(absl::ToInt64Seconds(*lifetime));
}

absl::Status CheckScope(absl::string_view scope) {
  if (scope.empty()) return absl::InvalidArgumentError("a scope is empty");
  for (char c : scope) {
    // RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      return absl::InvalidArgumentError(absl::StrCat("scope \"", internal::Printable(scope),
                                                     "\" has a character RFC 6749 does not allow"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Token> ParseTokenReply(absl::string_view body, const TokenRequest& request,
                                      absl::Time now) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(client_internal::ParseJsonReply(body, "the answer", &doc));
  Token token;
  ASSIGN_OR_RETURN(token.access_token, RequiredString(doc, "access_token"));
  RETURN_IF_ERROR(CleanToken(token.access_token, "\"access_token\"").status());
  RETURN_IF_ERROR(RequiredString(doc, "issued_token_type").status());
  ASSIGN_OR_RETURN(token.token_type, RequiredString(doc, "token_type"));
  if (!absl::EqualsIgnoreCase(token.token_type, "Bearer")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"token_type\" is \"", internal::Printable(token.token_type), "\", not Bearer"));
  }
  ASSIGN_OR_RETURN(int64_t expires_in, RequiredInt64(doc, "expires_in"));
  if (expires_in <= 0) return absl::InvalidArgumentError("\"expires_in\" is not positive");
  if (expires_in > kMaxExpiresIn) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"expires_in\" is over a year (", expires_in, " s)"));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> scope, OptionalString(doc, "scope"));
  // RFC 8693 2.2.1: scope may be left out when it is what was asked for.
  if (scope.has_value()) {
    token.scopes = absl::StrSplit(*scope, ' ', absl::SkipEmpty());
  } else {
    token.scopes = request.scopes;
  }
  token.issued_at = now;
  token.expires_at = now + absl::Seconds(expires_in);
  return token;
}

absl::StatusOr<X509SvidReply> ParseSvidReply(absl::string_view body) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(client_internal::ParseJsonReply(body, "the answer", &doc));
  X509SvidReply out;
  ASSIGN_OR_RETURN(out.spiffe_id, RequiredString(doc, "spiffe_id"));
  ASSIGN_OR_RETURN(out.certificate_chain_pem, RequiredString(doc, "x509_svid", /*multiline=*/true));
  ASSIGN_OR_RETURN(out.bundle_pem, RequiredString(doc, "bundle", /*multiline=*/true));
  ASSIGN_OR_RETURN(out.serial, RequiredString(doc, "serial"));
  ASSIGN_OR_RETURN(int64_t expires_at, RequiredInt64(doc, "expires_at"));
  if (!absl::StrContains(out.certificate_chain_pem, kPemCertificate)) {
    return absl::InvalidArgumentError("\"x509_svid\" holds no PEM certificate");
  }
  if (!absl::StrContains(out.bundle_pem, kPemCertificate)) {
    return absl::InvalidArgumentError("\"bundle\" holds no PEM certificate");
  }
  out.expires_at = absl::FromUnixSeconds(expires_at);
  return out;
}

absl::StatusOr<SshCertificateReply> ParseSshReply(absl::string_view body) {
  rapidjson::Document doc;
  RETURN_IF_ERROR(client_internal::ParseJsonReply(body, "the answer", &doc));
  SshCertificateReply out;
  ASSIGN_OR_RETURN(out.certificate, RequiredString(doc, "certificate"));
  if (absl::StrContains(out.certificate, "\n")) {
    return absl::InvalidArgumentError("\"certificate\" is not one line");
  }
  ASSIGN_OR_RETURN(out.key_id, RequiredString(doc, "key_id"));
  ASSIGN_OR_RETURN(int64_t expires_at, RequiredInt64(doc, "expires_at"));
  out.expires_at = absl::FromUnixSeconds(expires_at);
  const rapidjson::Value* principals = internal::FindMember(doc, "principals");
  if (principals == nullptr || !principals->IsArray()) {
    return absl::InvalidArgumentError("\"principals\" is missing or not an array");
  }
  for (const rapidjson::Value& p : principals->GetArray()) {
    if (!p.IsString() || p.GetStringLength() == 0 ||
        absl::StrContains(internal::AsStringView(p), ",") ||
        std::any_of(p.GetString(), p.GetString() + p.GetStringLength(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return absl::InvalidArgumentError("\"principals\" holds something other than a name");
    }
    out.principals.emplace_back(internal::AsStringView(p));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::New(ClientOptions options) {
  if (options.issuer_url.empty()) return absl::InvalidArgumentError("issuer_url is required");
  absl::StatusOr<FetchUrl> url = ParseFetchUrl(options.issuer_url);
  if (!url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("issuer_url must be an https:// URL (plain http only on a loopback host): ",
                     url.status().message()));
  }
  if (absl::StrContains(options.issuer_url, "?")) {
    return absl::InvalidArgumentError("issuer_url must not have a query");
  }
  if (options.attestation == nullptr) {
    return absl::InvalidArgumentError("attestation is required (an AttestationSource)");
  }
  if (options.timeout <= absl::ZeroDuration() || options.timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("timeout must be positive and finite");
  }
  if (options.fetcher != nullptr && !options.ca_pem.empty()) {
    return absl::InvalidArgumentError(
        "ca_pem applies to the client's own fetcher: with a fetcher given, configure its trust "
        "there");
  }
  if (options.attestation_audience.empty()) options.attestation_audience = options.issuer_url;
  return std::unique_ptr<Client>(new HttpClient(std::move(options)));
}

HttpClient::HttpClient(ClientOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &Clock::Real()),
      fetcher_(options_.fetcher, options_.ca_pem) {
  base_url_ = options_.issuer_url;
  while (absl::EndsWith(base_url_, "/")) base_url_.pop_back();
  absl::StatusOr<FetchUrl> url = ParseFetchUrl(base_url_);
  if (url.ok()) {
    const bool v6 = absl::StrContains(url->host, ":");
    host_ = absl::StrCat(v6 ? "[" : "", url->host, v6 ? "]" : "", ":", url->port);
  }
}

absl::StatusOr<std::string> HttpClient::Attest() {
  absl::StatusOr<std::string> token = options_.attestation->Token(options_.attestation_audience);
  if (!token.ok()) {
    return absl::Status(token.status().code(),
                        absl::StrCat("attestation from ", options_.attestation->Describe(),
                                     " failed: ", token.status().message()));
  }
  return CleanToken(*token, options_.attestation->Describe());
}

absl::StatusOr<std::string> HttpClient::Call(absl::string_view method, absl::string_view path,
                                             absl::string_view query,
                                             std::vector<std::string> headers, std::string body) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = absl::StrCat(base_url_, path, query.empty() ? "" : "?", query);
  request.headers = std::move(headers);
  request.body = std::move(body);
  absl::StatusOr<HttpResponse> reply =
      fetcher_.get()->Fetch(request, client_internal::LimitsFor(options_.timeout));
  if (!reply.ok()) {
    return absl::Status(reply.status().code(),
                        absl::StrCat("cannot reach ", host_, ": ", reply.status().message()));
  }
  if (reply->status != 200) return client_internal::ReplyError(*reply);
  return std::move(reply->body);
}

absl::StatusOr<Token> HttpClient::ExchangeToken(const TokenRequest& request) {
  for (const std::string& scope : request.scopes) RETURN_IF_ERROR(CheckScope(scope));
  ASSIGN_OR_RETURN(std::string lifetime, LifetimeParameter(request.lifetime));
  std::string actor;
  if (!request.actor_token.empty()) {
    ASSIGN_OR_RETURN(actor, CleanToken(request.actor_token, "actor_token"));
  }
  ASSIGN_OR_RETURN(std::string subject, Attest());
  std::vector<std::pair<std::string, std::string>> form = {
      {"grant_type", kGrantType},
      {"subject_token", std::move(subject)},
      {"subject_token_type", kJwtType},
  };
  if (!request.audience.empty()) form.emplace_back("audience", request.audience);
  if (!request.scopes.empty()) form.emplace_back("scope", absl::StrJoin(request.scopes, " "));
  if (!lifetime.empty()) form.emplace_back("requested_lifetime", lifetime);
  if (!actor.empty()) {
    form.emplace_back("actor_token", std::move(actor));
    form.emplace_back("actor_token_type", kJwtType);
  }
  ASSIGN_OR_RETURN(std::string body, Call("POST", "/oauth2/token", "",
                                          {"Content-Type: application/x-www-form-urlencoded"},
                                          client_internal::FormEncode(form)));
  absl::StatusOr<Token> token = ParseTokenReply(body, request, clock_->Now());
  if (!token.ok()) return Unusable("token", token.status());
  return token;
}

absl::StatusOr<X509SvidReply> HttpClient::MintX509Svid(absl::string_view csr_pem,
                                                       std::optional<absl::Duration> lifetime) {
  if (absl::StripAsciiWhitespace(csr_pem).empty()) {
    return absl::InvalidArgumentError("the CSR is empty");
  }
  if (csr_pem.size() > kMaxCsrBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the CSR is larger than ", kMaxCsrBytes, " bytes"));
  }
  ASSIGN_OR_RETURN(std::string seconds, LifetimeParameter(lifetime));
  const std::string query = seconds.empty() ? "" : absl::StrCat("lifetime=", seconds, "s");
  ASSIGN_OR_RETURN(std::string token, Attest());
  ASSIGN_OR_RETURN(std::string body, Call("POST", "/v1/x509-svid", query,
                                          {absl::StrCat("Authorization: Bearer ", token),
                                           "Content-Type: application/x-pem-file"},
                                          std::string(csr_pem)));
  absl::StatusOr<X509SvidReply> reply = ParseSvidReply(body);
  if (!reply.ok()) return Unusable("X.509-SVID", reply.status());
  return reply;
}

absl::StatusOr<SshCertificateReply> HttpClient::MintSshCertificate(
    absl::string_view public_key_line, const std::vector<std::string>& principals,
    std::optional<absl::Duration> lifetime) {
  const absl::string_view key = absl::StripAsciiWhitespace(public_key_line);
  if (key.empty()) return absl::InvalidArgumentError("the SSH public key is empty");
  if (key.size() > kMaxSshKeyBytes || absl::StrContains(key, "\n") ||
      absl::StrContains(key, "\r")) {
    return absl::InvalidArgumentError(
        "the SSH public key must be one OpenSSH public key line (\"ssh-ed25519 AAAA...\")");
  }
  std::vector<std::string> query;
  for (const std::string& p : principals) {
    if (p.empty()) return absl::InvalidArgumentError("a principal is empty");
    query.push_back(absl::StrCat("principal=", PercentEncode(p)));
  }
  ASSIGN_OR_RETURN(std::string seconds, LifetimeParameter(lifetime));
  if (!seconds.empty()) query.push_back(absl::StrCat("lifetime=", seconds, "s"));
  ASSIGN_OR_RETURN(std::string token, Attest());
  ASSIGN_OR_RETURN(std::string body,
                   Call("POST", "/v1/ssh-certificate", absl::StrJoin(query, "&"),
                        {absl::StrCat("Authorization: Bearer ", token), "Content-Type: text/plain"},
                        absl::StrCat(key, "\n")));
  absl::StatusOr<SshCertificateReply> reply = ParseSshReply(body);
  if (!reply.ok()) return Unusable("SSH certificate", reply.status());
  return reply;
}

absl::StatusOr<std::string> HttpClient::FetchBundlePem() {
  ASSIGN_OR_RETURN(std::string body,
                   Call("GET", "/v1/bundle.pem", "", {"Accept: application/x-pem-file"}, ""));
  if (!absl::StrContains(body, kPemCertificate)) {
    return absl::UnavailableError("the issuer answered a bundle without a PEM certificate");
  }
  return body;
}

}  // namespace writ

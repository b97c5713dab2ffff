#include "issuer/src/api/http_certificates.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "issuer/src/api/form_body.h"
#include "issuer/src/api/http_util.h"

namespace writ::issuer {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::Responder;
using http_internal::IsGet;
using http_internal::JsonAnswer;
using http_internal::JsonWriter;
using http_internal::MediaType;
using http_internal::MethodNotAllowed;
using http_internal::OAuthError;
using http_internal::Str;

constexpr char kSvidPath[] = "/v1/x509-svid";
constexpr char kSshPath[] = "/v1/ssh-certificate";

// BearerToken returns the token of "Authorization: Bearer <token>" (RFC
// 6750 2.1; the scheme is case-insensitive), or nullopt when the header is
// missing, repeated, of another scheme, or empty.
std::optional<std::string> BearerToken(const HttpRequest& req) {
  const std::string* header = nullptr;
  for (const auto& [name, value] : req.headers) {
    if (name != "authorization") continue;
    if (header != nullptr) return std::nullopt;  // repeated
    header = &value;
  }
  if (header == nullptr) return std::nullopt;
  absl::string_view value = absl::StripAsciiWhitespace(*header);
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()));
  if (token.empty() || absl::StrContains(token, ' ')) return std::nullopt;
  return std::string(token);
}

HttpResponse Unauthorized() {
  HttpResponse res = OAuthError(
      "invalid_request",
      "an \"Authorization: Bearer <OIDC token>\" header with the attestation is required");
  res.status = 401;
  res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"writ\"");
  return res;
}

// Query is a request's decoded query, checked: only `allowed` names, and
// "lifetime" at most once as a duration of at least one second.
struct Query {
  FormBody params;
  std::optional<absl::Duration> lifetime;
};

// ParseQuery parses and checks the query, or returns the error to answer.
absl::StatusOr<Query> ParseQuery(const HttpRequest& req, const std::set<std::string>& allowed) {
  Query q;
  // Empty pairs ("?a=1&", "?&a=1") are tolerated in a URL, unlike in a form.
  const std::string query = absl::StrJoin(absl::StrSplit(req.query, '&', absl::SkipEmpty()), "&");
  if (!query.empty()) {
    auto params = FormBody::Parse(query);
    if (!params.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("query: ", params.status().message()));
    }
    q.params = *std::move(params);
  }
  for (const auto& [name, value] : q.params.pairs()) {
    if (allowed.count(name) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown query parameter \"", name.substr(0, 64),
                       "\" (allowed: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  auto lifetime = q.params.Single("lifetime");
  if (!lifetime.ok()) return absl::InvalidArgumentError("lifetime must be given at most once");
  if (lifetime->has_value()) {
    absl::Duration d;
    if (!absl::ParseDuration(**lifetime, &d) || d < absl::Seconds(1) ||
        d == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError("lifetime must be a duration of at least 1s, such as 10m");
    }
    q.lifetime = std::min(d, absl::Hours(24 * 366));
  }
  return q;
}

HttpResponse Failure(const CertificateResult& r) {
  return OAuthError(r.oauth_error, r.status.message(), r.request_id);
}

// SvidAnswer renders the result of an X.509-SVID request.
HttpResponse SvidAnswer(const CertificateResult& r) {
  if (!r.status.ok()) return Failure(r);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "spiffe_id");
  Str(w, r.svid->spiffe_id);
  Str(w, "x509_svid");
  Str(w, absl::StrCat(r.svid->certificate_pem, r.chain_pem));
  Str(w, "bundle");
  Str(w, r.bundle_pem);
  Str(w, "serial");
  Str(w, r.svid->serial_hex);
  Str(w, "expires_at");
  w.Int64(absl::ToUnixSeconds(r.svid->not_after));
  Str(w, "rule");
  Str(w, r.rule);
  w.EndObject();
  return JsonAnswer(buf, r.request_id);
}

// SshAnswer renders the result of an SSH certificate request.
HttpResponse SshAnswer(const CertificateResult& r) {
  if (!r.status.ok()) return Failure(r);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "certificate");
  Str(w, r.ssh->certificate);
  Str(w, "principals");
  w.StartArray();
  for (const std::string& p : r.principals) Str(w, p);
  w.EndArray();
  Str(w, "serial");
  Str(w, absl::StrCat(r.ssh->serial));
  Str(w, "expires_at");
  w.Int64(absl::ToUnixSeconds(r.ssh->valid_before));
  Str(w, "key_id");
  Str(w, r.ssh_key_id);
  Str(w, "rule");
  Str(w, r.rule);
  w.EndObject();
  return JsonAnswer(buf, r.request_id);
}

// HandleSvid decodes an X.509-SVID request and issues it. The exchange hands
// the decision to the ledger and returns; the answer is sent from the
// ledger's thread once the decision is recorded.
void HandleSvid(const CertificateExchange* certificates, const HttpRequest& req, Responder res) {
  std::optional<std::string> token = BearerToken(req);
  if (!token.has_value()) return std::move(res).Send(Unauthorized());
  const std::string type = MediaType(req);
  if (type != "application/pkcs10" && type != "application/x-pem-file" && type != "text/plain") {
    return std::move(res).Send(
        OAuthError("invalid_request",
                   "Content-Type must be application/pkcs10, application/x-pem-file or "
                   "text/plain (the CSR)"));
  }
  auto query = ParseQuery(req, {"lifetime"});
  if (!query.ok()) {
    return std::move(res).Send(OAuthError("invalid_request", query.status().message()));
  }
  SvidExchangeRequest request;
  request.lifetime = query->lifetime;
  request.subject_token = *std::move(token);
  request.csr = req.body;
  certificates->IssueSvidAsync(
      request, {"http", req.remote_address},
      [res = std::move(res)](CertificateResult r) mutable { std::move(res).Send(SvidAnswer(r)); });
}

// HandleSsh decodes an SSH certificate request and issues it, answered as
// HandleSvid's.
void HandleSsh(const CertificateExchange* certificates, const HttpRequest& req, Responder res) {
  std::optional<std::string> token = BearerToken(req);
  if (!token.has_value()) return std::move(res).Send(Unauthorized());
  const std::string type = MediaType(req);
  if (type != "text/plain" && type != "application/octet-stream") {
    return std::move(res).Send(OAuthError(
        "invalid_request", "Content-Type must be text/plain (one OpenSSH public key line)"));
  }
  auto query = ParseQuery(req, {"lifetime", "principal"});
  if (!query.ok()) {
    return std::move(res).Send(OAuthError("invalid_request", query.status().message()));
  }
  SshExchangeRequest request;
  request.lifetime = query->lifetime;
  request.principals = query->params.All("principal");
  request.subject_token = *std::move(token);
  request.public_key = std::string(absl::StripAsciiWhitespace(req.body));
  certificates->IssueSshAsync(
      request, {"http", req.remote_address},
      [res = std::move(res)](CertificateResult r) mutable { std::move(res).Send(SshAnswer(r)); });
}

// ServeBundle answers what `render` makes of the published bundle.
template <typename Render>
HttpResponse ServeBundle(const KeyManager* keys, const char* content_type, Render render) {
  HttpResponse res;
  std::shared_ptr<const TrustBundle> bundle = keys->Bundle();
  if (bundle == nullptr) {
    res.status = 503;
    res.headers.emplace_back("Retry-After", "5");
    res.body = "no trust bundle is published\n";
    res.content_type = "text/plain";
    return res;
  }
  res.headers.emplace_back("Cache-Control", "public, max-age=60");
  res.body = render(*bundle);
  res.content_type = content_type;
  return res;
}

// IssueOnPool routes a certificate POST to `issue` on `pool`: attestation may
// block on a fetch of the attesting issuer's keys, which must not stall an
// I/O thread. The pool thread is free again once the decision is handed to
// the ledger; the answer goes out from the ledger's thread. A full pool is
// 503 at once, with nothing decided or recorded.
template <typename Issue>
http::Handler IssueOnPool(WorkPool* pool, const CertificateExchange* certificates, Issue issue) {
  return [pool, certificates, issue](HttpRequest req, Responder res) {
    if (req.method != "POST") return std::move(res).Send(MethodNotAllowed("POST", true));
    http_internal::OffloadOr503(pool, res,
                                [certificates, issue, req = std::move(req)](Responder res) mutable {
                                  issue(certificates, req, std::move(res));
                                });
  };
}

// GetOnly routes a GET endpoint answered by `answer()`.
template <typename Answer>
http::Handler GetOnly(Answer answer) {
  return [answer](HttpRequest req, Responder res) {
    if (!IsGet(req)) return std::move(res).Send(MethodNotAllowed("GET", false));
    std::move(res).Send(answer());
  };
}

}  // namespace

bool IsCertificatePostPath(absl::string_view path) { return path == kSvidPath || path == kSshPath; }

void RegisterCertificateRoutes(http::HttpServer& svr, WorkPool* pool,
                               const CertificateExchange* certificates, const KeyManager* keys) {
  if (certificates != nullptr) {
    svr.Handle(kSvidPath, IssueOnPool(pool, certificates, HandleSvid));
    svr.Handle(kSshPath, IssueOnPool(pool, certificates, HandleSsh));
  }
  svr.Handle("/v1/bundle", GetOnly([keys] {
               return ServeBundle(keys, "application/json", [](const TrustBundle& b) {
                 return SpiffeBundleJson(b, kBundleRefreshHint);
               });
             }));
  svr.Handle("/v1/bundle.pem", GetOnly([keys] {
               return ServeBundle(keys, "application/x-pem-file",
                                  [](const TrustBundle& b) { return X509BundlePem(b); });
             }));
  svr.Handle("/v1/ssh/ca-keys", GetOnly([keys] {
               return ServeBundle(keys, "text/plain",
                                  [](const TrustBundle& b) { return SshCaKeysFile(b); });
             }));
}

}  // namespace writ::issuer

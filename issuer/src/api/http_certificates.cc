#include "issuer/src/api/http_certificates.h"

#include <httplib.h>

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
#include "issuer/src/api/http_util.h"

namespace writ::issuer {
namespace {

using http_internal::JsonWriter;
using http_internal::MediaType;
using http_internal::NoStore;
using http_internal::ReadBody;
using http_internal::SendOAuthError;
using http_internal::Str;

constexpr char kSvidPath[] = "/v1/x509-svid";
constexpr char kSshPath[] = "/v1/ssh-certificate";

// BearerToken returns the token of "Authorization: Bearer <token>" (RFC
// 6750 2.1; the scheme is case-insensitive), or nullopt when the header is
// missing, repeated, of another scheme, or empty.
std::optional<std::string> BearerToken(const httplib::Request& req) {
  if (req.get_header_value_count("Authorization") != 1) return std::nullopt;
  std::string header = req.get_header_value("Authorization");
  absl::string_view value = absl::StripAsciiWhitespace(header);
  constexpr absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  absl::string_view token = absl::StripLeadingAsciiWhitespace(value.substr(kScheme.size()));
  if (token.empty() || absl::StrContains(token, ' ')) return std::nullopt;
  return std::string(token);
}

void SendUnauthorized(httplib::Response& res) {
  SendOAuthError(res, "invalid_request",
                 "an \"Authorization: Bearer <OIDC token>\" header with the attestation is "
                 "required");
  res.status = 401;
  res.set_header("WWW-Authenticate", "Bearer realm=\"writ\"");
}

// QueryParams checks the query: only `allowed` names, and "lifetime" at most
// once as a duration of at least one second. Answers the error itself and
// returns false on a problem.
bool QueryParams(const httplib::Request& req, const std::set<std::string>& allowed,
                 std::optional<absl::Duration>* lifetime, httplib::Response& res) {
  for (const auto& [name, value] : req.params) {
    if (allowed.count(name) == 0) {
      SendOAuthError(res, "invalid_request",
                     absl::StrCat("unknown query parameter \"", name.substr(0, 64),
                                  "\" (allowed: ", absl::StrJoin(allowed, ", "), ")"));
      return false;
    }
  }
  if (req.get_param_value_count("lifetime") > 1) {
    SendOAuthError(res, "invalid_request", "lifetime must be given at most once");
    return false;
  }
  if (req.has_param("lifetime")) {
    absl::Duration d;
    if (!absl::ParseDuration(req.get_param_value("lifetime"), &d) || d < absl::Seconds(1) ||
        d == absl::InfiniteDuration()) {
      SendOAuthError(res, "invalid_request",
                     "lifetime must be a duration of at least 1s, such as 10m");
      return false;
    }
    *lifetime = std::min(d, absl::Hours(24 * 366));
  }
  return true;
}

void SendFailure(httplib::Response& res, const CertificateResult& r) {
  SendOAuthError(res, r.oauth_error, r.status.message(), r.request_id);
}

void SendJson(httplib::Response& res, const rapidjson::StringBuffer& buf,
              const std::string& request_id) {
  NoStore(res);
  res.set_header("X-Request-Id", request_id);
  res.set_content(buf.GetString(), buf.GetSize(), "application/json");
}

void HandleSvid(const CertificateExchange* certificates, const httplib::Request& req,
                const std::string& body, httplib::Response& res) {
  std::optional<std::string> token = BearerToken(req);
  if (!token.has_value()) return SendUnauthorized(res);
  const std::string type = MediaType(req);
  if (type != "application/pkcs10" && type != "application/x-pem-file" && type != "text/plain") {
    return SendOAuthError(res, "invalid_request",
                          "Content-Type must be application/pkcs10, application/x-pem-file or "
                          "text/plain (the CSR)");
  }
  SvidExchangeRequest request;
  if (!QueryParams(req, {"lifetime"}, &request.lifetime, res)) return;
  request.subject_token = *std::move(token);
  request.csr = body;
  CertificateResult r = certificates->IssueSvid(request, {"http", req.remote_addr});
  if (!r.status.ok()) return SendFailure(res, r);
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
  SendJson(res, buf, r.request_id);
}

void HandleSsh(const CertificateExchange* certificates, const httplib::Request& req,
               const std::string& body, httplib::Response& res) {
  std::optional<std::string> token = BearerToken(req);
  if (!token.has_value()) return SendUnauthorized(res);
  const std::string type = MediaType(req);
  if (type != "text/plain" && type != "application/octet-stream") {
    return SendOAuthError(res, "invalid_request",
                          "Content-Type must be text/plain (one OpenSSH public key line)");
  }
  SshExchangeRequest request;
  if (!QueryParams(req, {"lifetime", "principal"}, &request.lifetime, res)) return;
  auto range = req.params.equal_range("principal");
  for (auto it = range.first; it != range.second; ++it) request.principals.push_back(it->second);
  request.subject_token = *std::move(token);
  request.public_key = std::string(absl::StripAsciiWhitespace(body));
  CertificateResult r = certificates->IssueSsh(request, {"http", req.remote_addr});
  if (!r.status.ok()) return SendFailure(res, r);
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
  SendJson(res, buf, r.request_id);
}

// ServeBundle answers what `render` makes of the published bundle.
template <typename Render>
void ServeBundle(const KeyManager* keys, httplib::Response& res, const char* content_type,
                 Render render) {
  std::shared_ptr<const TrustBundle> bundle = keys->Bundle();
  if (bundle == nullptr) {
    res.status = 503;
    res.set_header("Retry-After", "5");
    res.set_content("no trust bundle is published\n", "text/plain");
    return;
  }
  res.set_header("Cache-Control", "public, max-age=60");
  res.set_content(render(*bundle), content_type);
}

void ReadAndHandle(const httplib::ContentReader& read, httplib::Response& res,
                   const std::function<void(const std::string&)>& handle) {
  std::string body;
  if (ReadBody(read, res, &body)) handle(body);
}

}  // namespace

bool IsCertificatePostPath(absl::string_view path) { return path == kSvidPath || path == kSshPath; }

void RegisterCertificateRoutes(httplib::Server& svr, const CertificateExchange* certificates,
                               const KeyManager* keys) {
  if (certificates != nullptr) {
    // ContentReader handlers: the body is read under the server's payload
    // limit, and httplib does not parse it.
    svr.Post(kSvidPath, [certificates](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& read) {
      ReadAndHandle(read, res,
                    [&](const std::string& body) { HandleSvid(certificates, req, body, res); });
    });
    svr.Post(kSshPath, [certificates](const httplib::Request& req, httplib::Response& res,
                                      const httplib::ContentReader& read) {
      ReadAndHandle(read, res,
                    [&](const std::string& body) { HandleSsh(certificates, req, body, res); });
    });
    for (const char* path : {kSvidPath, kSshPath}) {
      svr.Get(path, [](const httplib::Request&, httplib::Response& res) {
        SendOAuthError(res, "invalid_request", "this endpoint takes POST");
        res.status = 405;
        res.set_header("Allow", "POST");
      });
    }
  }
  svr.Get("/v1/bundle", [keys](const httplib::Request&, httplib::Response& res) {
    ServeBundle(keys, res, "application/json",
                [](const TrustBundle& b) { return SpiffeBundleJson(b, kBundleRefreshHint); });
  });
  svr.Get("/v1/bundle.pem", [keys](const httplib::Request&, httplib::Response& res) {
    ServeBundle(keys, res, "application/x-pem-file",
                [](const TrustBundle& b) { return X509BundlePem(b); });
  });
  svr.Get("/v1/ssh/ca-keys", [keys](const httplib::Request&, httplib::Response& res) {
    ServeBundle(keys, res, "text/plain", [](const TrustBundle& b) { return SshCaKeysFile(b); });
  });
}

}  // namespace writ::issuer

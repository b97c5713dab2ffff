#include "issuer/src/api/http_api.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "issuer/src/api/form_body.h"
#include "issuer/src/api/http_certificates.h"
#include "issuer/src/api/http_util.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace writ::issuer {
namespace http_internal {

void NoStore(HttpResponse& res) {
  res.headers.emplace_back("Cache-Control", "no-store");
  res.headers.emplace_back("Pragma", "no-cache");
}

HttpResponse OAuthError(absl::string_view error, absl::string_view description,
                        absl::string_view request_id) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "error");
  Str(w, error);
  Str(w, "error_description");
  Str(w, description);
  if (!request_id.empty()) {
    Str(w, "request_id");
    Str(w, request_id);
  }
  w.EndObject();
  HttpResponse res;
  res.status = OAuthHttpStatus(error);
  NoStore(res);
  if (res.status == 503) res.headers.emplace_back("Retry-After", "1");
  if (!request_id.empty()) res.headers.emplace_back("X-Request-Id", std::string(request_id));
  res.body.assign(buf.GetString(), buf.GetSize());
  res.content_type = "application/json";
  return res;
}

HttpResponse JsonAnswer(const rapidjson::StringBuffer& buf, const std::string& request_id) {
  HttpResponse res;
  NoStore(res);
  res.headers.emplace_back("X-Request-Id", request_id);
  res.body.assign(buf.GetString(), buf.GetSize());
  res.content_type = "application/json";
  return res;
}

std::string MediaType(const HttpRequest& req) {
  const std::string* header = req.Header("content-type");
  if (header == nullptr) return "";
  std::string type = absl::AsciiStrToLower(*header);
  return std::string(absl::StripAsciiWhitespace(absl::string_view(type).substr(0, type.find(';'))));
}

HttpResponse MethodNotAllowed(absl::string_view allow, bool oauth) {
  HttpResponse res;
  if (oauth) {
    res = OAuthError("invalid_request", absl::StrCat("this endpoint takes ", allow));
  } else {
    res.body = absl::StrCat("this endpoint takes ", allow, "\n");
    res.content_type = "text/plain";
  }
  res.status = 405;
  res.headers.emplace_back("Allow", std::string(allow));
  return res;
}

}  // namespace http_internal

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

bool IsFormContentType(const HttpRequest& req) {
  return MediaType(req) == "application/x-www-form-urlencoded";
}

// DecodeTokenRequest turns the form into an ExchangeRequest, or an OAuth
// error code with a description.
bool DecodeTokenRequest(const FormBody& form, ExchangeRequest* out, std::string* error,
                        std::string* description) {
  auto single = [&](absl::string_view name, std::string* value) {
    auto v = form.Single(name);
    if (!v.ok()) {
      *error = "invalid_request";
      *description = std::string(v.status().message());
      return false;
    }
    if (v->has_value()) *value = **v;
    return true;
  };
  std::string grant_type, scope, lifetime;
  if (!single("grant_type", &grant_type) || !single("subject_token", &out->subject_token) ||
      !single("subject_token_type", &out->subject_token_type) || !single("scope", &scope) ||
      !single("requested_token_type", &out->requested_token_type) ||
      !single("actor_token", &out->actor_token) ||
      !single("actor_token_type", &out->actor_token_type) ||
      !single("requested_lifetime", &lifetime)) {
    return false;
  }
  if (grant_type.empty()) {
    *error = "invalid_request";
    *description = "grant_type is required";
    return false;
  }
  if (grant_type != kGrantTypeTokenExchange) {
    *error = "unsupported_grant_type";
    *description = absl::StrCat("grant_type must be ", kGrantTypeTokenExchange);
    return false;
  }
  if (out->subject_token_type.empty()) {
    *error = "invalid_request";
    *description = "subject_token_type is required";
    return false;
  }
  for (const char* name : {"audience", "resource"}) {
    for (std::string& a : form.All(name)) out->audiences.push_back(std::move(a));
  }
  for (absl::string_view s : absl::StrSplit(scope, ' ', absl::SkipEmpty())) {
    out->scopes.emplace_back(s);
  }
  if (!lifetime.empty()) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(lifetime, &seconds) || seconds <= 0) {
      *error = "invalid_request";
      *description = "requested_lifetime must be a positive number of seconds";
      return false;
    }
    out->lifetime = absl::Seconds(std::min<int64_t>(seconds, 366 * 86400));
  }
  return true;
}

// TokenAnswer renders an exchange's result.
HttpResponse TokenAnswer(const ExchangeResult& result) {
  if (!result.status.ok()) {
    return OAuthError(result.oauth_error, result.status.message(), result.request_id);
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Str(w, "access_token");
  Str(w, result.minted.token);
  Str(w, "issued_token_type");
  Str(w, kTokenTypeAccessToken);
  Str(w, "token_type");
  Str(w, "Bearer");
  Str(w, "expires_in");
  w.Int64(absl::ToInt64Seconds(result.minted.expires_at - result.minted.issued_at));
  Str(w, "scope");
  std::string scopes = absl::StrJoin(result.scopes, " ");
  Str(w, scopes);
  w.EndObject();
  return JsonAnswer(buf, result.request_id);
}

// HandleToken runs on the I/O thread: the exchange runs there too while the
// attesting issuers' keys are at hand, and moves to `pool` when they must be
// fetched. The answer is sent from the ledger's writer once the decision is
// durable.
void HandleToken(const TokenExchange* exchange, WorkPool* pool, const HttpRequest& req,
                 Responder res) {
  auto form = FormBody::Parse(req.body);
  if (!form.ok()) {
    return std::move(res).Send(OAuthError("invalid_request", form.status().message()));
  }
  ExchangeRequest request;
  std::string error, description;
  if (!DecodeTokenRequest(*form, &request, &error, &description)) {
    return std::move(res).Send(OAuthError(error, description));
  }
  exchange->ExchangeNonBlocking(
      request, {"http", req.remote_address},
      [res = std::move(res)](ExchangeResult result) mutable {
        std::move(res).Send(TokenAnswer(result));
      },
      [pool](WorkPool::Task task) { return pool->TrySubmit(std::move(task)); });
}

}  // namespace

int OAuthHttpStatus(absl::string_view e) {
  if (e == "temporarily_unavailable") return 503;
  if (e == "server_error") return 500;
  if (e == "invalid_client") return 401;
  return 400;
}

std::string DiscoveryDocument(absl::string_view issuer_url, bool certificate_endpoints) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  auto member = [&w](absl::string_view k, absl::string_view v) {
    Str(w, k);
    Str(w, v);
  };
  auto list = [&w](absl::string_view k, std::initializer_list<absl::string_view> vs) {
    Str(w, k);
    w.StartArray();
    for (absl::string_view v : vs) Str(w, v);
    w.EndArray();
  };
  w.StartObject();
  member("issuer", issuer_url);
  member("jwks_uri", absl::StrCat(issuer_url, "/jwks"));
  member("token_endpoint", absl::StrCat(issuer_url, "/oauth2/token"));
  list("grant_types_supported", {kGrantTypeTokenExchange});
  list("response_types_supported", {"token"});
  list("subject_types_supported", {"public"});
  list("id_token_signing_alg_values_supported", {"ES256"});
  list("token_endpoint_auth_methods_supported", {"none"});
  list("token_types_supported", {kTokenTypeAccessToken});
  // Writ's own metadata (RFC 8414 section 2 allows additional members).
  member("spiffe_bundle_endpoint", absl::StrCat(issuer_url, "/v1/bundle"));
  member("x509_bundle_endpoint", absl::StrCat(issuer_url, "/v1/bundle.pem"));
  member("ssh_ca_keys_endpoint", absl::StrCat(issuer_url, "/v1/ssh/ca-keys"));
  if (certificate_endpoints) {
    member("x509_svid_endpoint", absl::StrCat(issuer_url, "/v1/x509-svid"));
    member("ssh_certificate_endpoint", absl::StrCat(issuer_url, "/v1/ssh-certificate"));
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

absl::StatusOr<std::unique_ptr<HttpApi>> HttpApi::Bind(const ListenerConfig& listener,
                                                       const LimitsConfig& limits) {
  auto api = std::unique_ptr<HttpApi>(new HttpApi());
  api->limits_ = limits;
  http::HttpServerOptions options;
  options.host = listener.host;
  options.port = listener.port;
  options.tls_cert_file = listener.tls_cert_file;
  options.tls_key_file = listener.tls_key_file;
  options.max_header_bytes = limits.max_header_bytes;
  options.max_body_bytes = limits.max_body_bytes;
  options.max_connections = limits.max_http_connections;
  options.io_threads =
      limits.http_io_threads > 0
          ? limits.http_io_threads
          : std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 8);
  // Short read and idle timeouts bound what a slow or idle client can hold.
  options.read_timeout = absl::Seconds(3);
  options.idle_timeout = absl::Seconds(2);
  options.write_timeout = absl::Seconds(10);
  // The server's own refusals (413, 400, ...) on the POST endpoints are OAuth
  // errors like every other answer there.
  options.error_response = [](absl::string_view path, int status, absl::string_view reason) {
    HttpResponse res;
    if (path == "/oauth2/token" || IsCertificatePostPath(path)) {
      res = OAuthError("invalid_request", reason);
    } else {
      res.body = absl::StrCat(reason, "\n");
      res.content_type = "text/plain";
    }
    res.status = status;
    return res;
  };
  auto server = http::HttpServer::Bind(options);
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("cannot bind HTTP on ", listener.host, ":", listener.port,
                                     ": ", server.status().message()));
  }
  api->server_ = *std::move(server);
  return api;
}

int HttpApi::port() const { return server_->port(); }

void HttpApi::Serve(const std::string& issuer_url, const TokenExchange* exchange,
                    const CertificateExchange* certificates, const KeyManager* keys,
                    ReadinessCheck readiness, ReadinessCheck details) {
  // Work that may block (attestation that must fetch an issuer's keys, and
  // certificate issuance, whose attestation may) runs here, off the I/O
  // threads; none of it waits for the ledger.
  const int threads = limits_.http_threads > 0
                          ? limits_.http_threads
                          : std::max(8, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  pool_ = std::make_unique<WorkPool>(threads, /*max_queued=*/4096);
  WorkPool* pool = pool_.get();
  http::HttpServer& svr = *server_;

  std::string discovery = DiscoveryDocument(issuer_url, certificates != nullptr);
  auto serve_discovery = [discovery](HttpRequest req, Responder res) {
    if (!IsGet(req)) return std::move(res).Send(MethodNotAllowed("GET", false));
    HttpResponse out;
    out.headers.emplace_back("Cache-Control", "public, max-age=300");
    out.body = discovery;
    out.content_type = "application/json";
    std::move(res).Send(std::move(out));
  };
  svr.Handle("/.well-known/openid-configuration", serve_discovery);
  svr.Handle("/.well-known/oauth-authorization-server", serve_discovery);
  svr.Handle("/jwks", [keys](HttpRequest req, Responder res) {
    if (!IsGet(req)) return std::move(res).Send(MethodNotAllowed("GET", false));
    HttpResponse out;
    out.headers.emplace_back("Cache-Control", "public, max-age=60");
    out.body = keys->PublicJwks();
    out.content_type = "application/jwk-set+json";
    std::move(res).Send(std::move(out));
  });
  svr.Handle("/oauth2/token", [exchange, pool](HttpRequest req, Responder res) {
    if (req.method != "POST") return std::move(res).Send(MethodNotAllowed("POST", true));
    if (!IsFormContentType(req)) {
      return std::move(res).Send(
          OAuthError("invalid_request", "Content-Type must be application/x-www-form-urlencoded"));
    }
    HandleToken(exchange, pool, req, std::move(res));
  });
  RegisterCertificateRoutes(svr, pool, certificates, keys);
  svr.Handle("/healthz", [](HttpRequest req, Responder res) {
    if (!IsGet(req)) return std::move(res).Send(MethodNotAllowed("GET", false));
    std::move(res).Send({200, {}, "ok\n", "text/plain"});
  });
  svr.Handle("/readyz", [readiness, details](HttpRequest req, Responder res) {
    if (!IsGet(req)) return std::move(res).Send(MethodNotAllowed("GET", false));
    std::vector<std::string> problems = readiness ? readiness() : std::vector<std::string>{};
    HttpResponse out;
    out.body = problems.empty() ? std::string("ready\n")
                                : absl::StrCat("not ready: ", absl::StrJoin(problems, "; "), "\n");
    if (details) {
      for (const std::string& line : details()) absl::StrAppend(&out.body, "  ", line, "\n");
    }
    if (!problems.empty()) out.status = 503;
    out.content_type = "text/plain";
    std::move(res).Send(std::move(out));
  });
  svr.Start();
}

void HttpApi::Stop() {
  if (server_) server_->Stop();
  // Requests still queued would be decided, minted and recorded for nobody:
  // drop them; the ones running finish (their answers go nowhere).
  if (pool_) pool_->DropQueued();
  pool_.reset();
}

HttpApi::~HttpApi() { Stop(); }

}  // namespace writ::issuer

#include "issuer/src/api/http_api.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>

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

void NoStore(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
}

void SendOAuthError(httplib::Response& res, absl::string_view error, absl::string_view description,
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
  res.status = OAuthHttpStatus(error);
  NoStore(res);
  if (res.status == 503) res.set_header("Retry-After", "1");
  if (!request_id.empty()) res.set_header("X-Request-Id", std::string(request_id));
  res.set_content(buf.GetString(), buf.GetSize(), "application/json");
}

std::string MediaType(const httplib::Request& req) {
  std::string type = absl::AsciiStrToLower(req.get_header_value("Content-Type"));
  return std::string(absl::StripAsciiWhitespace(absl::string_view(type).substr(0, type.find(';'))));
}

bool ReadBody(const httplib::ContentReader& read, httplib::Response& res, std::string* body) {
  const bool complete = read([body](const char* data, size_t n) {
    body->append(data, n);
    return true;
  });
  if (complete) return true;
  // httplib has set 413 (over max_body_bytes) or 400 (broken body).
  const int status = res.status == 413 ? 413 : 400;
  SendOAuthError(res, "invalid_request",
                 status == 413 ? "request body too large" : "the request body cannot be read");
  res.status = status;
  return false;
}

}  // namespace http_internal

namespace {

using http_internal::JsonWriter;
using http_internal::MediaType;
using http_internal::NoStore;
using http_internal::SendOAuthError;
using http_internal::Str;

bool IsFormContentType(const httplib::Request& req) {
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

void HandleToken(const TokenExchange* exchange, const httplib::Request& req,
                 const std::string& body, httplib::Response& res) {
  if (!IsFormContentType(req)) {
    return SendOAuthError(res, "invalid_request",
                          "Content-Type must be application/x-www-form-urlencoded");
  }
  auto form = FormBody::Parse(body);
  if (!form.ok()) return SendOAuthError(res, "invalid_request", form.status().message());
  ExchangeRequest request;
  std::string error, description;
  if (!DecodeTokenRequest(*form, &request, &error, &description)) {
    return SendOAuthError(res, error, description);
  }
  ExchangeResult result = exchange->Exchange(request, {"http", req.remote_addr});
  if (!result.status.ok()) {
    return SendOAuthError(res, result.oauth_error, result.status.message(), result.request_id);
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
  NoStore(res);
  res.set_header("X-Request-Id", result.request_id);
  res.set_content(buf.GetString(), buf.GetSize(), "application/json");
}

size_t HeaderBytes(const httplib::Request& req) {
  size_t n = 0;
  for (const auto& [k, v] : req.headers) n += k.size() + v.size() + 4;
  return n;
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
  if (!listener.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(listener.tls_cert_file.c_str(),
                                                    listener.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("HTTP TLS certificate ",
                                                     listener.tls_cert_file, " or key ",
                                                     listener.tls_key_file, " cannot be used"));
    }
    api->server_ = std::move(tls);
  } else {
    api->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *api->server_;
  // httplib's default sets SO_REUSEPORT, which lets a second issuer bind the
  // same port and silently take half the traffic. SO_REUSEADDR alone only
  // allows a restart while old connections linger in TIME_WAIT.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // httplib sends the headers and the body of a response in separate
  // send()s; with Nagle on, the body waits for the client's delayed ACK
  // (40 ms on Linux), capping a keep-alive connection at ~25 requests/s.
  // Accepted sockets inherit the option from the listening socket, so it is
  // set before binding.
  svr.set_tcp_nodelay(true);
  if (listener.port == 0) {
    api->port_ = svr.bind_to_any_port(listener.host);
    if (api->port_ <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot bind HTTP on ", listener.host));
    }
  } else {
    if (!svr.bind_to_port(listener.host, listener.port)) {
      return absl::UnavailableError(
          absl::StrCat("cannot bind HTTP on ", listener.host, ":", listener.port, " (in use?)"));
    }
    api->port_ = listener.port;
  }
  return api;
}

void HttpApi::Serve(const std::string& issuer_url, const TokenExchange* exchange,
                    const CertificateExchange* certificates, const KeyManager* keys,
                    ReadinessCheck readiness, ReadinessCheck details) {
  httplib::Server& svr = *server_;
  const LimitsConfig& limits = limits_;
  int threads = limits.http_threads > 0
                    ? limits.http_threads
                    : std::max(64, 8 * static_cast<int>(std::thread::hardware_concurrency()));
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(limits.max_body_bytes);
  // httplib holds one pool thread per connection: short read and idle
  // timeouts bound what a slow or idle client can take from others.
  svr.set_keep_alive_max_count(1000);
  svr.set_keep_alive_timeout(2);
  svr.set_read_timeout(3, 0);
  svr.set_write_timeout(10, 0);
  const size_t max_header_bytes = limits.max_header_bytes;
  svr.set_pre_routing_handler(
      [max_header_bytes](const httplib::Request& req, httplib::Response& res) {
        if (HeaderBytes(req) > max_header_bytes) {
          res.status = 431;
          res.set_content("request headers too large\n", "text/plain");
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });

  std::string discovery = DiscoveryDocument(issuer_url, certificates != nullptr);
  auto serve_discovery = [discovery](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=300");
    res.set_content(discovery, "application/json");
  };
  svr.Get("/.well-known/openid-configuration", serve_discovery);
  svr.Get("/.well-known/oauth-authorization-server", serve_discovery);
  svr.Get("/jwks", [keys](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=60");
    res.set_content(keys->PublicJwks(), "application/jwk-set+json");
  });
  // A ContentReader handler: Debian's httplib would otherwise parse (and cap
  // at 8 KiB) form bodies itself; we read the body and parse it strictly.
  svr.Post("/oauth2/token", [exchange](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& read) {
    std::string body;
    if (!http_internal::ReadBody(read, res, &body)) return;
    HandleToken(exchange, req, body, res);
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if ((req.path != "/oauth2/token" && !IsCertificatePostPath(req.path)) || !res.body.empty()) {
      return;
    }
    const int status = res.status;
    SendOAuthError(res, "invalid_request",
                   status == 413 ? "request body too large" : "malformed HTTP request");
    res.status = status;
  });
  svr.Get("/oauth2/token", [](const httplib::Request&, httplib::Response& res) {
    SendOAuthError(res, "invalid_request", "the token endpoint takes POST");
    res.status = 405;
    res.set_header("Allow", "POST");
  });
  RegisterCertificateRoutes(svr, certificates, keys);
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  svr.Get("/readyz", [readiness, details](const httplib::Request&, httplib::Response& res) {
    std::vector<std::string> problems = readiness ? readiness() : std::vector<std::string>{};
    std::string body = problems.empty()
                           ? std::string("ready\n")
                           : absl::StrCat("not ready: ", absl::StrJoin(problems, "; "), "\n");
    if (details) {
      for (const std::string& line : details()) absl::StrAppend(&body, "  ", line, "\n");
    }
    if (!problems.empty()) res.status = 503;
    res.set_content(body, "text/plain");
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        SendOAuthError(res, "server_error", "internal error");
      });

  thread_ = std::thread([&svr] { svr.listen_after_bind(); });
  // httplib 0.11 drops a stop() that comes before its accept loop runs, so
  // Serve returns only once it does.
  for (int i = 0; i < 5000 && !svr.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpApi::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

HttpApi::~HttpApi() { Stop(); }

}  // namespace writ::issuer

#include "examples/common/protected_api.h"

#include <signal.h>

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace writ::examples {
namespace {

std::string JsonError(absl::string_view error, absl::string_view description) {
  std::string escaped;
  for (char c : description) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) escaped.push_back(c);
  }
  return absl::StrCat(R"({"error":")", error, R"(","error_description":")", escaped, R"("})");
}

}  // namespace

ProtectedApi::ProtectedApi(std::unique_ptr<TokenVerifier> verifier)
    : verifier_(std::move(verifier)) {}

ProtectedApi::~ProtectedApi() { Stop(); }

void ProtectedApi::Handle(const std::string& method, const std::string& path,
                          const std::string& scope, Handler handler) {
  auto serve = [this, scope, handler = std::move(handler), path](const httplib::Request& req,
                                                                 httplib::Response& res) {
    absl::StatusOr<VerifiedToken> token =
        verifier_->VerifyAuthorizationHeader(req.get_header_value("Authorization"), {scope});
    if (!token.ok()) {
      const absl::StatusCode code = token.status().code();
      const bool forbidden = code == absl::StatusCode::kPermissionDenied;
      const bool down = code == absl::StatusCode::kUnavailable;
      res.status = forbidden ? 403 : down ? 503 : 401;
      const char* error = forbidden ? "insufficient_scope" : "invalid_token";
      if (!down) {
        res.set_header("WWW-Authenticate",
                       absl::StrCat("Bearer error=\"", error, "\"",
                                    forbidden ? absl::StrCat(", scope=\"", scope, "\"") : ""));
      }
      res.set_content(JsonError(down ? "temporarily_unavailable" : error, token.status().message()),
                      "application/json");
      std::cout << req.method << " " << path << " refused (" << res.status
                << "): " << token.status().message() << std::endl;
      return;
    }
    absl::StatusOr<std::string> body = handler(*token, req);
    std::cout << req.method << " " << path << " by " << token->subject
              << (token->actor ? absl::StrCat(" through ", *token->actor) : "")
              << (body.ok() ? "" : absl::StrCat(" refused: ", body.status().message()))
              << std::endl;
    if (!body.ok()) {
      res.status = 403;
      res.set_content(JsonError("access_denied", body.status().message()), "application/json");
      return;
    }
    res.set_content(*body, "application/json");
  };
  if (method == "POST") {
    server_.Post(path, serve);
  } else {
    server_.Get(path, serve);
  }
}

int ProtectedApi::Start(const std::string& host, int port) {
  const int bound =
      port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, port) ? port : -1);
  if (bound < 0) return -1;
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::yield();
  return bound;
}

void ProtectedApi::Wait() {
  if (thread_.joinable()) thread_.join();
}

void ProtectedApi::Stop() {
  server_.stop();
  Wait();
}

int ServeUntilSignal(ProtectedApi& api, const std::string& name, int port) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  const int bound = api.Start("127.0.0.1", port);
  if (bound < 0) {
    std::cerr << name << ": cannot listen on 127.0.0.1:" << port << "\n";
    return 1;
  }
  std::cout << name << " listening on http://127.0.0.1:" << bound << std::endl;
  int sig = 0;
  sigwait(&stop, &sig);
  api.Stop();
  return 0;
}

}  // namespace writ::examples

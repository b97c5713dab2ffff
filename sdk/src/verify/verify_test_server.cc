#include "sdk/src/verify/verify_test_server.h"

#include <httplib.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace writ::test {

StandInWrit::StandInWrit() : server_(std::make_unique<httplib::Server>()) {
  auto serve = [this](std::atomic<int>* counter, auto body, const char* type) {
    return [this, counter, body, type](const httplib::Request&, httplib::Response& res) {
      ++*counter;
      if (down_.load()) {
        res.status = 503;
        res.set_content("down", "text/plain");
        return;
      }
      res.set_content(body(), type);
    };
  };
  server_->Get("/.well-known/openid-configuration",
               serve(
                   &discovery_requests_,
                   [this] {
                     return absl::StrCat(R"({"issuer":")", issuer_, R"(","jwks_uri":")", issuer_,
                                         R"(/jwks"})");
                   },
                   "application/json"));
  server_->Get("/jwks", serve(
                            &jwks_requests_,
                            [this] {
                              absl::MutexLock lock(&mu_);
                              return jwks_;
                            },
                            "application/json"));
  server_->Get("/v1/bundle.pem", serve(
                                     &bundle_requests_,
                                     [this] {
                                       absl::MutexLock lock(&mu_);
                                       return bundle_pem_;
                                     },
                                     "application/x-pem-file"));
  const int port = server_->bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::fprintf(stderr, "StandInWrit: cannot bind 127.0.0.1:0\n");
    std::abort();
  }
  issuer_ = absl::StrCat("http://127.0.0.1:", port);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::yield();
}

StandInWrit::~StandInWrit() {
  server_->stop();
  thread_.join();
}

void StandInWrit::SetJwks(absl::string_view jwks) {
  absl::MutexLock lock(&mu_);
  jwks_ = std::string(jwks);
}

void StandInWrit::SetBundlePem(absl::string_view pem) {
  absl::MutexLock lock(&mu_);
  bundle_pem_ = std::string(pem);
}

}  // namespace writ::test

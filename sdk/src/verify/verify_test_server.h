// StandInWrit: an httplib server on 127.0.0.1:0 that stands in for Writ's
// public endpoints in the verifier tests: discovery, the JWKS and the X.509
// bundle, with settable contents, an outage switch and request counters.
#ifndef WRIT_SDK_SRC_VERIFY_VERIFY_TEST_SERVER_H_
#define WRIT_SDK_SRC_VERIFY_VERIFY_TEST_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace httplib {
class Server;
}

namespace writ::test {

// StandInWrit serves, at issuer() = "http://127.0.0.1:PORT":
//   GET /.well-known/openid-configuration  {"issuer": issuer(), "jwks_uri": issuer() + "/jwks"}
//   GET /jwks                              jwks(), as set
//   GET /v1/bundle.pem                     bundle_pem(), as set
// and HTTP 503 to everything while SetDown(true). Thread-safe.
class StandInWrit {
 public:
  StandInWrit();
  ~StandInWrit();

  const std::string& issuer() const { return issuer_; }

  void SetJwks(absl::string_view jwks);
  void SetBundlePem(absl::string_view pem);
  void SetDown(bool down) { down_.store(down); }

  // Request counters, answered or refused alike.
  int discovery_requests() const { return discovery_requests_.load(); }
  int jwks_requests() const { return jwks_requests_.load(); }
  int bundle_requests() const { return bundle_requests_.load(); }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string issuer_;
  std::atomic<bool> down_{false};
  std::atomic<int> discovery_requests_{0};
  std::atomic<int> jwks_requests_{0};
  std::atomic<int> bundle_requests_{0};
  mutable absl::Mutex mu_;
  std::string jwks_ ABSL_GUARDED_BY(mu_) = R"({"keys":[]})";
  std::string bundle_pem_ ABSL_GUARDED_BY(mu_);
};

}  // namespace writ::test

#endif  // WRIT_SDK_SRC_VERIFY_VERIFY_TEST_SERVER_H_

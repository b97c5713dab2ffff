// Test helpers of the client tests: an httplib server on 127.0.0.1:0
// standing in for a token endpoint (GitHub's runner, Azure IMDS, Writ), and
// a status matcher.
#ifndef WRIT_SDK_SRC_CLIENT_CLIENT_TEST_UTIL_H_
#define WRIT_SDK_SRC_CLIENT_CLIENT_TEST_UTIL_H_

#include <httplib.h>

#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "tests/testing/status_test_util.h"

namespace writ::testing_internal {

// IsError matches an absl::Status or StatusOr with `code` whose message
// contains `part`.
MATCHER_P2(IsError, code, part, "") {
  const absl::Status& s = ::writ::test::StatusOf(arg);
  *result_listener << "status is " << s;
  return s.code() == code && absl::StrContains(s.message(), part);
}

// StandInServer: register routes on server() before Start().
class StandInServer {
 public:
  StandInServer() = default;
  StandInServer(const StandInServer&) = delete;
  StandInServer& operator=(const StandInServer&) = delete;
  ~StandInServer() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

  httplib::Server& server() { return server_; }

  // Start binds 127.0.0.1:0 and serves from a thread; returns once the
  // accept loop runs (httplib 0.11 loses a stop() that comes earlier).
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }

  std::string Url(absl::string_view path = "") const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace writ::testing_internal

#endif  // WRIT_SDK_SRC_CLIENT_CLIENT_TEST_UTIL_H_

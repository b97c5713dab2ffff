// End to end, over HTTP and over gRPC: a trusted issuer that never answers
// its key fetch does not stall exchanges for another issuer. Exchanges run on
// the HTTP event loop (gRPC's callback thread) while keys are at hand and move
// to the work pool to wait for a fetch; at most kMaxFetchWaitersPerIssuer of
// them wait for one issuer, the rest are told to retry at once.
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/issuer_fixture.h"
#include "tests/testing/grpc_call.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::integration {
namespace {

// BlackHole listens on 127.0.0.1 and never accepts: the kernel completes
// connections into the backlog, and a request sent there is never answered.
class BlackHole {
 public:
  BlackHole() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(fd_, 64) != 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~BlackHole() {
    if (fd_ >= 0) close(fd_);
  }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Outcome is an exchange's answer, whichever transport carried it.
struct Outcome {
  bool issued = false;       // HTTP 200 / gRPC OK with an access token
  bool unavailable = false;  // HTTP 503 / gRPC UNAVAILABLE
  std::string oauth_error;
  std::string message;  // HTTP body / gRPC status message
};

class SlowIssuerTest : public IssuerFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void TearDown() override {
    tokens_.reset();
    channel_.reset();
    IssuerFixture::TearDown();
  }

  Outcome Run(const std::string& token) {
    Outcome out;
    if (GetParam() == "http") {
      HttpResult r = Exchange(token, kDeployAudience, "deploy:write");
      out.issued = r.status == 200 && JsonHas(r.body, "access_token");
      out.unavailable = r.status == 503;
      out.oauth_error = JsonString(r.body, "error").value_or("");
      out.message = r.body;
      return out;
    }
    std::shared_ptr<v1::TokenService::Stub> stub;
    {
      absl::MutexLock lock(&mu_);
      if (tokens_ == nullptr) {
        channel_ = grpc::CreateChannel(grpc_target(), grpc::InsecureChannelCredentials());
        tokens_ = v1::TokenService::NewStub(channel_);
      }
      stub = tokens_;
    }
    v1::ExchangeTokenRequest req;
    req.set_subject_token(token);
    req.set_subject_token_type(kIdTokenType);
    req.set_audience(std::string(kDeployAudience));
    req.add_scopes("deploy:write");
    v1::ExchangeTokenResponse resp;
    test::GrpcCall call =
        test::CallGrpc([&](grpc::ClientContext* c) { return stub->ExchangeToken(c, req, &resp); },
                       std::chrono::seconds(20));
    out.issued = call.status.ok() && !resp.access_token().empty();
    out.unavailable = call.status.error_code() == grpc::StatusCode::UNAVAILABLE;
    out.oauth_error = call.oauth_error;
    out.message = call.status.error_message();
    return out;
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<v1::TokenService::Stub> tokens_ ABSL_GUARDED_BY(mu_);
};

INSTANTIATE_TEST_SUITE_P(Transports, SlowIssuerTest, ::testing::Values("http", "grpc"),
                         [](const auto& info) { return info.param; });

TEST_P(SlowIssuerTest, AHangingIssuerDoesNotStallAnotherIssuersExchanges) {
  BlackHole hole;
  issuer::TrustedIssuerConfig slow{.name = "slow", .issuer = hole.url(), .audiences = {"writ"}};
  slow.connect_timeout = absl::Seconds(1);
  slow.fetch_timeout = absl::Seconds(4);  // the warm-up fetch hangs this long
  FixtureOptions options;
  options.extra_issuers = {slow};
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  const std::string slow_token = MintCi(absl::StrCat(R"({"iss":")", hole.url(), R"("})"));

  // Many requests for the hanging issuer at once: two wait for its fetch on
  // pool threads, the others are told to retry.
  constexpr int kSlow = 8;
  std::atomic<int> slow_done{0};
  std::vector<Outcome> slow_results(kSlow);
  std::vector<std::thread> slow_threads;
  for (int i = 0; i < kSlow; ++i) {
    slow_threads.emplace_back([&, i] {
      slow_results[i] = Run(slow_token);
      ++slow_done;
    });
  }
  // Meanwhile the other issuer's exchanges are answered, and before the
  // hanging fetch gives up (the waiters are still out).
  for (int i = 0; i < 5; ++i) {
    Outcome r = Run(MintCi());
    EXPECT_TRUE(r.issued) << r.message;
  }
  EXPECT_LT(slow_done.load(), kSlow) << "the hanging issuer's waiters returned early";
  for (std::thread& t : slow_threads) t.join();

  // Every slow request is told to retry (503 / UNAVAILABLE), never given a
  // credential, never left hanging.
  int busy = 0;
  for (const Outcome& r : slow_results) {
    EXPECT_TRUE(r.unavailable) << r.message;
    EXPECT_FALSE(r.issued);
    EXPECT_EQ(r.oauth_error, "temporarily_unavailable") << r.message;
    if (absl::StrContains(r.message, "being fetched; try again")) ++busy;
  }
  EXPECT_GE(busy, kSlow - 2 - 1);  // beyond the waiters (and one late arrival)
}

}  // namespace
}  // namespace writ::integration

// End to end: a trusted issuer that never answers its key fetch does not
// stall exchanges for another issuer. Exchanges run on the HTTP event loop
// while keys are at hand and move to the work pool to wait for a fetch; at
// most kMaxFetchWaitersPerIssuer of them wait for one issuer, the rest are
// told to retry at once.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/issuer_fixture.h"

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

class SlowIssuerTest : public IssuerFixture {};

TEST_F(SlowIssuerTest, AHangingIssuerDoesNotStallAnotherIssuersExchanges) {
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
  std::vector<HttpResult> slow_results(kSlow);
  std::vector<std::thread> slow_threads;
  for (int i = 0; i < kSlow; ++i) {
    slow_threads.emplace_back([&, i] {
      slow_results[i] = Exchange(slow_token, kDeployAudience, "deploy:write");
      ++slow_done;
    });
  }
  // Meanwhile the other issuer's exchanges are answered, and before the
  // hanging fetch gives up (the waiters are still out).
  for (int i = 0; i < 5; ++i) {
    HttpResult r = Exchange(MintCi(), kDeployAudience, "deploy:write");
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(JsonHas(r.body, "access_token")) << r.body;
  }
  EXPECT_LT(slow_done.load(), kSlow) << "the hanging issuer's waiters returned early";
  for (std::thread& t : slow_threads) t.join();

  // Every slow request is a 503 to retry, never a credential or a hang.
  int busy = 0;
  for (const HttpResult& r : slow_results) {
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(JsonString(r.body, "error"), "temporarily_unavailable") << r.body;
    if (absl::StrContains(r.body, "being fetched; try again")) ++busy;
  }
  EXPECT_GE(busy, kSlow - 2 - 1);  // beyond the waiters (and one late arrival)
}

}  // namespace
}  // namespace writ::integration

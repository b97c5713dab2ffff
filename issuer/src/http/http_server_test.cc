// HttpServer over real loopback sockets with libcurl: routing, keep-alive,
// HEAD, answers from other threads, dropped Responders, concurrency, Stop.
#include "issuer/src/http/http_server.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/http/http_test_util.h"
#include "tests/testing/status_test_util.h"

namespace writ::issuer::http {
namespace {

using testing::CurlClient;
using testing::CurlResult;
using ::testing::HasSubstr;
using testing::RawSocket;

class HttpServerTest : public ::testing::Test {
 protected:
  ~HttpServerTest() override {
    server_.reset();
    absl::MutexLock lock(&mu_);
    for (std::thread& t : threads_) t.join();
  }

  // StartServer binds `options` (port 0) with the routes below and starts.
  void StartServer(HttpServerOptions options = {}) {
    auto server = HttpServer::Bind(options);
    ASSERT_OK(server);
    server_ = *std::move(server);
    server_->Handle("/echo", [](HttpRequest req, Responder res) {
      HttpResponse r;
      r.body = absl::StrCat(req.method, " ", req.path, "?", req.query, " [", req.body, "]");
      r.content_type = "text/plain";
      r.headers.emplace_back("X-Remote", req.remote_address);
      if (const std::string* v = req.Header("x-test")) r.headers.emplace_back("X-Echo", *v);
      std::move(res).Send(std::move(r));
    });
    server_->Handle("/later", [this](HttpRequest req, Responder res) {
      // Answer from another thread, 50 ms later.
      absl::MutexLock lock(&mu_);
      threads_.emplace_back([req = std::move(req), res = std::move(res)]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::move(res).Send({202, {}, "later " + req.body, "text/plain"});
      });
    });
    server_->Handle("/drop", [](HttpRequest, Responder) {});
    server_->Handle("/twice", [](HttpRequest, Responder res) {
      Responder moved = std::move(res);
      std::move(moved).Send({200, {}, "first", ""});
      std::move(moved).Send({201, {}, "second", ""});    // does nothing
      std::move(res).Send({202, {}, "moved-from", ""});  // does nothing
    });
    server_->Start();
  }

  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }

  std::unique_ptr<HttpServer> server_;
  absl::Mutex mu_;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

TEST_F(HttpServerTest, GetAndPostReachTheHandler) {
  StartServer();
  CurlClient client;
  CurlResult get = client.Request("GET", Url("/echo?a=1"), "", {"X-Test: hi"});
  ASSERT_EQ(get.status, 200) << get.error;
  EXPECT_EQ(get.body, "GET /echo?a=1 []");
  EXPECT_EQ(get.headers["x-echo"], "hi");
  EXPECT_EQ(get.headers["x-remote"], "127.0.0.1");
  EXPECT_EQ(get.headers["content-type"], "text/plain");
  EXPECT_EQ(get.headers["content-length"], "16");
  EXPECT_EQ(get.headers.count("server"), 0u);
  CurlResult post = client.Request("POST", Url("/echo"), "a=b&c=d");
  ASSERT_EQ(post.status, 200) << post.error;
  EXPECT_EQ(post.body, "POST /echo? [a=b&c=d]");
}

TEST_F(HttpServerTest, KeepAliveReusesOneConnection) {
  StartServer();
  CurlClient client;
  long connects = 0;
  for (int i = 0; i < 5; ++i) {
    CurlResult r = client.Request(i % 2 ? "POST" : "GET", Url("/echo"), "x");
    ASSERT_EQ(r.status, 200) << r.error;
    connects += r.connects;
  }
  EXPECT_EQ(connects, 1);
}

TEST_F(HttpServerTest, UnknownPathIs404) {
  StartServer();
  CurlClient client;
  CurlResult r = client.Request("GET", Url("/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("no such path"));
  // Routing is by exact path: neither a prefix nor a trailing slash matches.
  EXPECT_EQ(client.Request("GET", Url("/echo/")).status, 404);
  EXPECT_EQ(client.Request("GET", Url("/ech")).status, 404);
}

TEST_F(HttpServerTest, HeadGetsHeadersWithoutBody) {
  StartServer();
  RawSocket s(server_->port());
  ASSERT_TRUE(
      s.Send("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\n"
             "Connection: close\r\n\r\n"));
  const std::string all = s.ReadUntilClosed(std::chrono::seconds(3));
  // The HEAD answer names the GET body's length but sends none: the next
  // bytes are the second response.
  // (The echo names the method: "HEAD /echo? []" is 14 bytes.)
  EXPECT_THAT(all,
              HasSubstr("Content-Length: 14\r\nConnection: keep-alive\r\n\r\nHTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(all, HasSubstr("\r\n\r\nGET /echo? []"));
  CurlClient client;
  CurlResult head = client.Request("HEAD", Url("/echo"));
  EXPECT_EQ(head.status, 200) << head.error;
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.headers["content-length"], "14");
}

TEST_F(HttpServerTest, HandlerAnswersFromAnotherThreadLater) {
  StartServer();
  CurlClient client;
  for (int i = 0; i < 3; ++i) {
    CurlResult r = client.Request("POST", Url("/later"), absl::StrCat("n", i));
    ASSERT_EQ(r.status, 202) << r.error;
    EXPECT_EQ(r.body, absl::StrCat("later n", i));
  }
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  StartServer();
  CurlClient client;
  CurlResult r = client.Request("GET", Url("/drop"));
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.body, HasSubstr("did not answer"));
  // The connection stays usable.
  CurlResult next = client.Request("GET", Url("/echo"));
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.connects, 0);
}

TEST_F(HttpServerTest, OnlyTheFirstSendCounts) {
  StartServer();
  CurlClient client;
  CurlResult r = client.Request("GET", Url("/twice"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "first");
  EXPECT_EQ(client.Request("GET", Url("/echo")).status, 200);
}

TEST_F(HttpServerTest, ManyConcurrentClientsAllAnsweredCorrectly) {
  HttpServerOptions options;
  options.io_threads = 2;
  StartServer(options);
  constexpr int kThreads = 32, kRequests = 50;
  std::atomic<int> ok{0};
  std::atomic<long> connects{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      CurlClient client;
      for (int i = 0; i < kRequests; ++i) {
        const std::string body = absl::StrCat(t, "-", i);
        CurlResult r = client.Request("POST", Url("/echo"), body);
        if (r.status == 200 && r.body == absl::StrCat("POST /echo? [", body, "]")) ++ok;
        connects += r.connects;
      }
    });
  }
  for (std::thread& c : clients) c.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_EQ(connects.load(), kThreads);
}

TEST_F(HttpServerTest, StopWaitsForAnAnswerInFlightThenRefusesConnections) {
  auto server = HttpServer::Bind({});
  ASSERT_OK(server);
  server_ = *std::move(server);
  absl::Notification handling;
  std::thread answerer;
  server_->Handle("/slow", [&](HttpRequest, Responder res) {
    answerer = std::thread([res = std::move(res)]() mutable {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      std::move(res).Send({200, {}, "made it", "text/plain"});
    });
    handling.Notify();
  });
  server_->Start();
  const int port = server_->port();
  RawSocket s(port);
  ASSERT_TRUE(s.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  RawSocket idle(port);  // connected, nothing sent: closed by Stop at once
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE(handling.WaitForNotificationWithTimeout(absl::Seconds(3)));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop(absl::Seconds(5));
  const auto took = std::chrono::steady_clock::now() - start;
  answerer.join();
  const std::string response = s.ReadUntilClosed(std::chrono::seconds(1));
  EXPECT_EQ(testing::StatusOf(response), 200) << response;
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(response, HasSubstr("made it"));
  EXPECT_LT(took, std::chrono::seconds(2));
  EXPECT_GE(idle.WaitClosed(std::chrono::milliseconds(100)).count(), 0);
  RawSocket after(port);
  EXPECT_FALSE(after.ok());
  EXPECT_EQ(after.connect_errno(), ECONNREFUSED);
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, StopGivesUpAfterGraceAndLateSendsAreHarmless) {
  auto server = HttpServer::Bind({});
  ASSERT_OK(server);
  server_ = *std::move(server);
  Responder kept;
  absl::Notification handling;
  server_->Handle("/never", [&](HttpRequest, Responder res) {
    kept = std::move(res);
    handling.Notify();
  });
  server_->Start();
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(handling.WaitForNotificationWithTimeout(absl::Seconds(3)));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop(absl::Milliseconds(100));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(90));
  EXPECT_LT(took, std::chrono::seconds(1));
  bool closed = false;
  EXPECT_EQ(s.ReadUntilClosed(std::chrono::seconds(1), &closed), "");
  EXPECT_TRUE(closed);
  std::move(kept).Send({200, {}, "too late", ""});  // after Stop: nothing happens
  server_.reset();
  Responder orphan;
  std::move(orphan).Send({200, {}, "", ""});  // a default Responder does nothing
}

TEST_F(HttpServerTest, ResponderOutlivingTheServerIsHarmless) {
  auto server = HttpServer::Bind({});
  ASSERT_OK(server);
  server_ = *std::move(server);
  Responder kept;
  absl::Notification handling;
  server_->Handle("/keep", [&](HttpRequest, Responder res) {
    kept = std::move(res);
    handling.Notify();
  });
  server_->Start();
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /keep HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(handling.WaitForNotificationWithTimeout(absl::Seconds(3)));
  server_.reset();  // destroyed: no grace
  std::move(kept).Send({200, {}, "gone", ""});
}

TEST_F(HttpServerTest, NoFileDescriptorLeaks) {
  const int before = testing::OpenFds();
  {
    HttpServerOptions options;
    options.io_threads = 2;
    StartServer(options);
    {
      CurlClient client;
      for (int i = 0; i < 5; ++i) ASSERT_EQ(client.Request("GET", Url("/echo")).status, 200);
      RawSocket bad(server_->port());
      ASSERT_TRUE(bad.Send("BAD\r\n\r\n"));
      EXPECT_EQ(testing::StatusOf(bad.ReadUntilClosed(std::chrono::seconds(2))), 400);
      RawSocket half(server_->port());
      ASSERT_TRUE(half.Send("GET /echo HTTP/1.1\r\n"));
    }
    server_->Stop(absl::Seconds(1));
    server_.reset();
  }
  {
    // Bound and never started.
    auto server = HttpServer::Bind({});
    ASSERT_OK(server);
  }
  EXPECT_EQ(testing::OpenFds(), before);
}

TEST(HttpServerBindTest, RefusesBadOptions) {
  auto code = [](HttpServerOptions o) { return HttpServer::Bind(o).status().code(); };
  HttpServerOptions o;
  o.port = 70000;
  EXPECT_EQ(code(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.host = "example.com";
  EXPECT_EQ(code(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.tls_cert_file = "/x.pem";
  EXPECT_EQ(code(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.io_threads = 0;
  EXPECT_EQ(code(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.max_connections = 0;
  EXPECT_EQ(code(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.read_timeout = absl::ZeroDuration();
  EXPECT_EQ(code(o), absl::StatusCode::kInvalidArgument);
  o = {};
  o.max_header_bytes = 10;
  EXPECT_EQ(code(o), absl::StatusCode::kInvalidArgument);
}

TEST(HttpServerBindTest, SecondServerCannotShareThePort) {
  auto first = HttpServer::Bind({});
  ASSERT_OK(first);
  HttpServerOptions o;
  o.port = (*first)->port();
  auto second = HttpServer::Bind(o);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(absl::StrCat("127.0.0.1:", o.port)));
}

TEST(HttpServerBindTest, ListensOnIpv6AndLocalhost) {
  HttpServerOptions o;
  o.host = "localhost";
  auto v4 = HttpServer::Bind(o);
  ASSERT_OK(v4);
  (*v4)->Handle("/x", [](HttpRequest, Responder res) { std::move(res).Send({200, {}, "", ""}); });
  (*v4)->Start();
  CurlClient client;
  EXPECT_EQ(client.Request("GET", absl::StrCat("http://127.0.0.1:", (*v4)->port(), "/x")).status,
            200);
  o.host = "::1";
  auto v6 = HttpServer::Bind(o);
  if (!v6.ok()) GTEST_SKIP() << "no IPv6 loopback: " << v6.status();
  (*v6)->Handle("/x", [](HttpRequest req, Responder res) {
    std::move(res).Send({200, {}, req.remote_address, ""});
  });
  (*v6)->Start();
  CurlResult r = client.Request("GET", absl::StrCat("http://[::1]:", (*v6)->port(), "/x"));
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "::1");
}

}  // namespace
}  // namespace writ::issuer::http

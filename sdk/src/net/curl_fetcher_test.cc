#include "writ/net/curl_fetcher.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_test_util.h"
#include "writ/net/fetch_url.h"

namespace writ {
namespace {

using ::testing::HasSubstr;

// LoopbackServer is an httplib server on 127.0.0.1:0 with routes that
// misbehave in the ways the fetcher must survive.
class LoopbackServer {
 public:
  LoopbackServer() {
    server_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hello", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(1 << 20, 'x'), "application/json");
    });
    server_.Get("/big-chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/json",
                                       [](size_t offset, httplib::DataSink& sink) {
                                         if (offset >= (1u << 20)) {
                                           sink.done();
                                           return true;
                                         }
                                         const std::string chunk(16 * 1024, 'y');
                                         return sink.write(chunk.data(), chunk.size());
                                       });
    });
    server_.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("no", "text/plain");
    });
    server_.Get("/relative", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/ok", 302);
    });
    server_.Get("/absolute", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect(absl::StrCat("http://127.0.0.1:", port_, "/ok"), 301);
    });
    server_.Get("/twice", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/relative", 307);
    });
    server_.Get("/loop", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/loop", 302);
    });
    server_.Get("/other-host", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect(absl::StrCat("http://localhost:", port_, "/ok"), 302);
    });
    server_.Get("/other-address", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect(absl::StrCat("http://127.0.0.2:", port_, "/ok"), 302);
    });
    server_.Get("/other-port", [this](const httplib::Request&, httplib::Response& res) {
      res.set_redirect(absl::StrCat("http://127.0.0.1:", port_ + 1, "/ok"), 302);
    });
    server_.Get("/external", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("http://example.com/jwks", 302);
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(absl::StrCat(req.get_header_value("Content-Type"), "|",
                                   req.get_header_value("Authorization"), "|",
                                   req.get_header_value("Accept"), "|", req.body),
                      "text/plain");
    });
    server_.Get("/headers", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(
          absl::StrCat(req.get_header_value("Metadata"), "|", req.get_header_value("Accept"), "|",
                       req.get_header_value("User-Agent")),
          "text/plain");
    });
    server_.Post("/post-redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/ok", 307);
    });
    server_.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      release_.WaitForNotificationWithTimeout(absl::Seconds(10));
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~LoopbackServer() {
    if (!release_.HasBeenNotified()) release_.Notify();
    server_.stop();
    thread_.join();
  }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  int port() const { return port_; }
  absl::Notification release_;

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class CurlFetcherTest : public ::testing::Test {
 protected:
  void ExpectUnavailable(absl::string_view url, absl::string_view message_part,
                         FetchLimits limits = {}) {
    auto got = fetcher_.Get(url, limits);
    ASSERT_FALSE(got.ok()) << "status " << got->status;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr(std::string(message_part)));
  }
  LoopbackServer server_;
  CurlFetcher fetcher_;
};

TEST_F(CurlFetcherTest, FetchesBodyAndStatus) {
  ASSERT_OK_AND_ASSIGN(HttpResponse ok, fetcher_.Get(server_.Url("/ok"), {}));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hello");
  ASSERT_OK_AND_ASSIGN(HttpResponse missing, fetcher_.Get(server_.Url("/missing"), {}));
  EXPECT_EQ(missing.status, 404);
}

TEST_F(CurlFetcherTest, EnforcesSizeCap) {
  FetchLimits limits;
  limits.max_bytes = 1000;
  ExpectUnavailable(server_.Url("/big"), "exceeds 1000 bytes", limits);
  ExpectUnavailable(server_.Url("/big-chunked"), "exceeds 1000 bytes", limits);
  limits.max_bytes = 5;
  ASSERT_OK_AND_ASSIGN(HttpResponse exact, fetcher_.Get(server_.Url("/ok"), limits));
  EXPECT_EQ(exact.body, "hello");
  limits.max_bytes = 4;
  ExpectUnavailable(server_.Url("/ok"), "exceeds 4 bytes", limits);
}

TEST_F(CurlFetcherTest, FollowsSameOriginRedirects) {
  for (const char* path : {"/relative", "/absolute", "/twice"}) {
    SCOPED_TRACE(path);
    ASSERT_OK_AND_ASSIGN(HttpResponse got, fetcher_.Get(server_.Url(path), {}));
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, "hello");
  }
}

TEST_F(CurlFetcherTest, RefusesRedirectToAnotherOrigin) {
  ExpectUnavailable(server_.Url("/other-host"), "to http://localhost:");
  ExpectUnavailable(server_.Url("/other-address"), "to http://127.0.0.2:");
  ExpectUnavailable(server_.Url("/other-port"), "refused: only same scheme, host and port");
  ExpectUnavailable(server_.Url("/external"), "must use https");
}

TEST_F(CurlFetcherTest, RefusesRedirectLoops) {
  ExpectUnavailable(server_.Url("/loop"), "more than 3 redirects");
}

TEST_F(CurlFetcherTest, RefusesPlainHttpToNonLoopbackWithoutConnecting) {
  for (const char* url : {"http://example.com/jwks", "http://10.0.0.1/jwks",
                          "http://127.0.0.1.example.com/", "ftp://127.0.0.1/x",
                          "file:///etc/passwd", "https://user:pw@example.com/", "not a url", ""}) {
    SCOPED_TRACE(url);
    auto got = fetcher_.Get(url, {});
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << got.status();
  }
}

TEST_F(CurlFetcherTest, ClosedPortFailsFastWithUnavailable) {
  // Bind a port, then close it: nothing listens there.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  close(fd);

  const auto start = std::chrono::steady_clock::now();
  ExpectUnavailable(absl::StrCat("http://127.0.0.1:", port, "/jwks"),
                    absl::StrCat("connecting to 127.0.0.1:", port, " failed"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(CurlFetcherTest, TotalTimeoutAbortsAStalledServer) {
  FetchLimits limits;
  limits.total_timeout = absl::Milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  ExpectUnavailable(server_.Url("/stall"), "timed out", limits);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  server_.release_.Notify();
}

TEST_F(CurlFetcherTest, HttpsToAPlainHttpServerFailsWithUnavailable) {
  ExpectUnavailable(absl::StrCat("https://127.0.0.1:", server_.port(), "/ok"), "127.0.0.1");
}

TEST_F(CurlFetcherTest, PostsBodyAndHeaders) {
  HttpRequest request;
  request.method = "POST";
  request.url = server_.Url("/echo");
  request.headers = {"Content-Type: application/x-www-form-urlencoded",
                     "Authorization: Bearer abc"};
  request.body = "a=1&b=2";
  ASSERT_OK_AND_ASSIGN(HttpResponse got, fetcher_.Fetch(request, {}));
  EXPECT_EQ(got.status, 201);
  EXPECT_EQ(got.body, "application/x-www-form-urlencoded|Bearer abc|application/json|a=1&b=2");
}

TEST_F(CurlFetcherTest, SendsGivenHeadersAndUserAgent) {
  CurlFetcher::Options options;
  options.user_agent = "writ-test/1";
  CurlFetcher fetcher(options);
  HttpRequest request;
  request.url = server_.Url("/headers");
  request.headers = {"Metadata: true", "Accept: text/plain"};
  ASSERT_OK_AND_ASSIGN(HttpResponse got, fetcher.Fetch(request, {}));
  EXPECT_EQ(got.body, "true|text/plain|writ-test/1");
}

TEST_F(CurlFetcherTest, PostIsNeverRedirected) {
  HttpRequest request;
  request.method = "POST";
  request.url = server_.Url("/post-redirect");
  ASSERT_OK_AND_ASSIGN(HttpResponse got, fetcher_.Fetch(request, {}));
  EXPECT_EQ(got.status, 307);
}

TEST_F(CurlFetcherTest, RefusesOtherMethodsAndHeaderInjection) {
  HttpRequest request;
  request.method = "DELETE";
  request.url = server_.Url("/ok");
  EXPECT_EQ(fetcher_.Fetch(request, {}).status().code(), absl::StatusCode::kInvalidArgument);
  request.method = "GET";
  request.headers = {"X-A: b\r\nX-Injected: c"};
  EXPECT_EQ(fetcher_.Fetch(request, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CurlFetcherTest, MetadataHttpIsOnlyForTheMetadataAddress) {
  HttpRequest request;
  request.url = "http://10.1.2.3/metadata/identity/oauth2/token";
  request.allow_metadata_http = true;
  EXPECT_EQ(fetcher_.Fetch(request, {}).status().code(), absl::StatusCode::kInvalidArgument);
  request.url = "http://169.254.169.254/metadata/identity/oauth2/token";
  request.allow_metadata_http = false;
  EXPECT_EQ(fetcher_.Fetch(request, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_OK(ParseFetchUrl(request.url, /*allow_metadata_http=*/true));
}

TEST(FetchUrlTest, LoopbackHosts) {
  for (const char* host : {"localhost", "LOCALHOST", "127.0.0.1", "127.255.1.2", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"128.0.0.1", "10.0.0.1", "::2", "::", "example.com",
                           "localhost.example.com", "0.0.0.0", "[::1", ""}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(FetchUrlTest, ParsesOriginWithDefaultPorts) {
  ASSERT_OK_AND_ASSIGN(FetchUrl https, ParseFetchUrl("https://Token.Actions.example/x"));
  EXPECT_EQ(https.scheme, "https");
  EXPECT_EQ(https.host, "token.actions.example");
  EXPECT_EQ(https.port, 443);
  ASSERT_OK_AND_ASSIGN(FetchUrl v6, ParseFetchUrl("http://[::1]:8080/jwks"));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 8080);
  ASSERT_OK_AND_ASSIGN(FetchUrl local, ParseFetchUrl("http://localhost/realms/x"));
  EXPECT_EQ(local.port, 80);
  EXPECT_TRUE(https.SameOrigin(https));
  EXPECT_FALSE(https.SameOrigin(v6));
  EXPECT_FALSE(ParseFetchUrl("https://example.com/#frag").ok());
  EXPECT_FALSE(ParseFetchUrl("http://[::2]/").ok());
}

}  // namespace
}  // namespace writ

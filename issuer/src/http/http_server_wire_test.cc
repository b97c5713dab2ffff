// HttpServer over raw loopback sockets: every refusal in http_server.h's
// header comment, pipelining, split requests, 100-continue, HTTP/1.0,
// timeouts and max_connections.
#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "issuer/src/http/http_server.h"
#include "issuer/src/http/http_test_util.h"
#include "tests/testing/status_test_util.h"

namespace writ::issuer::http {
namespace {

using std::chrono::milliseconds;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using testing::RawSocket;
using ::testing::StartsWith;
using testing::StatusOf;

class HttpServerWireTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    options.max_header_bytes = 1024;
    options.max_body_bytes = 100;
    auto server = HttpServer::Bind(options);
    ASSERT_OK(server);
    server_ = *std::move(server);
    server_->Handle("/echo", [this](HttpRequest req, Responder res) {
      ++handled_;
      std::move(res).Send({200, {}, absl::StrCat(req.method, " [", req.body, "]"), "text/plain"});
    });
    server_->Handle("/big", [](HttpRequest, Responder res) {
      std::move(res).Send({200, {}, std::string(32 << 20, 'x'), "text/plain"});
    });
    server_->Start();
  }

  // Exchange sends `request` on a new connection and returns all it gets
  // until the server closes (or 3 s).
  std::string Exchange(absl::string_view request, bool* closed = nullptr) {
    RawSocket s(server_->port());
    EXPECT_TRUE(s.Send(request));
    return s.ReadUntilClosed(milliseconds(3000), closed);
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> handled_{0};
};

TEST_F(HttpServerWireTest, OversizedHeadersAre431AndClose) {
  StartServer();
  bool closed = false;
  const std::string response = Exchange(
      absl::StrCat("GET /echo HTTP/1.1\r\nHost: x\r\nX: ", std::string(1100, 'a'), "\r\n\r\n"),
      &closed);
  EXPECT_EQ(StatusOf(response), 431) << response;
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(closed);
  // Refused before the end of the head arrives.
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send(std::string(1100, 'G')));
  EXPECT_EQ(StatusOf(s.ReadUntilClosed(milliseconds(3000))), 431);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerWireTest, BodyOverTheLimitIs413WithoutRunningTheHandler) {
  StartServer();
  bool closed = false;
  const std::string response =
      Exchange(absl::StrCat("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n",
                            std::string(101, 'b')),
               &closed);
  EXPECT_EQ(StatusOf(response), 413) << response;
  EXPECT_TRUE(closed);
  // Exactly the limit is fine.
  const std::string ok = Exchange(absl::StrCat(
      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100\r\n\r\n",
      std::string(100, 'b')));
  EXPECT_EQ(StatusOf(ok), 200) << ok;
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(HttpServerWireTest, ErrorResponseRendersRefusalsWithTheRequestPath) {
  HttpServerOptions options;
  std::vector<std::string> seen;  // written on the I/O thread, read after Stop
  options.error_response = [&seen](absl::string_view path, int status, absl::string_view reason) {
    seen.push_back(absl::StrCat(path, " ", status));
    return HttpResponse{status,
                        {{"X-Refused", "yes"}},
                        absl::StrCat("{\"why\":\"", reason, "\"}"),
                        "application/json"};
  };
  StartServer(options);
  const std::string big = Exchange(absl::StrCat(
      "POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", std::string(101, 'b')));
  EXPECT_EQ(StatusOf(big), 413) << big;
  EXPECT_THAT(big, HasSubstr("X-Refused: yes"));
  EXPECT_THAT(big, HasSubstr("application/json"));
  EXPECT_THAT(big, HasSubstr("{\"why\":\"the body is larger than 100 bytes\"}"));
  // A request line that cannot be read has no path.
  EXPECT_EQ(StatusOf(Exchange("hello there\r\n\r\n")), 400);
  server_->Stop();
  EXPECT_EQ(seen, (std::vector<std::string>{"/echo 413", " 400"}));
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerWireTest, TransferEncodingIs501) {
  StartServer();
  const std::string response = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(response), 501) << response;
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerWireTest, BadOrConflictingContentLengthIs400) {
  StartServer();
  EXPECT_EQ(StatusOf(Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n1")),
            400);
  EXPECT_EQ(StatusOf(Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                              "Content-Length: 2\r\n\r\n12")),
            400);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerWireTest, GarbageRequestLineIs400) {
  StartServer();
  EXPECT_EQ(StatusOf(Exchange("hello there\r\n\r\n")), 400);
  EXPECT_EQ(StatusOf(Exchange(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\r\n\r\n", 12))), 400);
  EXPECT_EQ(StatusOf(Exchange("GET /echo HTTP/1.1\nHost: x\n\n")), 400);
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerWireTest, Http2Is505) {
  StartServer();
  EXPECT_EQ(StatusOf(Exchange("GET /echo HTTP/2.0\r\nHost: x\r\n\r\n")), 505);
  EXPECT_EQ(StatusOf(Exchange("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")), 505);
}

TEST_F(HttpServerWireTest, ExpectContinueGetsInterim100ThenTheAnswer) {
  StartServer();
  RawSocket s(server_->port());
  ASSERT_TRUE(
      s.Send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: 5\r\n\r\n"));
  EXPECT_EQ(s.ReadResponse(), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(s.Send("hello"));
  const std::string response = s.ReadResponse();
  EXPECT_EQ(StatusOf(response), 200) << response;
  EXPECT_THAT(response, EndsWith("POST [hello]"));
  // Over the limit: 413 instead of 100, and the body is never asked for.
  RawSocket big(server_->port());
  ASSERT_TRUE(
      big.Send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               "Content-Length: 1000\r\n\r\n"));
  EXPECT_EQ(StatusOf(big.ReadUntilClosed(milliseconds(3000))), 413);
}

TEST_F(HttpServerWireTest, PipelinedRequestsAnsweredInOrder) {
  StartServer();
  const std::string response = Exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none"
      "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntwo");
  const size_t first = response.find("POST [one]");
  const size_t missing = response.find("HTTP/1.1 404");
  const size_t second = response.find("POST [two]");
  ASSERT_NE(first, std::string::npos) << response;
  ASSERT_NE(missing, std::string::npos) << response;
  ASSERT_NE(second, std::string::npos) << response;
  EXPECT_LT(first, missing);
  EXPECT_LT(missing, second);
}

TEST_F(HttpServerWireTest, RequestSplitByteByByte) {
  StartServer();
  RawSocket s(server_->port());
  const std::string request =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd";
  for (char c : request) {
    ASSERT_TRUE(s.Send(std::string(1, c)));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const std::string response = s.ReadUntilClosed(milliseconds(3000));
  EXPECT_EQ(StatusOf(response), 200) << response;
  EXPECT_THAT(response, EndsWith("POST [abcd]"));
}

TEST_F(HttpServerWireTest, ReadTimeoutClosesAHalfSentRequest) {
  HttpServerOptions options;
  options.read_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n"));
  const milliseconds took = s.WaitClosed(milliseconds(3000));
  EXPECT_GE(took.count(), 150);
  EXPECT_LT(took.count(), 1000);
  // Trickling does not extend it: the whole request must arrive in time.
  RawSocket slow(server_->port());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10 && slow.Send("X"); ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_GE(slow.WaitClosed(milliseconds(3000)).count(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerWireTest, IdleKeepAliveClosedAfterIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(s.ReadResponse()), 200);
  const milliseconds took = s.WaitClosed(milliseconds(3000));
  EXPECT_GE(took.count(), 150);
  EXPECT_LT(took.count(), 1000);
}

TEST_F(HttpServerWireTest, PeerThatShutsItsSideAfterTheRequestIsClosedAfterTheAnswer) {
  HttpServerOptions options;
  options.idle_timeout = absl::Seconds(5);
  StartServer(options);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  s.ShutdownWrite();  // the request and the FIN arrive together
  EXPECT_EQ(StatusOf(s.ReadResponse()), 200);
  // Closed at once, not after idle_timeout.
  EXPECT_LT(s.WaitClosed(milliseconds(4000)).count(), 1000);
}

TEST_F(HttpServerWireTest, Http10ClosesUnlessKeepAlive) {
  StartServer();
  bool closed = false;
  const std::string response = Exchange("GET /echo HTTP/1.0\r\n\r\n", &closed);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(closed);

  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const std::string first = s.ReadResponse();
  EXPECT_EQ(StatusOf(first), 200);
  EXPECT_THAT(first, ::testing::Not(HasSubstr("Connection: close")));
  // Said, or a strict HTTP/1.0 client waits for the close.
  EXPECT_THAT(first, HasSubstr("Connection: keep-alive\r\n"));
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  EXPECT_EQ(StatusOf(s.ReadResponse()), 200);
}

TEST_F(HttpServerWireTest, ConnectionCloseIsHonoured) {
  StartServer();
  bool closed = false;
  const std::string response =
      Exchange("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &closed);
  EXPECT_EQ(StatusOf(response), 200);
  EXPECT_THAT(response, HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerWireTest, ConnectionsOverMaxAreClosedAtOnce) {
  HttpServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  auto a = std::make_unique<RawSocket>(server_->port());
  RawSocket b(server_->port());
  for (RawSocket* s : {a.get(), &b}) {
    ASSERT_TRUE(s->Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_EQ(StatusOf(s->ReadResponse()), 200);
  }
  RawSocket extra(server_->port());
  ASSERT_TRUE(extra.ok());
  EXPECT_GE(extra.WaitClosed(milliseconds(1000)).count(), 0);
  // The first two still work; once one is gone, a new connection is served.
  ASSERT_TRUE(a->Send("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(StatusOf(a->ReadUntilClosed(milliseconds(3000))), 200);
  a.reset();  // until the peer closes too, a closing connection still counts
  std::this_thread::sleep_for(milliseconds(50));
  RawSocket later(server_->port());
  ASSERT_TRUE(later.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(later.ReadResponse()), 200);
  ASSERT_TRUE(b.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(b.ReadResponse()), 200);
}

TEST_F(HttpServerWireTest, PeerVanishingMidRequestOrMidAnswerIsHarmless) {
  StartServer();
  {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\npartial"));
  }
  for (int i = 0; i < 20; ++i) {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(s.ReadResponse()), 200);
}

TEST_F(HttpServerWireTest, ResponseNotReadWithinWriteTimeoutIsClosed) {
  HttpServerOptions options;
  options.write_timeout = absl::Milliseconds(200);
  StartServer(options);
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(700));  // not reading: the socket buffers fill
  bool closed = false;
  const std::string got = s.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(StatusOf(got), 200);
  EXPECT_LT(got.size(), size_t{32 << 20});  // cut off before the end
}

TEST_F(HttpServerWireTest, PeerClosingDuringALargeResponseIsHarmless) {
  StartServer();
  for (int i = 0; i < 5; ++i) {
    RawSocket s(server_->port());
    ASSERT_TRUE(s.Send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_EQ(StatusOf(s.ReadAtLeast(100, milliseconds(3000))), 200);
  }  // closed with unread data: the server's next write meets a reset
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(s.ReadResponse()), 200);
}

TEST_F(HttpServerWireTest, MangledRequestsNeverHurtTheServer) {
  StartServer();
  const std::string valid =
      "POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
      "Connection: keep-alive\r\n\r\nhelloGET /echo HTTP/1.0\r\n\r\n";
  std::mt19937 rng(20261123);  // fixed: the same inputs every run
  for (int i = 0; i < 300; ++i) {
    std::string input = valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % input.size();
      switch (rng() % 3) {
        case 0:
          input[at] = static_cast<char>(rng());
          break;
        case 1:
          input.erase(at, 1 + rng() % 8);
          break;
        default:
          input.insert(at, std::string(1 + rng() % 4, static_cast<char>(rng())));
          break;
      }
      if (input.empty()) input = "x";
    }
    RawSocket s(server_->port());
    const size_t split = rng() % input.size();
    ASSERT_TRUE(s.Send(input.substr(0, split)));
    s.Send(input.substr(split));  // the server may have answered and closed already
    if (i % 10 == 0) s.ReadUntilClosed(milliseconds(50));
  }
  RawSocket s(server_->port());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(StatusOf(s.ReadResponse()), 200);
}

}  // namespace
}  // namespace writ::issuer::http

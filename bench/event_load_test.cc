// event_load.h against scripted loopback servers: an HTTP/1.1 server that
// splits, closes, refuses and mislabels on cue, and a gRPC++ TokenService
// that both gRPC drivers (gRPC++ callback and raw HTTP/2) run against. The
// raw driver's scripted h2c server is in grpc_raw_event_load_test.cc.
// Phases are short (0.1-0.3 s) real-time runs; assertions are on counts.
#include "bench/event_load.h"

#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "bench/start_lag_expect.h"
#include "gtest/gtest.h"
#include "writ/v1/writ.grpc.pb.h"

namespace writ::bench {
namespace {

using std::chrono::milliseconds;

// ScriptedHttpServer answers POSTs on 127.0.0.1 as its script says, given
// the request's number (0-based, over all connections) and its number on
// its connection.
class ScriptedHttpServer {
 public:
  enum class Reply { kOk, kOkThenClose, kUnavailable, kNoContentLength, kCloseUnanswered };
  using Script = std::function<Reply(int n, int on_connection)>;

  explicit ScriptedHttpServer(Script script, milliseconds delay = milliseconds(0))
      : script_(std::move(script)), delay_(delay) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 64) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~ScriptedHttpServer() {
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      absl::MutexLock lock(&mu_);
      for (int fd : open_) shutdown(fd, SHUT_RDWR);
    }
    for (std::thread& t : connections_) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  int requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  int connections() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(connections_.size());
  }
  std::vector<std::string> tokens() {
    absl::MutexLock lock(&mu_);
    return tokens_;
  }

 private:
  void Accept() {
    for (;;) {
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      absl::MutexLock lock(&mu_);
      open_.push_back(fd);
      connections_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void Serve(int fd) {
    std::string in;
    char buf[4096];
    for (int k = 0;; ++k) {
      // One request: head, then Content-Length bytes of body.
      size_t head_end, length = 0;
      while ((head_end = in.find("\r\n\r\n")) == std::string::npos ||
             in.size() < head_end + 4 + (length = ContentLength(in))) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) return Closed(fd);
        in.append(buf, n);
      }
      const std::string body = in.substr(head_end + 4, length);
      in.erase(0, head_end + 4 + length);
      int n;
      {
        absl::MutexLock lock(&mu_);
        n = requests_++;
        const size_t at = body.find("subject_token=");
        tokens_.push_back(
            at == std::string::npos ? "" : body.substr(at + 14, body.find('&', at) - at - 14));
      }
      std::this_thread::sleep_for(delay_);
      const Reply reply = script_(n, k);
      const std::string ok_body = R"({"access_token":"x.y.z","token_type":"Bearer"})";
      std::string out;
      switch (reply) {
        case Reply::kCloseUnanswered:
          return Closed(fd);
        case Reply::kOk:
        case Reply::kOkThenClose:
          out = absl::StrCat("HTTP/1.1 200 OK\r\nContent-Length: ", ok_body.size(),
                             reply == Reply::kOkThenClose ? "\r\nConnection: close" : "",
                             "\r\n\r\n", ok_body);
          break;
        case Reply::kUnavailable:
          out = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}";
          break;
        case Reply::kNoContentLength:
          out = "HTTP/1.1 200 OK\r\n\r\n";
          break;
      }
      // Three pieces, apart: the client reads the answer in parts.
      const size_t third = out.size() / 3;
      for (size_t from = 0; from < out.size(); from += third) {
        if (from > 0) std::this_thread::sleep_for(milliseconds(1));
        if (write(fd, out.data() + from, std::min(third, out.size() - from)) <= 0) {
          return Closed(fd);
        }
      }
      if (reply == Reply::kOkThenClose) return Closed(fd);
    }
  }

  static size_t ContentLength(const std::string& in) {
    const size_t at = in.find("Content-Length: ");
    size_t n = 0;
    if (at == std::string::npos ||
        !absl::SimpleAtoi(in.substr(at + 16, in.find("\r\n", at) - at - 16), &n)) {
      return 0;
    }
    return n;
  }

  void Closed(int fd) {
    absl::MutexLock lock(&mu_);
    open_.erase(std::find(open_.begin(), open_.end(), fd));
    close(fd);
  }

  Script script_;
  milliseconds delay_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<std::thread> connections_ ABSL_GUARDED_BY(mu_);
  std::vector<int> open_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> tokens_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
};

LoadPhase Phase(milliseconds length, double rate = 0) {
  LoadPhase p;
  p.start = LoadClock::now() + milliseconds(2);
  p.deadline = p.start + length;
  p.rate = rate;
  return p;
}

long Total(const LoadTally& t) { return static_cast<long>(t.latency_ns.size()); }

long Errors(const LoadTally& t) {
  long n = 0;
  for (const auto& [kind, count] : t.errors) n += count;
  return n;
}

std::unique_ptr<EventLoad> Http(int port, int clients, int threads = 1) {
  EventLoadOptions o;
  o.port = port;
  o.clients = clients;
  o.threads = threads;
  o.shape = {"https://api.example", "deploy:write"};
  auto load = NewHttpEventLoad(o);
  EXPECT_TRUE(load.ok()) << load.status();
  return load.ok() ? *std::move(load) : nullptr;
}

const std::vector<std::string> kPool = {"t0.a.b", "t1.a.b", "t2.a.b"};

// ExpectAnswerTimes checks that every request of `t` has its answer time,
// and that each was due (answer time - latency) within `phase`.
void ExpectAnswerTimes(const LoadTally& t, const LoadPhase& phase) {
  ASSERT_EQ(t.answered_ns.size(), t.latency_ns.size());
  for (size_t i = 0; i < t.answered_ns.size(); ++i) {
    const LoadClock::time_point due(LoadClock::duration(t.answered_ns[i] - t.latency_ns[i]));
    EXPECT_GE(due, phase.start) << i;
    EXPECT_LT(due, phase.deadline) << i;
  }
}

TEST(HttpEventLoadTest, ClosedLoopCountsEveryAnswerReadInParts) {
  ScriptedHttpServer server([](int, int) { return ScriptedHttpServer::Reply::kOk; });
  auto load = Http(server.port(), 4);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(200)), kPool, next);
  EXPECT_TRUE(t.errors.empty()) << t.errors.begin()->first;
  EXPECT_GT(t.ok, 20);
  EXPECT_EQ(Total(t), t.ok);
  EXPECT_EQ(server.requests(), t.ok);
  EXPECT_EQ(server.connections(), 4);  // keep-alive: one connection per client
  EXPECT_EQ(next.load(), static_cast<size_t>(t.ok));
  // Closed loop: each request starts as the last one is answered.
  ASSERT_EQ(t.start_lag_ns.size(), t.latency_ns.size());
  EXPECT_LT(MedianNs(t.start_lag_ns), 2'000'000);
  EXPECT_EQ(t.queued_starts, 0);
  std::vector<std::string> tokens = server.tokens();
  for (size_t i = 0; i < tokens.size(); ++i) {
    ASSERT_NE(std::find(kPool.begin(), kPool.end(), tokens[i]), kPool.end()) << tokens[i];
  }
}

TEST(HttpEventLoadTest, ReconnectsAfterConnectionClose) {
  ScriptedHttpServer server([](int, int k) {
    return k == 2 ? ScriptedHttpServer::Reply::kOkThenClose : ScriptedHttpServer::Reply::kOk;
  });
  auto load = Http(server.port(), 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(200)), kPool, next);
  EXPECT_TRUE(t.errors.empty()) << t.errors.begin()->first;
  EXPECT_GT(t.ok, 12);
  EXPECT_GE(server.connections(), t.ok / 3);  // three answers per connection
}

// A keep-alive connection the server drops as the next request goes out:
// the request goes again, once, on a new connection.
TEST(HttpEventLoadTest, ResendsOnceWhenAReusedConnectionDrops) {
  ScriptedHttpServer server([](int, int k) {
    return k == 1 ? ScriptedHttpServer::Reply::kCloseUnanswered : ScriptedHttpServer::Reply::kOk;
  });
  auto load = Http(server.port(), 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(200)), kPool, next);
  EXPECT_TRUE(t.errors.empty()) << t.errors.begin()->first;
  EXPECT_GT(t.ok, 10);
  // Every second request on a connection was sent twice.
  EXPECT_GE(server.requests(), t.ok + t.ok / 2 - 2);
  EXPECT_EQ(next.load(), static_cast<size_t>(t.ok));      // a resend reuses its token
  EXPECT_EQ(t.start_lag_ns.size(), t.latency_ns.size());  // and is not a new start
}

TEST(HttpEventLoadTest, CountsAnErrorWhenTheResendFailsToo) {
  ScriptedHttpServer server([](int n, int) {
    return n == 0 ? ScriptedHttpServer::Reply::kOk : ScriptedHttpServer::Reply::kCloseUnanswered;
  });
  auto load = Http(server.port(), 1);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(100)), kPool, next);
  EXPECT_EQ(t.ok, 1);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors["http:close"], Total(t) - 1);
  EXPECT_GT(Total(t), 3);
  // Request 1 went on the kept-alive connection and once more on a new one;
  // later ones start on a fresh connection and are not resent.
  EXPECT_EQ(server.requests(), Total(t) + 1);
}

TEST(HttpEventLoadTest, LabelsErrorStatusAndUnparsableAnswers) {
  ScriptedHttpServer server([](int n, int) {
    return n % 2 == 0 ? ScriptedHttpServer::Reply::kUnavailable
                      : ScriptedHttpServer::Reply::kNoContentLength;
  });
  auto load = Http(server.port(), 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(150)), kPool, next);
  EXPECT_EQ(t.ok, 0);
  EXPECT_GT(t.errors["http:503"], 0);
  EXPECT_GT(t.errors["http:no_content_length"], 0);
  EXPECT_EQ(t.errors.size(), 2u);
  EXPECT_EQ(Errors(t), Total(t));
}

TEST(HttpEventLoadTest, RefusedConnectionsAreErrors) {
  int port;
  {
    ScriptedHttpServer gone([](int, int) { return ScriptedHttpServer::Reply::kOk; });
    port = gone.port();
  }
  auto load = Http(port, 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(50)), kPool, next);
  EXPECT_EQ(t.ok, 0);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_GT(t.errors["tcp:ECONNREFUSED"], 0);
}

// Open loop: 40 requests due over 0.2 s at a server that takes 10 ms each on
// one connection. All 40 go out (late ones from the queue) and the wait in
// the queue counts as latency.
TEST(HttpEventLoadTest, OpenLoopQueuesAndCountsFromTheDueTime) {
  ScriptedHttpServer server([](int, int) { return ScriptedHttpServer::Reply::kOk; },
                            milliseconds(10));
  auto load = Http(server.port(), 1);
  std::atomic<size_t> next{0};
  const LoadPhase phase = Phase(milliseconds(200), 200);
  LoadTally t = load->RunPhase(phase, kPool, next);
  EXPECT_EQ(t.ok, 40);
  EXPECT_TRUE(t.errors.empty());
  EXPECT_EQ(server.requests(), 40);
  EXPECT_GT(*std::max_element(t.latency_ns.begin(), t.latency_ns.end()), 150'000'000);
  ExpectOneConnectionBacklog(t);
  // Each answer's time, in the latencies' order: one connection answers in
  // turn, each answer comes after its request was due (request i at i / 200 s).
  ASSERT_EQ(t.answered_ns.size(), t.latency_ns.size());
  EXPECT_TRUE(std::is_sorted(t.answered_ns.begin(), t.answered_ns.end()));
  const int64_t start = phase.start.time_since_epoch().count();
  for (size_t i = 0; i < t.answered_ns.size(); ++i) {
    const int64_t due = t.answered_ns[i] - t.latency_ns[i];
    EXPECT_NEAR(due, start + static_cast<int64_t>(i) * 5'000'000, 1) << i;  // rounding
  }
}

TEST(HttpEventLoadTest, SplitsConnectionsAndArrivalsBetweenThreads) {
  ScriptedHttpServer server([](int, int) { return ScriptedHttpServer::Reply::kOk; });
  auto load = Http(server.port(), 5, 2);
  std::atomic<size_t> next{0};
  const LoadPhase open_phase = Phase(milliseconds(200), 300);
  LoadTally open = load->RunPhase(open_phase, kPool, next);
  EXPECT_EQ(open.ok, 60);
  ExpectAnswerTimes(open, open_phase);  // merged from both threads
  const LoadPhase closed_phase = Phase(milliseconds(100));
  LoadTally closed = load->RunPhase(closed_phase, kPool, next);
  EXPECT_TRUE(closed.errors.empty());
  ExpectAnswerTimes(closed, closed_phase);
  EXPECT_EQ(server.connections(), 5);  // kept from phase to phase
  EXPECT_EQ(server.requests(), 60 + closed.ok);
}

TEST(HttpEventLoadTest, RejectsBadOptions) {
  EventLoadOptions o;
  EXPECT_FALSE(NewHttpEventLoad(o).ok());  // no port
  o.port = 1;
  o.clients = 0;
  EXPECT_FALSE(NewHttpEventLoad(o).ok());
  o.clients = 1;
  o.threads = 0;
  EXPECT_FALSE(NewHttpEventLoad(o).ok());
  o.threads = 1;
  o.per_channel = 0;
  EXPECT_FALSE(NewGrpcEventLoad(o).ok());
  EXPECT_FALSE(NewRawGrpcEventLoad(o).ok());
}

// FakeTokenService answers "deny" with PERMISSION_DENIED, "empty" with no
// token and anything else with one, after 1 ms; it tracks calls in flight.
class FakeTokenService final : public v1::TokenService::Service {
 public:
  grpc::Status ExchangeToken(grpc::ServerContext*, const v1::ExchangeTokenRequest* req,
                             v1::ExchangeTokenResponse* resp) override {
    {
      absl::MutexLock lock(&mu_);
      ++calls_;
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    }
    std::this_thread::sleep_for(milliseconds(1));
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (req->subject_token() == "deny")
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no");
    if (req->subject_token() != "empty") resp->set_access_token("x.y.z");
    return grpc::Status::OK;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  int max_in_flight() {
    absl::MutexLock lock(&mu_);
    return max_in_flight_;
  }

 private:
  absl::Mutex mu_;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

// GrpcEventLoadTest runs each test on both gRPC drivers: the parameter is
// true for the raw HTTP/2 one.
class GrpcEventLoadTest : public testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<EventLoad> Grpc(int clients, int threads = 1) {
    EventLoadOptions o;
    o.port = port_;
    o.clients = clients;
    o.threads = threads;
    o.per_channel = 2;
    auto load = GetParam() ? NewRawGrpcEventLoad(o) : NewGrpcEventLoad(o);
    EXPECT_TRUE(load.ok()) << load.status();
    return load.ok() ? *std::move(load) : nullptr;
  }

  FakeTokenService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

TEST_P(GrpcEventLoadTest, ClosedLoopKeepsClientsCallsInFlight) {
  auto load = Grpc(4);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(300)), kPool, next);
  EXPECT_TRUE(t.errors.empty()) << t.errors.begin()->first;
  EXPECT_GT(t.ok, 20);
  EXPECT_EQ(Total(t), t.ok);
  EXPECT_EQ(service_.calls(), t.ok);
  EXPECT_LE(service_.max_in_flight(), 4);
  EXPECT_GE(service_.max_in_flight(), 2);
}

TEST_P(GrpcEventLoadTest, LabelsFailedCalls) {
  auto load = Grpc(3);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(150)), {"ok", "deny", "empty"}, next);
  EXPECT_GT(t.ok, 0);
  EXPECT_GT(t.errors["grpc:PERMISSION_DENIED"], 0);
  EXPECT_GT(t.errors["grpc:empty_access_token"], 0);
  EXPECT_EQ(t.errors.size(), 2u);
  EXPECT_EQ(t.ok + Errors(t), Total(t));
}

TEST_P(GrpcEventLoadTest, OpenLoopSendsEveryDueRequest) {
  auto load = Grpc(3, 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(200), 300), kPool, next);
  EXPECT_EQ(t.ok, 60);
  EXPECT_TRUE(t.errors.empty());
  EXPECT_EQ(service_.calls(), 60);
  EXPECT_EQ(t.start_lag_ns.size(), 60u);  // each call's start is noted
  EXPECT_EQ(t.generator_lag_ns.size(), 60u);
}

// A server going away between phases: its GOAWAY and close are read at the
// next phase's start, then every call of it is refused. No grace period: a
// graceful shutdown waits (20 s) for the PING ACK of its GOAWAY, and the raw
// driver reads nothing between phases.
TEST_P(GrpcEventLoadTest, CountsRefusalsAfterTheServerStops) {
  auto load = Grpc(2);
  std::atomic<size_t> next{0};
  LoadTally before = load->RunPhase(Phase(milliseconds(100)), kPool, next);
  EXPECT_TRUE(before.errors.empty()) << before.errors.begin()->first;
  EXPECT_GT(before.ok, 5);
  server_->Shutdown(std::chrono::system_clock::now());
  LoadTally after = load->RunPhase(Phase(milliseconds(100)), kPool, next);
  EXPECT_EQ(after.ok, 0);
  ASSERT_EQ(after.errors.size(), 1u) << after.errors.begin()->first;
  EXPECT_GT(after.errors.begin()->second, 0);
  EXPECT_EQ(after.errors.begin()->first, GetParam() ? "tcp:ECONNREFUSED" : "grpc:UNAVAILABLE");
}

INSTANTIATE_TEST_SUITE_P(Drivers, GrpcEventLoadTest, testing::Values(false, true),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "Raw" : "GrpcPlusPlus";
                         });

}  // namespace
}  // namespace writ::bench

// NewRawGrpcEventLoad against a scripted h2c server on loopback that answers,
// refuses, resets, goes away, pings, breaks the protocol and hangs up on cue.
// (The gRPC++ server tests for both gRPC drivers are in event_load_test.cc.)
// Phases are short (0.1-0.2 s) real-time runs; assertions are on counts.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "bench/event_load.h"
#include "bench/h2_wire.h"
#include "bench/start_lag_expect.h"
#include "gtest/gtest.h"
#include "writ/v1/writ.pb.h"

namespace writ::bench {
namespace {

using std::chrono::milliseconds;
using std::string_literals::operator""s;

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string out;
  AppendH2FrameHeader(static_cast<uint32_t>(payload.size()), type, flags, stream, &out);
  return out + payload;
}

std::string U32(uint32_t v) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  return out;
}

// ScriptedH2Server answers each call on 127.0.0.1 as its script says, given
// the call's number (0-based, over all connections) and its number on its
// connection. One thread per connection, calls answered in order.
class ScriptedH2Server {
 public:
  enum class Reply { kOk, kDenied, kReset, kGoaway, kHangUp, kPingFirst, kOversized };
  using Script = std::function<Reply(int n, int on_connection)>;

  explicit ScriptedH2Server(Script script, milliseconds delay = milliseconds(0))
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
  ~ScriptedH2Server() {
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
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  int connections() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(connections_.size());
  }
  int ping_acks() {
    absl::MutexLock lock(&mu_);
    return ping_acks_;
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
    auto read_more = [&] {
      const ssize_t n = read(fd, buf, sizeof(buf));
      if (n > 0) in.append(buf, n);
      return n > 0;
    };
    if (!Send(fd, Frame(kH2Settings, 0, 0, ""))) return Closed(fd);
    while (in.size() < 24) {
      if (!read_more()) return Closed(fd);
    }
    EXPECT_EQ(in.substr(0, 24), "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    in.erase(0, 24);
    for (int k = 0;;) {
      H2Frame f;
      H2Parse r;
      while ((r = ParseH2Frame(in, 1 << 20, &f)) == H2Parse::kIncomplete) {
        if (!read_more()) return Closed(fd);
      }
      if (r != H2Parse::kFrame) return Closed(fd);
      const uint8_t type = f.type;
      const uint8_t flags = f.flags;
      const uint32_t stream = f.stream_id;
      const std::string payload(f.payload);
      in.erase(0, f.size);
      if (type == kH2Ping && (flags & kH2FlagAck)) {
        absl::MutexLock lock(&mu_);
        if (payload == "pingpong") ++ping_acks_;
      }
      if (type != kH2Data || (flags & kH2FlagEndStream) == 0) continue;
      // A whole request (one DATA frame each): answer it.
      int n;
      {
        absl::MutexLock lock(&mu_);
        n = calls_++;
        v1::ExchangeTokenRequest req;
        EXPECT_TRUE(req.ParseFromArray(payload.data() + 5, static_cast<int>(payload.size()) - 5));
        tokens_.push_back(req.subject_token());
      }
      std::this_thread::sleep_for(delay_);
      if (!Answer(fd, stream, script_(n, k++))) return Closed(fd);
    }
  }

  // Answer writes the reply in three pieces, apart: the client reads it in
  // parts. False when the connection is to close.
  bool Answer(int fd, uint32_t stream, Reply reply) {
    const std::string ok_message = "\x00\x00\x00\x00\x07\x0a\x05x.y.z"s;
    std::string out;
    switch (reply) {
      case Reply::kPingFirst:
        out = Frame(kH2Ping, 0, 0, "pingpong");
        [[fallthrough]];
      case Reply::kOk:
        out += Frame(kH2Headers, kH2FlagEndHeaders, stream, "\x88") +
               Frame(kH2Data, 0, stream, ok_message) +
               Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, stream,
                     "\x40\x0bgrpc-status\x01"
                     "0"s);
        break;
      case Reply::kDenied:
        out = Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, stream,
                    "\x88\x40\x0bgrpc-status\x01"
                    "7"s);
        break;
      case Reply::kReset:
        out = Frame(kH2RstStream, 0, stream, U32(2));
        break;
      case Reply::kGoaway:
        Send(fd, Frame(kH2Goaway, 0, 0, U32(stream - 2) + U32(0)));
        return false;
      case Reply::kHangUp:
        return false;
      case Reply::kOversized:
        out = Frame(kH2Data, 0, stream, std::string(20000, 'x'));
        break;
    }
    const size_t third = out.size() / 3;
    for (size_t from = 0; from < out.size(); from += third) {
      if (from > 0) std::this_thread::sleep_for(milliseconds(1));
      if (!Send(fd, out.substr(from, third))) return false;
    }
    return reply != Reply::kOversized;
  }

  static bool Send(int fd, const std::string& bytes) {
    return send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
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
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  int ping_acks_ ABSL_GUARDED_BY(mu_) = 0;
};

using Reply = ScriptedH2Server::Reply;

LoadPhase Phase(milliseconds length, double rate = 0) {
  LoadPhase p;
  p.start = LoadClock::now() + milliseconds(2);
  p.deadline = p.start + length;
  p.rate = rate;
  return p;
}

long Total(const LoadTally& t) { return static_cast<long>(t.latency_ns.size()); }

std::unique_ptr<EventLoad> Raw(int port, int clients, int per_channel, int threads = 1) {
  EventLoadOptions o;
  o.port = port;
  o.clients = clients;
  o.per_channel = per_channel;
  o.threads = threads;
  o.shape = {"https://api.example", "deploy:write"};
  auto load = NewRawGrpcEventLoad(o);
  EXPECT_TRUE(load.ok()) << load.status();
  return load.ok() ? *std::move(load) : nullptr;
}

const std::vector<std::string> kPool = {"t0.a.b", "t1.a.b", "t2.a.b"};

TEST(RawGrpcEventLoadTest, ClosedLoopCountsAnswersReadInParts) {
  ScriptedH2Server server([](int, int) { return Reply::kOk; });
  auto load = Raw(server.port(), 4, 2);
  std::atomic<size_t> next{0};
  const LoadPhase phase = Phase(milliseconds(200));
  LoadTally t = load->RunPhase(phase, kPool, next);
  EXPECT_TRUE(t.errors.empty()) << t.errors.begin()->first;
  EXPECT_GT(t.ok, 20);
  EXPECT_EQ(Total(t), t.ok);
  EXPECT_EQ(server.calls(), t.ok);
  EXPECT_EQ(server.connections(), 2);  // two calls per connection
  // Each call's answer time, the latency back to when it was sent.
  ASSERT_EQ(t.answered_ns.size(), t.latency_ns.size());
  for (size_t i = 0; i < t.answered_ns.size(); ++i) {
    const LoadClock::time_point sent(LoadClock::duration(t.answered_ns[i] - t.latency_ns[i]));
    EXPECT_GE(sent, phase.start) << i;
    EXPECT_LT(sent, phase.deadline) << i;
  }
  EXPECT_EQ(next.load(), static_cast<size_t>(t.ok));
  for (const std::string& token : server.tokens()) {
    ASSERT_NE(std::find(kPool.begin(), kPool.end(), token), kPool.end()) << token;
  }
}

TEST(RawGrpcEventLoadTest, LabelsStatusesAndResets) {
  ScriptedH2Server server([](int n, int) {
    return n % 3 == 0 ? Reply::kDenied : n % 3 == 1 ? Reply::kReset : Reply::kOk;
  });
  auto load = Raw(server.port(), 2, 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(150)), kPool, next);
  EXPECT_GT(t.ok, 3);
  EXPECT_GT(t.errors["grpc:PERMISSION_DENIED"], 3);
  EXPECT_GT(t.errors["h2:RST_STREAM"], 3);
  EXPECT_EQ(t.errors.size(), 2u);
  EXPECT_EQ(server.connections(), 1);  // stream errors leave the connection up
}

// Every connection's second call gets GOAWAY naming the first as the last:
// the call fails, and the next one goes on a new connection.
TEST(RawGrpcEventLoadTest, GoawayFailsTheCallAndTheNextOneReconnects) {
  ScriptedH2Server server([](int, int k) { return k == 1 ? Reply::kGoaway : Reply::kOk; });
  auto load = Raw(server.port(), 2, 1);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(150)), kPool, next);
  ASSERT_EQ(t.errors.size(), 1u) << t.errors.begin()->first;
  const long goaways = t.errors["h2:GOAWAY"];
  EXPECT_GT(goaways, 5);
  EXPECT_GE(t.ok, goaways);
  EXPECT_LE(t.ok, goaways + 2);
  EXPECT_GE(server.connections(), goaways);
  // A call moved to a new connection is not a new start.
  EXPECT_EQ(t.start_lag_ns.size(), t.latency_ns.size());
}

TEST(RawGrpcEventLoadTest, AHangUpFailsTheCallsInFlightOnly) {
  ScriptedH2Server server([](int, int k) { return k == 2 ? Reply::kHangUp : Reply::kOk; });
  auto load = Raw(server.port(), 1, 1);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(150)), kPool, next);
  ASSERT_EQ(t.errors.size(), 1u) << t.errors.begin()->first;
  EXPECT_GT(t.errors["h2:eof"], 3);
  EXPECT_NEAR(t.ok, 2 * t.errors["h2:eof"], 2);  // not resent
  EXPECT_EQ(server.calls(), Total(t));
}

TEST(RawGrpcEventLoadTest, AnswersPings) {
  ScriptedH2Server server([](int, int) { return Reply::kPingFirst; });
  auto load = Raw(server.port(), 2, 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(100)), kPool, next);
  EXPECT_TRUE(t.errors.empty()) << t.errors.begin()->first;
  EXPECT_GT(t.ok, 5);
  // Every PING was answered: the last ones may still be on their way.
  EXPECT_GE(server.ping_acks(), t.ok - 2);
}

TEST(RawGrpcEventLoadTest, AnOversizedFrameFailsTheConnection) {
  ScriptedH2Server server([](int n, int) { return n == 3 ? Reply::kOversized : Reply::kOk; });
  auto load = Raw(server.port(), 1, 1);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(100)), kPool, next);
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors["h2:protocol"], 1);
  EXPECT_GT(t.ok, 5);
  EXPECT_EQ(server.connections(), 2);
}

TEST(RawGrpcEventLoadTest, RefusedConnectionsAreErrors) {
  int port;
  {
    ScriptedH2Server gone([](int, int) { return Reply::kOk; });
    port = gone.port();
  }
  auto load = Raw(port, 4, 2);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(50)), kPool, next);
  EXPECT_EQ(t.ok, 0);
  ASSERT_EQ(t.errors.size(), 1u) << t.errors.begin()->first;
  EXPECT_GT(t.errors["tcp:ECONNREFUSED"], 4);
}

// Open loop: 40 calls due over 0.2 s at a server that takes 10 ms each, one
// slot. All 40 go out (late ones from the queue) and the wait counts.
TEST(RawGrpcEventLoadTest, OpenLoopQueuesAndCountsFromTheDueTime) {
  ScriptedH2Server server([](int, int) { return Reply::kOk; }, milliseconds(10));
  auto load = Raw(server.port(), 1, 4);
  std::atomic<size_t> next{0};
  LoadTally t = load->RunPhase(Phase(milliseconds(200), 200), kPool, next);
  EXPECT_EQ(t.ok, 40);
  EXPECT_TRUE(t.errors.empty());
  EXPECT_EQ(server.calls(), 40);
  EXPECT_GT(*std::max_element(t.latency_ns.begin(), t.latency_ns.end()), 150'000'000);
  ExpectOneConnectionBacklog(t);
}

// 5 calls on 2 threads, 2 per connection: 3 + 2 slots make 2 + 1
// connections, kept from phase to phase.
TEST(RawGrpcEventLoadTest, SplitsSlotsBetweenThreadsAndKeepsConnections) {
  ScriptedH2Server server([](int, int) { return Reply::kOk; });
  auto load = Raw(server.port(), 5, 2, 2);
  std::atomic<size_t> next{0};
  LoadTally open = load->RunPhase(Phase(milliseconds(200), 300), kPool, next);
  EXPECT_EQ(open.ok, 60);
  LoadTally closed = load->RunPhase(Phase(milliseconds(100)), kPool, next);
  EXPECT_TRUE(closed.errors.empty());
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(server.calls(), 60 + closed.ok);
}

TEST(RawGrpcEventLoadTest, RejectsBadOptions) {
  EventLoadOptions o;
  EXPECT_FALSE(NewRawGrpcEventLoad(o).ok());  // no port
  o.port = 1;
  o.per_channel = 0;
  EXPECT_FALSE(NewRawGrpcEventLoad(o).ok());
  o.per_channel = 1;
  o.threads = 0;
  EXPECT_FALSE(NewRawGrpcEventLoad(o).ok());
  o.threads = 1;
  EXPECT_TRUE(NewRawGrpcEventLoad(o).ok());  // connects on first use only
}

}  // namespace
}  // namespace writ::bench

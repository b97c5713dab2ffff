// H2Session against frames written by hand: what a server may send, split
// anywhere, and what the session must answer and hold back.
#include "bench/h2_session.h"

#include <string>
#include <vector>

#include "bench/h2_wire.h"
#include "gtest/gtest.h"

namespace writ::bench {
namespace {

using std::string_literals::operator""s;

constexpr size_t kPrefaceSize = 24;
const std::string kBlock = GrpcRequestHeaderBlock("/writ.v1.TokenService/ExchangeToken", "h:1");

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

std::string Setting(uint16_t id, uint32_t value) {
  return std::string{static_cast<char>(id >> 8), static_cast<char>(id)} + U32(value);
}

std::string Message(const std::string& proto) {
  return std::string(1, '\0') + U32(static_cast<uint32_t>(proto.size())) + proto;
}

const std::string kTokenMessage = Message("\x0a\x05x.y.z"s);  // access_token "x.y.z"
const std::string kStatusOk =
    "\x40\x0bgrpc-status\x01"
    "0"s;
const std::string kStatusDenied =
    "\x88\x40\x0bgrpc-status\x01"
    "7"s;

// Answer is a whole successful response on `stream`.
std::string Answer(uint32_t stream) {
  return Frame(kH2Headers, kH2FlagEndHeaders, stream, "\x88") +
         Frame(kH2Data, 0, stream, kTokenMessage) +
         Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, stream, kStatusOk);
}

// Frames parses a session's output (after the preface, if `skip_preface`)
// and clears it.
std::vector<H2Frame> Frames(H2Session& s, std::string* keep, bool skip_preface = false) {
  *keep = *s.output();
  s.output()->clear();
  absl::string_view rest(*keep);
  if (skip_preface) rest.remove_prefix(kPrefaceSize);
  std::vector<H2Frame> frames;
  H2Frame f;
  while (ParseH2Frame(rest, 1 << 24, &f) == H2Parse::kFrame) {
    frames.push_back(f);
    rest.remove_prefix(f.size);
  }
  EXPECT_TRUE(rest.empty());
  return frames;
}

class H2SessionTest : public testing::Test {
 protected:
  H2SessionTest() : session_(kBlock) {
    std::string keep;
    EXPECT_EQ(Frames(session_, &keep, true).size(), 2u);  // SETTINGS, WINDOW_UPDATE
  }

  std::vector<H2CallResult> Feed(const std::string& bytes) {
    std::vector<H2CallResult> done;
    EXPECT_TRUE(session_.Receive(bytes, &done));
    return done;
  }

  H2Session session_;
  std::string request_ = Message(std::string(100, 'r'));
  std::string out_;
};

TEST_F(H2SessionTest, SendsEachCallAsHeadersThenData) {
  session_.Submit(7, request_);
  session_.Submit(8, request_);
  std::vector<H2Frame> f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].type, kH2Headers);
  EXPECT_EQ(f[0].flags, kH2FlagEndHeaders);
  EXPECT_EQ(f[0].stream_id, 1u);
  EXPECT_EQ(f[0].payload, kBlock);
  EXPECT_EQ(f[1].type, kH2Data);
  EXPECT_EQ(f[1].flags, kH2FlagEndStream);
  EXPECT_EQ(f[1].payload, request_);
  EXPECT_EQ(f[2].stream_id, 3u);
  EXPECT_EQ(f[3].stream_id, 3u);
  EXPECT_EQ(session_.open_streams(), 2);
}

TEST_F(H2SessionTest, SucceedsOnAMessageThenTrailersFedByteByByte) {
  session_.Submit(7, request_);
  const std::string answer = Frame(kH2Settings, 0, 0, "") + Answer(1);
  std::vector<H2CallResult> done;
  for (char c : answer) {
    ASSERT_TRUE(session_.Receive(std::string(1, c), &done));
  }
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].tag, 7);
  EXPECT_TRUE(done[0].ok) << done[0].error_kind;
  EXPECT_EQ(session_.open_streams(), 0);
}

TEST_F(H2SessionTest, NamesCallsThatEndWithoutAToken) {
  for (int tag = 0; tag < 6; ++tag) session_.Submit(tag, request_);
  std::vector<H2CallResult> done =
      Feed(Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, 1, kStatusDenied) +
           Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, 3, "\x88\xbe"s) +  // indexed
           Frame(kH2Data, 0, 5, Message("\x10\x01"s)) +  // a message without access_token
           Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, 5, kStatusOk) +
           Frame(kH2Data, kH2FlagEndStream, 7, kTokenMessage) +  // no trailers: fine
           Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, 9, "\x88" + kStatusOk) +
           Frame(kH2Data, 0, 11, kTokenMessage) +
           Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, 11,
                 "\x40\x0bgrpc-status\x02"
                 "14"s));
  ASSERT_EQ(done.size(), 6u);
  EXPECT_EQ(done[0].error_kind, "grpc:PERMISSION_DENIED");
  EXPECT_EQ(done[1].error_kind, "grpc:error");
  EXPECT_EQ(done[2].error_kind, "grpc:empty_access_token");
  EXPECT_TRUE(done[3].ok);
  EXPECT_EQ(done[4].error_kind, "grpc:no_message");
  EXPECT_EQ(done[5].error_kind, "grpc:UNAVAILABLE");  // a status beats the message
}

TEST_F(H2SessionTest, ReadsAMessageSplitOverPaddedDataFrames) {
  session_.Submit(1, request_);
  std::vector<H2CallResult> done =
      Feed(Frame(kH2Data, kH2FlagPadded, 1, "\x02" + kTokenMessage.substr(0, 3) + "\0\0"s) +
           Frame(kH2Data, 0, 1, kTokenMessage.substr(3)) +
           Frame(kH2Headers, kH2FlagEndHeaders | kH2FlagEndStream, 1, kStatusOk));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].ok) << done[0].error_kind;
}

TEST_F(H2SessionTest, TrailersMayContinue) {
  session_.Submit(1, request_);
  session_.Submit(2, request_);
  std::vector<H2CallResult> done = Feed(
      Frame(kH2Headers, kH2FlagEndStream, 1, "\x88\x40\x0bgrpc-st"s) +
      Frame(kH2Continuation, 0, 1, "atus\x01") + Frame(kH2Continuation, kH2FlagEndHeaders, 1, "7"));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error_kind, "grpc:PERMISSION_DENIED");
  // A CONTINUATION that follows no open header block is a connection error.
  EXPECT_FALSE(session_.Receive(Frame(kH2Continuation, kH2FlagEndHeaders, 3, ""), &done));
}

TEST_F(H2SessionTest, ResetStreamsFailAlone) {
  session_.Submit(1, request_);
  session_.Submit(2, request_);
  std::vector<H2CallResult> done = Feed(Frame(kH2RstStream, 0, 3, U32(2)) + Answer(1));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].tag, 2);
  EXPECT_EQ(done[0].error_kind, "h2:RST_STREAM");
  EXPECT_TRUE(done[1].ok);
}

TEST_F(H2SessionTest, AcknowledgesSettingsAndPings) {
  EXPECT_TRUE(Feed(Frame(kH2Settings, 0, 0, Setting(kH2SettingMaxFrameSize, 32768)) +
                   Frame(kH2Ping, 0, 0, "abcdefgh") + Frame(kH2Ping, kH2FlagAck, 0, "zzzzzzzz") +
                   Frame(kH2Settings, kH2FlagAck, 0, ""))
                  .empty());
  std::vector<H2Frame> f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].type, kH2Settings);
  EXPECT_EQ(f[0].flags, kH2FlagAck);
  EXPECT_TRUE(f[0].payload.empty());
  EXPECT_EQ(f[1].type, kH2Ping);
  EXPECT_EQ(f[1].flags, kH2FlagAck);
  EXPECT_EQ(f[1].payload, "abcdefgh");
}

TEST_F(H2SessionTest, OpensNoMoreStreamsThanTheServerAllows) {
  Feed(Frame(kH2Settings, 0, 0, Setting(kH2SettingMaxConcurrentStreams, 1)));
  Frames(session_, &out_);
  for (int tag = 0; tag < 3; ++tag) session_.Submit(tag, request_);
  EXPECT_EQ(session_.open_streams(), 1);
  EXPECT_EQ(session_.unsent(), 2);
  EXPECT_EQ(Frames(session_, &out_).size(), 2u);
  ASSERT_EQ(Feed(Answer(1)).size(), 1u);
  std::vector<H2Frame> f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].stream_id, 3u);
  EXPECT_EQ(session_.unsent(), 1);
}

TEST_F(H2SessionTest, SendsDataOnlyAsFarAsTheWindowsReach) {
  // Streams may take 10 bytes until told otherwise.
  Feed(Frame(kH2Settings, 0, 0, Setting(kH2SettingInitialWindowSize, 10)));
  Frames(session_, &out_);
  session_.Submit(1, request_);  // 105 bytes
  std::vector<H2Frame> f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1].payload, request_.substr(0, 10));
  EXPECT_EQ(f[1].flags, 0);
  Feed(Frame(kH2WindowUpdate, 0, 1, U32(50)));
  f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].payload, request_.substr(10, 50));
  // A larger initial window applies to the open stream by the difference.
  Feed(Frame(kH2Settings, 0, 0, Setting(kH2SettingInitialWindowSize, 1000)));
  f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 2u);  // SETTINGS ACK, then the rest
  EXPECT_EQ(f[1].payload, request_.substr(60));
  EXPECT_EQ(f[1].flags, kH2FlagEndStream);
}

TEST_F(H2SessionTest, SharesTheConnectionWindowAndSplitsLargeMessages) {
  Feed(Frame(kH2Settings, 0, 0, Setting(kH2SettingInitialWindowSize, 1 << 20)));
  Frames(session_, &out_);
  const std::string big = Message(std::string(40000, 'b'));  // 40005 bytes
  session_.Submit(1, big);
  session_.Submit(2, big);
  size_t sent = 0;
  for (const H2Frame& f : Frames(session_, &out_)) {
    if (f.type != kH2Data) continue;
    EXPECT_LE(f.payload.size(), 16384u);
    sent += f.payload.size();
  }
  EXPECT_EQ(sent, 65535u);  // the connection's initial window
  Feed(Frame(kH2WindowUpdate, 0, 0, U32(100000)));
  for (const H2Frame& f : Frames(session_, &out_)) sent += f.payload.size();
  EXPECT_EQ(sent, 2 * big.size());
}

TEST_F(H2SessionTest, GoawayFailsLaterStreamsAndAcceptsNoMore) {
  session_.Submit(1, request_);
  session_.Submit(2, request_);
  std::vector<H2CallResult> done = Feed(Frame(kH2Goaway, 0, 0, U32(1) + U32(0)));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].tag, 2);
  EXPECT_EQ(done[0].error_kind, "h2:GOAWAY");
  EXPECT_FALSE(session_.accepting());
  Frames(session_, &out_);
  session_.Submit(3, request_);
  EXPECT_TRUE(Frames(session_, &out_).empty());
  done = Feed(Answer(1));  // at or below the last stream id: still answered
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].ok);
  auto unsent = session_.TakeUnsent();
  ASSERT_EQ(unsent.size(), 1u);
  EXPECT_EQ(unsent[0].first, 3);
}

TEST_F(H2SessionTest, ConnectionErrorsStopTheSession) {
  std::vector<H2CallResult> done;
  std::string oversized;
  AppendH2FrameHeader(16385, kH2Data, 0, 1, &oversized);
  EXPECT_FALSE(session_.Receive(oversized, &done));
  EXPECT_FALSE(session_.accepting());
  EXPECT_FALSE(session_.Receive(Answer(1), &done));

  H2Session pushed(kBlock);
  EXPECT_FALSE(pushed.Receive(Frame(kH2PushPromise, kH2FlagEndHeaders, 1, U32(2)), &done));
  H2Session bad_ping(kBlock);
  EXPECT_FALSE(bad_ping.Receive(Frame(kH2Ping, 0, 0, "short"), &done));
  H2Session bad_window(kBlock);
  EXPECT_FALSE(bad_window.Receive(
      Frame(kH2Settings, 0, 0, Setting(kH2SettingInitialWindowSize, 0x80000000)), &done));
  EXPECT_TRUE(done.empty());
}

TEST_F(H2SessionTest, IgnoresUnknownFramesAndStreams) {
  session_.Submit(1, request_);
  std::vector<H2CallResult> done =
      Feed(Frame(0xfa, 0xff, 1, "whatever") + Frame(kH2Priority, 0, 1, "\0\0\0\0\x10"s) +
           Answer(41) + Frame(kH2WindowUpdate, 0, 41, U32(5)) + Answer(1));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].ok);
}

TEST_F(H2SessionTest, CancelResetsTheStreamAndReportsNothing) {
  session_.Submit(1, request_);
  session_.Submit(2, request_);
  Frames(session_, &out_);
  session_.Cancel(1);
  std::vector<H2Frame> f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, kH2RstStream);
  EXPECT_EQ(f[0].stream_id, 1u);
  EXPECT_EQ(H2ReadU32(f[0].payload, 0), kH2Cancel);
  std::vector<H2CallResult> done = Feed(Answer(1) + Answer(3));
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].tag, 2);
}

TEST_F(H2SessionTest, FailEndsOpenStreamsAndKeepsUnsentCalls) {
  Feed(Frame(kH2Settings, 0, 0, Setting(kH2SettingMaxConcurrentStreams, 2)));
  for (int tag = 0; tag < 3; ++tag) session_.Submit(tag, request_);
  std::vector<H2CallResult> done;
  session_.Fail("h2:eof", &done);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].error_kind, "h2:eof");
  EXPECT_EQ(done[1].error_kind, "h2:eof");
  EXPECT_FALSE(session_.accepting());
  auto unsent = session_.TakeUnsent();
  ASSERT_EQ(unsent.size(), 1u);
  EXPECT_EQ(unsent[0].first, 2);
  EXPECT_EQ(unsent[0].second, request_);
}

TEST_F(H2SessionTest, GivesTheConnectionWindowBackInLargeSteps) {
  // 2^30 bytes of DATA, on a stream nobody asked for: one WINDOW_UPDATE.
  const std::string frame = Frame(kH2Data, 0, 99, std::string(16384, 'd'));
  std::vector<H2CallResult> done;
  for (int i = 0; i < 65536; ++i) ASSERT_TRUE(session_.Receive(frame, &done));
  std::vector<H2Frame> f = Frames(session_, &out_);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, kH2WindowUpdate);
  EXPECT_EQ(f[0].stream_id, 0u);
  EXPECT_EQ(H2ReadU32(f[0].payload, 0), 1u << 30);
}

}  // namespace
}  // namespace writ::bench

#include "bench/h2_wire.h"

#include <string>

#include "gtest/gtest.h"
#include "writ/v1/writ.pb.h"

namespace writ::bench {
namespace {

using std::string_literals::operator""s;

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string out;
  AppendH2FrameHeader(static_cast<uint32_t>(payload.size()), type, flags, stream, &out);
  return out + payload;
}

TEST(H2WireTest, FrameHeaderRoundTripsAndClearsTheReservedBit) {
  const std::string f = Frame(kH2Data, kH2FlagEndStream, 0x80000005, "hello");
  EXPECT_EQ(f.substr(0, 9), "\x00\x00\x05\x00\x01\x00\x00\x00\x05"s);
  const std::string buffer = f + "next";
  H2Frame frame;
  ASSERT_EQ(ParseH2Frame(buffer, 16384, &frame), H2Parse::kFrame);
  EXPECT_EQ(frame.type, kH2Data);
  EXPECT_EQ(frame.flags, kH2FlagEndStream);
  EXPECT_EQ(frame.stream_id, 5u);
  EXPECT_EQ(frame.payload, "hello");
  EXPECT_EQ(frame.size, 14u);
}

TEST(H2WireTest, EveryPrefixOfAFrameIsIncomplete) {
  const std::string f = Frame(kH2Headers, kH2FlagEndHeaders, 1, "abcdef");
  H2Frame frame;
  for (size_t n = 0; n < f.size(); ++n) {
    EXPECT_EQ(ParseH2Frame(f.substr(0, n), 16384, &frame), H2Parse::kIncomplete) << n;
  }
  EXPECT_EQ(ParseH2Frame(f, 16384, &frame), H2Parse::kFrame);
}

TEST(H2WireTest, RefusesAnOversizedFrameAsSoonAsItsHeaderIsIn) {
  std::string header;
  AppendH2FrameHeader(16385, kH2Data, 0, 1, &header);
  H2Frame frame;
  EXPECT_EQ(ParseH2Frame(header, 16384, &frame), H2Parse::kTooLarge);
  AppendH2FrameHeader(16384, kH2Data, 0, 1, &header);
  EXPECT_EQ(ParseH2Frame(header.substr(9), 16384, &frame), H2Parse::kIncomplete);
}

TEST(H2WireTest, PrefaceAsksForNoTableNoPushAndLargeWindows) {
  std::string out;
  AppendH2ClientPreface(&out);
  const std::string magic = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  ASSERT_EQ(out.substr(0, magic.size()), magic);
  absl::string_view rest = absl::string_view(out).substr(magic.size());
  H2Frame settings;
  ASSERT_EQ(ParseH2Frame(rest, 16384, &settings), H2Parse::kFrame);
  EXPECT_EQ(settings.type, kH2Settings);
  EXPECT_EQ(settings.flags, 0);
  std::vector<std::pair<uint16_t, uint32_t>> values;
  ASSERT_TRUE(ParseH2Settings(settings.payload, &values));
  const std::vector<std::pair<uint16_t, uint32_t>> want = {
      {kH2SettingHeaderTableSize, 0},
      {kH2SettingEnablePush, 0},
      {kH2SettingInitialWindowSize, 0x7fffffff}};
  EXPECT_EQ(values, want);
  rest.remove_prefix(settings.size);
  H2Frame update;
  ASSERT_EQ(ParseH2Frame(rest, 16384, &update), H2Parse::kFrame);
  EXPECT_EQ(update.type, kH2WindowUpdate);
  EXPECT_EQ(update.stream_id, 0u);
  EXPECT_EQ(H2ReadU32(update.payload, 0), 0x7fffffffu - 65535);
  EXPECT_EQ(update.size, rest.size());
}

TEST(H2WireTest, ControlFramesCarryWhatTheyAnswer) {
  std::string out;
  AppendH2SettingsAck(&out);
  EXPECT_EQ(out, Frame(kH2Settings, kH2FlagAck, 0, ""));
  out.clear();
  AppendH2PingAck("12345678", &out);
  EXPECT_EQ(out, Frame(kH2Ping, kH2FlagAck, 0, "12345678"));
  out.clear();
  AppendH2RstStream(7, kH2Cancel, &out);
  EXPECT_EQ(out, Frame(kH2RstStream, 0, 7, "\x00\x00\x00\x08"s));
}

TEST(H2WireTest, ContentDropsPaddingAndPriority) {
  H2Frame f;
  const std::string padded = Frame(kH2Data, kH2FlagPadded, 1,
                                   "\x03"
                                   "abc"
                                   "\0\0\0"s);
  ASSERT_EQ(ParseH2Frame(padded, 16384, &f), H2Parse::kFrame);
  absl::string_view content;
  ASSERT_TRUE(H2FrameContent(f, &content));
  EXPECT_EQ(content, "abc");

  const std::string both = Frame(kH2Headers, kH2FlagPadded | kH2FlagPriority, 1,
                                 "\x01"
                                 "\x00\x00\x00\x03\x10"
                                 "block"
                                 "\0"s);
  ASSERT_EQ(ParseH2Frame(both, 16384, &f), H2Parse::kFrame);
  ASSERT_TRUE(H2FrameContent(f, &content));
  EXPECT_EQ(content, "block");

  const std::string too_much = Frame(kH2Data, kH2FlagPadded, 1,
                                     "\x05"
                                     "ab"s);
  ASSERT_EQ(ParseH2Frame(too_much, 16384, &f), H2Parse::kFrame);
  EXPECT_FALSE(H2FrameContent(f, &content));
  const std::string empty = Frame(kH2Data, kH2FlagPadded, 1, "");
  ASSERT_EQ(ParseH2Frame(empty, 16384, &f), H2Parse::kFrame);
  EXPECT_FALSE(H2FrameContent(f, &content));
}

TEST(H2WireTest, SettingsOfBadLengthAreRefused) {
  std::vector<std::pair<uint16_t, uint32_t>> values;
  EXPECT_FALSE(ParseH2Settings("\x00\x03\x00\x00\x00"s, &values));
  EXPECT_TRUE(ParseH2Settings("", &values));
  EXPECT_TRUE(values.empty());
}

TEST(H2WireTest, RequestHeaderBlockUsesTheStaticTableAndPlainLiterals) {
  const std::string block = GrpcRequestHeaderBlock("/a.B/C", "127.0.0.1:50051");
  const std::string want =
      "\x83\x86"        // :method POST, :scheme http
      "\x04\x06/a.B/C"  // :path, literal, name index 4
      "\x01\x0f"
      "127.0.0.1:50051"  // :authority, name index 1
      "\x0f\x10\x10"
      "application/grpc"          // content-type, name index 31
      "\x00\x02te\x08trailers"s;  // te, new name
  EXPECT_EQ(block, want);
}

TEST(H2WireTest, LongHeaderValuesGetMultiByteLengths) {
  const std::string path(200, 'p');
  const std::string block = GrpcRequestHeaderBlock(path, "a");
  // 200 = 127 + 73 with a 7-bit prefix.
  EXPECT_EQ(block.substr(2, 3), "\x04\x7f\x49"s);
  EXPECT_EQ(block.substr(5, 200), path);
}

TEST(H2WireTest, ScansALiteralGrpcStatus) {
  int code = -1;
  // Literal with incremental indexing, new name (what gRPC sends first).
  EXPECT_TRUE(
      ScanGrpcStatus("\x88\x40\x0bgrpc-status\x01"
                     "7"s,
                     &code));
  EXPECT_EQ(code, 7);
  // Literal without indexing, and a two-digit code after another field.
  EXPECT_TRUE(
      ScanGrpcStatus("\x00\x0cgrpc-message\x02hi\x00\x0bgrpc-status\x02"
                     "14"s,
                     &code));
  EXPECT_EQ(code, 14);
  // The name inside another header's value is not the field.
  EXPECT_TRUE(
      ScanGrpcStatus("\x00\x01x\x0cxgrpc-status\x00\x0bgrpc-status\x01"
                     "0"s,
                     &code));
  EXPECT_EQ(code, 0);
}

TEST(H2WireTest, CannotScanAnIndexedHuffmanOrTruncatedStatus) {
  int code = -1;
  EXPECT_FALSE(ScanGrpcStatus("\x88\xbe"s, &code));                     // indexed
  EXPECT_FALSE(ScanGrpcStatus("\x40\x0bgrpc-status\x81\x07"s, &code));  // Huffman
  EXPECT_FALSE(
      ScanGrpcStatus("\x40\x0bgrpc-status\x02"
                     "1"s,
                     &code));                                        // cut short
  EXPECT_FALSE(ScanGrpcStatus("\x40\x0bgrpc-status"s, &code));       // no value
  EXPECT_FALSE(ScanGrpcStatus("\x40\x0bgrpc-status\x01x"s, &code));  // not a number
  EXPECT_FALSE(ScanGrpcStatus("", &code));
  EXPECT_EQ(code, -1);
}

std::string Framed(const std::string& message) {
  std::string out(5, '\0');
  out[4] = static_cast<char>(message.size());
  return out + message;
}

TEST(H2WireTest, ParsesALengthPrefixedMessage) {
  const std::string m = Framed("abc") + "next";
  absl::string_view message;
  size_t size = 0;
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(ParseGrpcMessage(m.substr(0, n), &message, &size), GrpcMessage::kIncomplete) << n;
  }
  ASSERT_EQ(ParseGrpcMessage(m, &message, &size), GrpcMessage::kComplete);
  EXPECT_EQ(message, "abc");
  EXPECT_EQ(size, 8u);
  EXPECT_EQ(ParseGrpcMessage("\x01\x00\x00\x00\x00"s, &message, &size), GrpcMessage::kCompressed);
  EXPECT_EQ(ParseGrpcMessage("\x00\x00\x10\x00\x01"s, &message, &size), GrpcMessage::kTooLarge);
}

TEST(H2WireTest, FindsTheAccessTokenInAResponse) {
  v1::ExchangeTokenResponse r;
  r.set_access_token("x.y.z");
  r.set_expires_in(300);
  r.add_scopes("deploy:write");
  EXPECT_TRUE(ExchangeResponseHasAccessToken(r.SerializeAsString()));
  // Fields before it are skipped by wire type: varint, fixed64, fixed32, bytes.
  EXPECT_TRUE(
      ExchangeResponseHasAccessToken("\x20\x96\x01"
                                     "\x51"
                                     "12345678"
                                     "\x5d"
                                     "1234"
                                     "\x3a\x02hi"
                                     "\x0a\x01t"s));
  r.clear_access_token();
  EXPECT_FALSE(ExchangeResponseHasAccessToken(r.SerializeAsString()));
  EXPECT_FALSE(ExchangeResponseHasAccessToken(""));
  EXPECT_FALSE(ExchangeResponseHasAccessToken("\x0a\x05x.y"s));   // cut short
  EXPECT_FALSE(ExchangeResponseHasAccessToken("\x0a\x00"s));      // empty
  EXPECT_FALSE(ExchangeResponseHasAccessToken("\x0b\x01t"s));     // wire type 3
  EXPECT_FALSE(ExchangeResponseHasAccessToken("\x20\xff\xff"s));  // unterminated varint
}

TEST(H2WireTest, WritesTheRequestProtobufWould) {
  GrpcExchangeWriter writer({"https://api.example", "deploy:write"});
  const std::string token(300, 't');  // a two-byte length
  std::string out = "old";
  writer.Write(token, &out);
  v1::ExchangeTokenRequest want;
  want.set_subject_token(token);
  want.set_subject_token_type("urn:ietf:params:oauth:token-type:jwt");
  want.set_audience("https://api.example");
  want.add_scopes("deploy:write");
  absl::string_view message;
  size_t size = 0;
  ASSERT_EQ(ParseGrpcMessage(out, &message, &size), GrpcMessage::kComplete);
  EXPECT_EQ(size, out.size());
  EXPECT_EQ(message, want.SerializeAsString());
  v1::ExchangeTokenRequest got;
  ASSERT_TRUE(got.ParseFromArray(message.data(), static_cast<int>(message.size())));
  EXPECT_EQ(got.subject_token(), token);
  EXPECT_EQ(got.scopes_size(), 1);
}

}  // namespace
}  // namespace writ::bench

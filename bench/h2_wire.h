// HTTP/2 (RFC 9113) and gRPC on the wire for issuer_load's raw gRPC client:
// frame encoding, an incremental frame parser, the few HPACK (RFC 7541)
// pieces a client needs that never decodes HPACK, and the gRPC message
// prefix around a hand-encoded ExchangeTokenRequest. Pure functions over
// bytes: no sockets, so everything is tested on split and malformed input
// (h2_wire_test.cc).
#ifndef WRIT_BENCH_H2_WIRE_H_
#define WRIT_BENCH_H2_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "bench/load_clients.h"

namespace writ::bench {

// Frame types (RFC 9113 section 6).
enum H2FrameType : uint8_t {
  kH2Data = 0x0,
  kH2Headers = 0x1,
  kH2Priority = 0x2,
  kH2RstStream = 0x3,
  kH2Settings = 0x4,
  kH2PushPromise = 0x5,
  kH2Ping = 0x6,
  kH2Goaway = 0x7,
  kH2WindowUpdate = 0x8,
  kH2Continuation = 0x9,
};

// Frame flags. kH2FlagAck shares END_STREAM's bit (SETTINGS and PING only).
inline constexpr uint8_t kH2FlagEndStream = 0x1;
inline constexpr uint8_t kH2FlagAck = 0x1;
inline constexpr uint8_t kH2FlagEndHeaders = 0x4;
inline constexpr uint8_t kH2FlagPadded = 0x8;
inline constexpr uint8_t kH2FlagPriority = 0x20;

// Settings identifiers (RFC 9113 section 6.5.2).
inline constexpr uint16_t kH2SettingHeaderTableSize = 0x1;
inline constexpr uint16_t kH2SettingEnablePush = 0x2;
inline constexpr uint16_t kH2SettingMaxConcurrentStreams = 0x3;
inline constexpr uint16_t kH2SettingInitialWindowSize = 0x4;
inline constexpr uint16_t kH2SettingMaxFrameSize = 0x5;

// kH2FrameHeaderSize is the fixed part of every frame.
inline constexpr size_t kH2FrameHeaderSize = 9;
// kH2DefaultWindow is every window's size before SETTINGS or WINDOW_UPDATE.
inline constexpr int64_t kH2DefaultWindow = 65535;
// kH2MaxWindow is the largest window flow control allows (2^31 - 1).
inline constexpr int64_t kH2MaxWindow = 0x7fffffff;
// kH2DefaultMaxFrameSize is SETTINGS_MAX_FRAME_SIZE's initial value; this
// client never raises its own.
inline constexpr uint32_t kH2DefaultMaxFrameSize = 16384;
// kH2Cancel is the CANCEL error code, for RST_STREAM.
inline constexpr uint32_t kH2Cancel = 0x8;

// AppendH2FrameHeader appends a frame header for a `length`-byte payload.
// The reserved bit of the stream id is written as 0.
void AppendH2FrameHeader(uint32_t length, uint8_t type, uint8_t flags, uint32_t stream_id,
                         std::string* out);

// AppendH2ClientPreface appends what opens a client connection: the
// connection preface; a SETTINGS frame with HEADER_TABLE_SIZE 0 (the server
// then never indexes response headers, so a literal "grpc-status" stays
// readable without an HPACK decoder), ENABLE_PUSH 0 and INITIAL_WINDOW_SIZE
// 2^31-1; and a WINDOW_UPDATE raising the connection's window to 2^31-1.
void AppendH2ClientPreface(std::string* out);

// AppendH2SettingsAck appends an empty SETTINGS frame with ACK.
void AppendH2SettingsAck(std::string* out);
// AppendH2PingAck appends the PING ACK answering a PING with `payload`
// (8 bytes).
void AppendH2PingAck(absl::string_view payload, std::string* out);
// AppendH2WindowUpdate appends a WINDOW_UPDATE (stream 0: the connection).
void AppendH2WindowUpdate(uint32_t stream_id, uint32_t increment, std::string* out);
// AppendH2RstStream appends an RST_STREAM with `error_code`.
void AppendH2RstStream(uint32_t stream_id, uint32_t error_code, std::string* out);

// H2Frame is one frame; payload points into the parsed buffer.
struct H2Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream_id = 0;  // reserved bit cleared
  absl::string_view payload;
  size_t size = 0;  // header + payload: where the next frame starts
};

enum class H2Parse {
  kIncomplete,  // a prefix of a frame: read more
  kFrame,       // *frame is set
  kTooLarge,    // the length exceeds the maximum: a connection error
};

// ParseH2Frame parses the frame at the start of `data`, refusing payloads
// longer than `max_frame_size` as soon as the header is in. Incremental:
// kIncomplete for any prefix, so callers append what they read and retry.
H2Parse ParseH2Frame(absl::string_view data, uint32_t max_frame_size, H2Frame* frame);

// H2FrameContent is a DATA or HEADERS frame's payload without its padding
// (and, for HEADERS, without the priority fields); other frames' payload as
// it is. False if the padding is longer than the frame (a protocol error).
bool H2FrameContent(const H2Frame& frame, absl::string_view* content);

// H2ReadU32 reads a big-endian 32-bit value at `at` (the caller checks the
// length).
uint32_t H2ReadU32(absl::string_view data, size_t at);

// ParseH2Settings reads a SETTINGS payload's (identifier, value) pairs.
// False if its length is not a multiple of 6.
bool ParseH2Settings(absl::string_view payload, std::vector<std::pair<uint16_t, uint32_t>>* out);

// GrpcRequestHeaderBlock returns the HPACK block of a unary gRPC request's
// headers: :method POST and :scheme http as static-table indexes, then
// :path, :authority, content-type application/grpc and te trailers as
// literals without indexing (no Huffman). It never touches the server's
// dynamic table, so one block serves every request on every connection.
std::string GrpcRequestHeaderBlock(absl::string_view path, absl::string_view authority);

// ScanGrpcStatus looks for a grpc-status field sent as a literal with a
// literal name and a plain (not Huffman) value in an HPACK `block`, without
// decoding HPACK: the bytes "grpc-status" after their length byte 11, then a
// 1-3 digit value. False if there is no such field (the status was indexed,
// Huffman-coded or absent).
bool ScanGrpcStatus(absl::string_view block, int* code);

// GrpcMessage is the result of ParseGrpcMessage.
enum class GrpcMessage {
  kIncomplete,  // fewer bytes than the prefix says
  kComplete,    // *message is set; *size is prefix + message
  kCompressed,  // the compressed flag is set: this client asks for none
  kTooLarge,    // longer than kMaxGrpcResponse
};

// kMaxGrpcResponse bounds the response message: the issuer's are ~1-2 KiB.
inline constexpr size_t kMaxGrpcResponse = 1024 * 1024;

// ParseGrpcMessage reads the length-prefixed message at the start of `data`
// (1 byte compressed flag, 4 bytes big-endian length, the message).
GrpcMessage ParseGrpcMessage(absl::string_view data, absl::string_view* message, size_t* size);

// ExchangeResponseHasAccessToken is true when a serialized
// ExchangeTokenResponse has a non-empty access_token (field 1), read off the
// protobuf wire format without parsing the message. False for malformed
// input.
bool ExchangeResponseHasAccessToken(absl::string_view message);

// GrpcExchangeWriter writes a gRPC-framed ExchangeTokenRequest, encoded by
// hand: subject_token, subject_token_type "urn:...:jwt", and `shape`'s
// audience and one scope, the fields the gRPC++ client sets. Thread-
// compatible (const after construction).
class GrpcExchangeWriter {
 public:
  explicit GrpcExchangeWriter(const ExchangeRequestShape& shape);

  // Write replaces `out` with the 5-byte message prefix and the message.
  void Write(absl::string_view subject_token, std::string* out) const;

 private:
  std::string rest_;  // fields 2-4, encoded once
};

}  // namespace writ::bench

#endif  // WRIT_BENCH_H2_WIRE_H_

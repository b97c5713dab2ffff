#include "bench/h2_wire.h"

#include "absl/strings/ascii.h"

namespace writ::bench {
namespace {

constexpr absl::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

void AppendU16(uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void AppendU32(uint32_t v, std::string* out) {
  AppendU16(static_cast<uint16_t>(v >> 16), out);
  AppendU16(static_cast<uint16_t>(v), out);
}

// AppendHpackInt writes an HPACK integer (RFC 7541 section 5.1) with an
// `prefix_bits`-bit prefix under the representation's `pattern` bits.
void AppendHpackInt(uint8_t pattern, int prefix_bits, uint32_t value, std::string* out) {
  const uint32_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out->push_back(static_cast<char>(pattern | value));
    return;
  }
  out->push_back(static_cast<char>(pattern | max_prefix));
  for (value -= max_prefix; value >= 128; value >>= 7) {
    out->push_back(static_cast<char>(0x80 | (value & 0x7f)));
  }
  out->push_back(static_cast<char>(value));
}

// AppendHpackString writes a string literal without Huffman coding.
void AppendHpackString(absl::string_view s, std::string* out) {
  AppendHpackInt(0x00, 7, static_cast<uint32_t>(s.size()), out);
  out->append(s.data(), s.size());
}

void AppendVarint(uint64_t v, std::string* out) {
  for (; v >= 0x80; v >>= 7) out->push_back(static_cast<char>(0x80 | (v & 0x7f)));
  out->push_back(static_cast<char>(v));
}

// AppendProtoString writes a length-delimited protobuf field.
void AppendProtoString(int field, absl::string_view s, std::string* out) {
  AppendVarint(static_cast<uint64_t>(field) << 3 | 2, out);
  AppendVarint(s.size(), out);
  out->append(s.data(), s.size());
}

bool ReadVarint(absl::string_view data, size_t* at, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *at < data.size(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(data[(*at)++]);
    *v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

void AppendH2FrameHeader(uint32_t length, uint8_t type, uint8_t flags, uint32_t stream_id,
                         std::string* out) {
  out->push_back(static_cast<char>(length >> 16));
  AppendU16(static_cast<uint16_t>(length), out);
  out->push_back(static_cast<char>(type));
  out->push_back(static_cast<char>(flags));
  AppendU32(stream_id & 0x7fffffff, out);
}

void AppendH2ClientPreface(std::string* out) {
  out->append(kPreface.data(), kPreface.size());
  AppendH2FrameHeader(18, kH2Settings, 0, 0, out);
  AppendU16(kH2SettingHeaderTableSize, out);
  AppendU32(0, out);
  AppendU16(kH2SettingEnablePush, out);
  AppendU32(0, out);
  AppendU16(kH2SettingInitialWindowSize, out);
  AppendU32(static_cast<uint32_t>(kH2MaxWindow), out);
  AppendH2WindowUpdate(0, static_cast<uint32_t>(kH2MaxWindow - kH2DefaultWindow), out);
}

void AppendH2SettingsAck(std::string* out) {
  AppendH2FrameHeader(0, kH2Settings, kH2FlagAck, 0, out);
}

void AppendH2PingAck(absl::string_view payload, std::string* out) {
  AppendH2FrameHeader(static_cast<uint32_t>(payload.size()), kH2Ping, kH2FlagAck, 0, out);
  out->append(payload.data(), payload.size());
}

void AppendH2WindowUpdate(uint32_t stream_id, uint32_t increment, std::string* out) {
  AppendH2FrameHeader(4, kH2WindowUpdate, 0, stream_id, out);
  AppendU32(increment & 0x7fffffff, out);
}

void AppendH2RstStream(uint32_t stream_id, uint32_t error_code, std::string* out) {
  AppendH2FrameHeader(4, kH2RstStream, 0, stream_id, out);
  AppendU32(error_code, out);
}

uint32_t H2ReadU32(absl::string_view data, size_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data() + at);
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

H2Parse ParseH2Frame(absl::string_view data, uint32_t max_frame_size, H2Frame* frame) {
  if (data.size() < kH2FrameHeaderSize) return H2Parse::kIncomplete;
  const uint32_t length = H2ReadU32(data, 0) >> 8;
  if (length > max_frame_size) return H2Parse::kTooLarge;
  if (data.size() < kH2FrameHeaderSize + length) return H2Parse::kIncomplete;
  frame->type = static_cast<uint8_t>(data[3]);
  frame->flags = static_cast<uint8_t>(data[4]);
  frame->stream_id = H2ReadU32(data, 5) & 0x7fffffff;
  frame->payload = data.substr(kH2FrameHeaderSize, length);
  frame->size = kH2FrameHeaderSize + length;
  return H2Parse::kFrame;
}

bool H2FrameContent(const H2Frame& frame, absl::string_view* content) {
  absl::string_view p = frame.payload;
  if (frame.type != kH2Data && frame.type != kH2Headers) {
    *content = p;
    return true;
  }
  size_t pad = 0;
  if (frame.flags & kH2FlagPadded) {
    if (p.empty()) return false;
    pad = static_cast<uint8_t>(p[0]);
    p.remove_prefix(1);
  }
  if (frame.type == kH2Headers && (frame.flags & kH2FlagPriority)) {
    if (p.size() < 5) return false;
    p.remove_prefix(5);  // stream dependency and weight
  }
  if (pad > p.size()) return false;
  p.remove_suffix(pad);
  *content = p;
  return true;
}

bool ParseH2Settings(absl::string_view payload, std::vector<std::pair<uint16_t, uint32_t>>* out) {
  if (payload.size() % 6 != 0) return false;
  out->clear();
  for (size_t at = 0; at < payload.size(); at += 6) {
    const uint16_t id = static_cast<uint16_t>(static_cast<uint8_t>(payload[at]) << 8 |
                                              static_cast<uint8_t>(payload[at + 1]));
    out->emplace_back(id, H2ReadU32(payload, at + 2));
  }
  return true;
}

std::string GrpcRequestHeaderBlock(absl::string_view path, absl::string_view authority) {
  std::string block;
  block.push_back(static_cast<char>(0x80 | 3));  // :method POST
  block.push_back(static_cast<char>(0x80 | 6));  // :scheme http
  // Literal without indexing (pattern 0000, 4-bit prefix) of static names:
  // :path is index 4, :authority 1, content-type 31.
  AppendHpackInt(0x00, 4, 4, &block);
  AppendHpackString(path, &block);
  AppendHpackInt(0x00, 4, 1, &block);
  AppendHpackString(authority, &block);
  AppendHpackInt(0x00, 4, 31, &block);
  AppendHpackString("application/grpc", &block);
  block.push_back(0x00);  // literal without indexing, new name
  AppendHpackString("te", &block);
  AppendHpackString("trailers", &block);
  return block;
}

bool ScanGrpcStatus(absl::string_view block, int* code) {
  constexpr absl::string_view kName = "grpc-status";
  for (size_t at = block.find(kName); at != absl::string_view::npos;
       at = block.find(kName, at + 1)) {
    // The name's length byte (11, not Huffman) before it rules out the same
    // bytes inside some other header's value.
    if (at == 0 || block[at - 1] != static_cast<char>(kName.size())) continue;
    const size_t value_at = at + kName.size() + 1;
    if (value_at > block.size()) return false;
    const uint8_t len = static_cast<uint8_t>(block[value_at - 1]);
    if (len < 1 || len > 3 || value_at + len > block.size()) return false;  // Huffman bit too
    int n = 0;
    for (char c : block.substr(value_at, len)) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
      n = n * 10 + (c - '0');
    }
    *code = n;
    return true;
  }
  return false;
}

GrpcMessage ParseGrpcMessage(absl::string_view data, absl::string_view* message, size_t* size) {
  if (data.size() < 5) return GrpcMessage::kIncomplete;
  if (data[0] != 0) return GrpcMessage::kCompressed;
  const uint32_t length = H2ReadU32(data, 1);
  if (length > kMaxGrpcResponse) return GrpcMessage::kTooLarge;
  if (data.size() < 5 + static_cast<size_t>(length)) return GrpcMessage::kIncomplete;
  *message = data.substr(5, length);
  *size = 5 + length;
  return GrpcMessage::kComplete;
}

bool ExchangeResponseHasAccessToken(absl::string_view message) {
  size_t at = 0;
  while (at < message.size()) {
    uint64_t tag, v;
    if (!ReadVarint(message, &at, &tag)) return false;
    switch (tag & 7) {
      case 0:  // varint
        if (!ReadVarint(message, &at, &v)) return false;
        break;
      case 1:  // 64-bit
        at += 8;
        break;
      case 2:  // length-delimited
        if (!ReadVarint(message, &at, &v) || v > message.size() - at) return false;
        if (tag >> 3 == 1) return v > 0;
        at += v;
        break;
      case 5:  // 32-bit
        at += 4;
        break;
      default:
        return false;
    }
  }
  return false;
}

GrpcExchangeWriter::GrpcExchangeWriter(const ExchangeRequestShape& shape) {
  AppendProtoString(2, "urn:ietf:params:oauth:token-type:jwt", &rest_);
  AppendProtoString(3, shape.audience, &rest_);
  AppendProtoString(4, shape.scope, &rest_);
}

void GrpcExchangeWriter::Write(absl::string_view subject_token, std::string* out) const {
  out->assign(5, '\0');  // uncompressed; the length goes in below
  AppendProtoString(1, subject_token, out);
  out->append(rest_);
  const uint32_t length = static_cast<uint32_t>(out->size() - 5);
  for (int i = 0; i < 4; ++i) (*out)[1 + i] = static_cast<char>(length >> (24 - 8 * i));
}

}  // namespace writ::bench

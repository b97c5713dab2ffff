#include "writ/base/base64url.h"

#include <array>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace writ {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (int i = 0; i < 64; ++i) table[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();

absl::Status BadCharacter(absl::string_view encoded, size_t pos) {
  const unsigned char c = static_cast<unsigned char>(encoded[pos]);
  if (c == '=') {
    return absl::InvalidArgumentError(
        absl::StrCat("base64url: padding '=' at offset ", pos, " is not allowed"));
  }
  return absl::InvalidArgumentError(absl::StrCat("base64url: byte 0x",
                                                 absl::Hex(c, absl::kZeroPad2), " at offset ", pos,
                                                 " is outside the base64url alphabet"));
}

}  // namespace

std::string Base64UrlEncode(absl::string_view data) {
  std::string out((data.size() * 4 + 2) / 3, '\0');
  char* o = out.data();
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  const size_t rest = data.size() - i;
  if (rest > 0) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (rest == 2 ? uint32_t{p[i + 1]} << 8 : 0);
    *o++ = kAlphabet[(v >> 18) & 63];
    *o++ = kAlphabet[(v >> 12) & 63];
    if (rest == 2) *o++ = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

absl::StatusOr<std::string> Base64UrlDecode(absl::string_view encoded) {
  if (encoded.size() % 4 == 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("base64url: length ", encoded.size(), " is not a valid encoded length"));
  }
  std::string out(encoded.size() / 4 * 3 + (encoded.size() % 4 == 0 ? 0 : encoded.size() % 4 - 1),
                  '\0');
  char* o = out.data();
  const auto* in = reinterpret_cast<const uint8_t*>(encoded.data());
  const size_t full = encoded.size() / 4 * 4;
  for (size_t i = 0; i < full; i += 4) {
    const int8_t a = kDecode[in[i]], b = kDecode[in[i + 1]], c = kDecode[in[i + 2]],
                 d = kDecode[in[i + 3]];
    if ((a | b | c | d) < 0) {
      for (size_t j = i;; ++j) {
        if (kDecode[in[j]] < 0) return BadCharacter(encoded, j);
      }
    }
    const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
    *o++ = static_cast<char>(v >> 16);
    *o++ = static_cast<char>((v >> 8) & 0xff);
    *o++ = static_cast<char>(v & 0xff);
  }
  const size_t rest = encoded.size() - full;
  if (rest > 0) {
    uint32_t v = 0;
    for (size_t j = 0; j < rest; ++j) {
      const int8_t x = kDecode[in[full + j]];
      if (x < 0) return BadCharacter(encoded, full + j);
      v |= uint32_t(x) << (18 - 6 * j);
    }
    // The last character carries 2 (rest 3) or 4 (rest 2) bits that belong
    // to no byte; a strict decoder requires them to be zero so that every
    // byte string has exactly one accepted encoding.
    const uint32_t unused_mask = rest == 2 ? 0xffff : 0xff;
    if ((v & unused_mask) != 0) {
      return absl::InvalidArgumentError("base64url: non-zero trailing bits in the last character");
    }
    *o++ = static_cast<char>(v >> 16);
    if (rest == 3) *o++ = static_cast<char>((v >> 8) & 0xff);
  }
  return out;
}

}  // namespace writ

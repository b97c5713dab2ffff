#include "issuer/src/mint/ssh_wire.h"

#include "absl/strings/str_cat.h"

namespace writ::issuer {
namespace {

absl::Status Truncated(absl::string_view what, size_t need, size_t have) {
  return absl::InvalidArgumentError(absl::StrCat("SSH data truncated reading ", what, ": needs ",
                                                 need, " bytes, ", have, " left"));
}

}  // namespace

void SshWriter::U32(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(v >> shift));
}

void SshWriter::U64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<char>(v >> shift));
}

void SshWriter::String(absl::string_view bytes) {
  U32(static_cast<uint32_t>(bytes.size()));
  Raw(bytes);
}

void SshWriter::Mpint(absl::string_view magnitude) {
  while (!magnitude.empty() && magnitude.front() == '\0') magnitude.remove_prefix(1);
  const bool pad = !magnitude.empty() && (static_cast<uint8_t>(magnitude.front()) & 0x80) != 0;
  U32(static_cast<uint32_t>(magnitude.size() + (pad ? 1 : 0)));
  if (pad) out_.push_back('\0');
  Raw(magnitude);
}

absl::Status SshReader::U32(absl::string_view what, uint32_t* out) {
  if (rest_.size() < 4) return Truncated(what, 4, rest_.size());
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(rest_[i]);
  rest_.remove_prefix(4);
  *out = v;
  return absl::OkStatus();
}

absl::Status SshReader::U64(absl::string_view what, uint64_t* out) {
  if (rest_.size() < 8) return Truncated(what, 8, rest_.size());
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(rest_[i]);
  rest_.remove_prefix(8);
  *out = v;
  return absl::OkStatus();
}

absl::Status SshReader::String(absl::string_view what, absl::string_view* out) {
  uint32_t len = 0;
  if (absl::Status s = U32(what, &len); !s.ok()) return s;
  // Compare as size_t: a length near 2^32 must not wrap anything.
  if (rest_.size() < static_cast<size_t>(len)) return Truncated(what, len, rest_.size());
  *out = rest_.substr(0, len);
  rest_.remove_prefix(len);
  return absl::OkStatus();
}

absl::Status SshReader::Mpint(absl::string_view what, absl::string_view* magnitude) {
  absl::string_view bytes;
  if (absl::Status s = String(what, &bytes); !s.ok()) return s;
  if (!bytes.empty() && (static_cast<uint8_t>(bytes[0]) & 0x80) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is a negative mpint"));
  }
  if (!bytes.empty() && bytes[0] == '\0') {
    // A leading zero is only there to clear the sign bit of the next byte.
    if (bytes.size() == 1 || (static_cast<uint8_t>(bytes[1]) & 0x80) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is not a minimal mpint (needless leading zero)"));
    }
    bytes.remove_prefix(1);
  }
  *magnitude = bytes;
  return absl::OkStatus();
}

}  // namespace writ::issuer

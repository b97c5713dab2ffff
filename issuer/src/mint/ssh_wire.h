// The SSH binary encoding (RFC 4251 section 5): uint32, uint64, string and
// mpint, as OpenSSH keys and certificates (PROTOCOL.certkeys) use it.
#ifndef WRIT_ISSUER_MINT_SSH_WIRE_H_
#define WRIT_ISSUER_MINT_SSH_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace writ::issuer {

// SshWriter appends SSH wire values to a byte string. Not thread-safe.
class SshWriter {
 public:
  // U32 appends a big-endian uint32.
  void U32(uint32_t v);
  // U64 appends a big-endian uint64.
  void U64(uint64_t v);
  // String appends a uint32 length and `bytes`.
  void String(absl::string_view bytes);
  // Mpint appends the non-negative integer whose unsigned big-endian
  // magnitude is `magnitude` (leading zero bytes allowed), as a minimal
  // two's-complement mpint: no leading zeros, one 0x00 when the top bit is
  // set, zero as the empty string.
  void Mpint(absl::string_view magnitude);
  // Raw appends `bytes` as they are.
  void Raw(absl::string_view bytes) { out_.append(bytes.data(), bytes.size()); }

  const std::string& data() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

// SshReader reads SSH wire values from a buffer it does not own, never past
// its end. Every Read* names the field it reads (`what`) in its error, which
// is kInvalidArgument: "truncated ... reading <what>". After an error the
// reader's position is unspecified. Not thread-safe.
class SshReader {
 public:
  explicit SshReader(absl::string_view data) : rest_(data) {}

  absl::Status U32(absl::string_view what, uint32_t* out);
  absl::Status U64(absl::string_view what, uint64_t* out);
  // String reads a length-prefixed byte string; `out` points into the
  // buffer.
  absl::Status String(absl::string_view what, absl::string_view* out);
  // Mpint reads a non-negative mpint in minimal form and returns its
  // magnitude without the sign byte (empty for zero). A negative or
  // non-minimal encoding is kInvalidArgument.
  absl::Status Mpint(absl::string_view what, absl::string_view* magnitude);

  // remaining: bytes not yet read.
  size_t remaining() const { return rest_.size(); }

 private:
  absl::string_view rest_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_MINT_SSH_WIRE_H_

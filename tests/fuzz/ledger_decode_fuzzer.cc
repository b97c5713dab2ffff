// libFuzzer target: decoding a stored ledger record; what decodes must
// encode and decode back to the same record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "issuer/src/ledger/ledger_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace codec = writ::issuer::ledger_codec;
  absl::string_view value(reinterpret_cast<const char*>(data), size);
  auto record = codec::DecodeRecord(value);
  if (!record.ok()) return 0;
  auto again = codec::DecodeRecord(codec::EncodeRecord(*record, codec::TimeFormat::kUnixMicros));
  if (!again.ok() || again->request_id != record->request_id || again->jti != record->jti) abort();
  return 0;
}

// libFuzzer target: SPIFFE ID parsing; what parses must print and parse back
// to the same ID.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "writ/spiffe/spiffe_id.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto id = writ::SpiffeId::Parse(text);
  if (!id.ok()) return 0;
  auto again = writ::SpiffeId::Parse(id->ToString());
  if (!again.ok() || *again != *id || id->ToString() != text) abort();
  return 0;
}

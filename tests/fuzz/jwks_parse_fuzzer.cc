// libFuzzer target: JWK Set and single JWK parsing, with a round-trip check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "writ/jose/jwk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  (void)writ::PublicJwk::Parse(json);
  auto set = writ::JwkSet::Parse(json);
  if (!set.ok()) return 0;
  // What Writ exports it must read back identically.
  auto again = writ::JwkSet::Parse(set->ToJson());
  if (!again.ok() || again->keys().size() != set->keys().size()) abort();
  for (size_t i = 0; i < set->keys().size(); ++i) {
    if (again->keys()[i].Thumbprint() != set->keys()[i].Thumbprint()) abort();
    if (again->keys()[i].algorithm() != set->keys()[i].algorithm()) abort();
  }
  return 0;
}

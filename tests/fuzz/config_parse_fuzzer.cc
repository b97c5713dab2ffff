// libFuzzer target: writ-issuer's YAML configuration.
#include <cstddef>
#include <cstdint>

#include "issuer/src/config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)writ::issuer::ParseIssuerConfig(text, "/nonexistent/fuzz.yaml");
  return 0;
}

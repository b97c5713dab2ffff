// libFuzzer target: the token endpoint's form-body parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "issuer/src/api/form_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view body(reinterpret_cast<const char*>(data), size);
  auto form = writ::issuer::FormBody::Parse(body);
  if (!form.ok()) return 0;
  // Every decoded pair is reachable through the accessors.
  for (const auto& [name, value] : form->pairs()) {
    if (name.empty()) abort();
    if (form->All(name).empty()) abort();
    (void)value;
  }
  (void)form->Single("subject_token");
  return 0;
}

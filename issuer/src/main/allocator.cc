#include "issuer/src/main/allocator.h"

#include <dlfcn.h>

namespace writ::issuer {

absl::string_view AllocatorName() {
  // tcmalloc defines malloc as an alias of tc_malloc: the same address when,
  // and only when, its malloc is the one in use.
  void* tc_malloc = dlsym(RTLD_DEFAULT, "tc_malloc");
  return tc_malloc != nullptr && tc_malloc == dlsym(RTLD_DEFAULT, "malloc") ? "tcmalloc" : "system";
}

}  // namespace writ::issuer

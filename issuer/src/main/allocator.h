// Which malloc serves this process: writ-issuer and issuer_load link
// gperftools' tcmalloc unless built with WRIT_MALLOC=system (CMakeLists.txt).
#ifndef WRIT_ISSUER_MAIN_ALLOCATOR_H_
#define WRIT_ISSUER_MAIN_ALLOCATOR_H_

#include "absl/strings/string_view.h"

namespace writ::issuer {

// AllocatorName returns "tcmalloc" when malloc resolves to gperftools'
// tc_malloc, else "system" (glibc's, or a sanitizer's). Startup output and the load generator print
// it, so a figure can be matched with the allocator it was measured on.
absl::string_view AllocatorName();

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_MAIN_ALLOCATOR_H_

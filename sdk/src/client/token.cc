#include "writ/client/token.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/digest.h"

namespace writ {
namespace {

// AppendField appends `value` length-prefixed ("<size>:<bytes>"), so no
// choice of bytes in one field can imitate another field or a field
// boundary: "ab" + {"c"} and "a" + {"bc"} give different keys.
void AppendField(std::string* key, absl::string_view value) {
  absl::StrAppend(key, value.size(), ":", value);
}

}  // namespace

std::string TokenRequest::Key() const {
  std::string key = "v1|";
  AppendField(&key, audience);
  // Scope order does not change what is asked, so it does not change the key;
  // a scope named twice is kept twice (the request is passed on as asked).
  std::vector<std::string> sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  absl::StrAppend(&key, "|", sorted.size(), "|");
  for (const std::string& scope : sorted) AppendField(&key, scope);
  // Unset ("-") differs from every set lifetime, zero included.
  if (lifetime.has_value()) {
    absl::StrAppend(&key, "|L", absl::ToInt64Nanoseconds(*lifetime));
  } else {
    absl::StrAppend(&key, "|L-");
  }
  // The actor token is a credential: the key holds only its digest, so a key
  // may be logged or shown in stats.
  if (actor_token.empty()) {
    absl::StrAppend(&key, "|A-");
  } else {
    absl::StrAppend(&key, "|A", Sha256Hex(actor_token));
  }
  return key;
}

}  // namespace writ

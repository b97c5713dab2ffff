#include "writ/client/token.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "writ/crypto/digest.h"

namespace writ {

std::string TokenRequest::Key() const {
  std::vector<std::string> sorted = scopes;
  std::sort(sorted.begin(), sorted.end());
  // Length-prefixed fields: no audience or scope can imitate a separator.
  std::string key = absl::StrCat("aud:", audience.size(), ":", audience, "|scopes:", sorted.size());
  for (const std::string& s : sorted) absl::StrAppend(&key, ":", s.size(), ":", s);
  absl::StrAppend(&key, "|lifetime:",
                  lifetime.has_value() ? absl::StrCat(absl::ToInt64Seconds(*lifetime), "s")
                                       : std::string("default"));
  // The actor token itself never goes into a key (keys may be logged).
  absl::StrAppend(&key,
                  "|actor:", actor_token.empty() ? std::string("none") : Sha256Hex(actor_token));
  return key;
}

}  // namespace writ

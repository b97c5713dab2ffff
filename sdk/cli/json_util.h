// JSON output helpers for the `writ` commands (RapidJSON).
#ifndef WRIT_SDK_CLI_JSON_UTIL_H_
#define WRIT_SDK_CLI_JSON_UTIL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ::cli {

// PrettyJson re-indents a JSON document (two spaces) for people to read.
// Returns kInvalidArgument when `json` is not valid UTF-8 JSON.
absl::StatusOr<std::string> PrettyJson(absl::string_view json);

// JsonMember is one member of a flat JSON object: a string, or a list of
// strings when `list` is set.
struct JsonMember {
  std::string name;
  std::string value;
  std::vector<std::string> list;
  bool is_list = false;
};

// FlatJson writes a one-line JSON object of `members`, in order, escaping
// every string.
std::string FlatJson(const std::vector<JsonMember>& members);

// Indent prefixes every line of `text` with `prefix`.
std::string Indent(absl::string_view text, absl::string_view prefix);

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_JSON_UTIL_H_

// Internal: strict JSON parsing and writing for JOSE objects (RapidJSON).
#ifndef WRIT_SDK_SRC_JOSE_STRICT_JSON_H_
#define WRIT_SDK_SRC_JOSE_STRICT_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rapidjson/document.h"

namespace writ::internal {

// The deepest nesting a JOSE JSON object may have.
inline constexpr int kMaxJsonDepth = 16;

// ParseStrictJsonObject parses `json` into `doc`. Refuses, with
// kInvalidArgument and `what` in the message: syntax errors, invalid UTF-8
// (also when escaped: a lone surrogate "\udc00"), bytes after the value (also
// after a NUL byte), a root that is not an object, nesting deeper than
// kMaxJsonDepth, and an object with two members of the same name (RFC 7515
// section 5.2 lets a parser choose; Writ refuses, RFC 8725 section 3.1). The
// parser is iterative, so hostile nesting cannot exhaust the stack.
absl::Status ParseStrictJsonObject(absl::string_view json, absl::string_view what,
                                   rapidjson::Document* doc);

// FindMember returns the member `name` of `object`, or null.
const rapidjson::Value* FindMember(const rapidjson::Value& object, absl::string_view name);

// AsStringView returns a string value's bytes (embedded NULs included).
inline absl::string_view AsStringView(const rapidjson::Value& v) {
  return absl::string_view(v.GetString(), v.GetStringLength());
}

// AppendJsonString appends `s` as a quoted, escaped JSON string.
void AppendJsonString(absl::string_view s, std::string* out);

// Printable returns at most `max_bytes` of `s` with every byte outside
// printable ASCII replaced by '?', and "..." when cut: safe to put an
// attacker's string into an error message or a log line.
std::string Printable(absl::string_view s, size_t max_bytes = 64);

// ValidateKid checks that a key ID is safe to use as a lookup key and to show
// in messages: 1 to 256 printable ASCII bytes, and no path traversal (".."
// or "\\"). A leading "/" is allowed: standard-base64 kids start with one.
// Returns kInvalidArgument naming the defect.
absl::Status ValidateKid(absl::string_view kid);

}  // namespace writ::internal

#endif  // WRIT_SDK_SRC_JOSE_STRICT_JSON_H_

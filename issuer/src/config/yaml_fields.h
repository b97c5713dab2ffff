// Internal to writ_config: typed, error-collecting reads of yaml-cpp nodes.
//
// Every reader takes the node, its field path ("trusted_issuers[0].leeway")
// and a ConfigErrors; on a wrong type or an out-of-range value it records one
// error at the node's position and leaves the output untouched. Nothing here
// throws, provided the nodes come from a successfully parsed document.
// Not thread-safe (ConfigErrors is mutable state of one load).
#ifndef WRIT_ISSUER_CONFIG_YAML_FIELDS_H_
#define WRIT_ISSUER_CONFIG_YAML_FIELDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer::config_internal {

// ConfigErrors collects "source:line:col: path: message" lines.
class ConfigErrors {
 public:
  explicit ConfigErrors(std::string source) : source_(std::move(source)) {}

  // Add records one error. `mark` is yaml-cpp's 0-based position; a null mark
  // (line < 0) prints without line:col.
  void Add(const YAML::Mark& mark, absl::string_view path, absl::string_view message);

  bool empty() const { return lines_.empty(); }

  // ToStatus returns OK when empty, else kInvalidArgument listing every error,
  // one per line, in file order (errors without a position last).
  absl::Status ToStatus() const;

 private:
  struct Line {
    int64_t line;
    int64_t column;
    std::string text;
  };
  std::string source_;
  std::vector<Line> lines_;
};

// Field is one entry of a YAML mapping.
struct Field {
  std::string name;
  std::string path;  // parent path + "." + name (or just name at top level)
  YAML::Node key;
  YAML::Node value;
};

// ChildPath joins a parent path and a key ("tokens" + "max_lifetime").
std::string ChildPath(absl::string_view parent, absl::string_view name);

// MapFields returns the entries of mapping `node` whose keys are in `known`.
// Records an error for a node that is not a mapping (unless it is null, which
// reads as an empty mapping), for non-scalar keys, for unknown keys, for
// duplicated keys and for keys without a value ("port:"); such entries are
// left out of the result.
std::vector<Field> MapFields(const YAML::Node& node, absl::string_view path,
                             absl::Span<const absl::string_view> known, ConfigErrors& errors);

// ReadString accepts a scalar (an empty string is allowed).
bool ReadString(const YAML::Node& node, absl::string_view path, ConfigErrors& errors,
                std::string* out);

// ReadBool accepts true/false (any letter case).
bool ReadBool(const YAML::Node& node, absl::string_view path, ConfigErrors& errors, bool* out);

// ReadInt accepts an unquoted decimal integer in [min, max].
bool ReadInt(const YAML::Node& node, absl::string_view path, int64_t min, int64_t max,
             ConfigErrors& errors, int64_t* out);

// ReadDuration accepts a Go-style duration (see duration.h) in [min, max].
bool ReadDuration(const YAML::Node& node, absl::string_view path, absl::Duration min,
                  absl::Duration max, ConfigErrors& errors, absl::Duration* out);

// ReadStringList accepts a sequence of scalars; when `non_empty`, an empty
// sequence is an error. Each element must also be a non-empty string.
bool ReadStringList(const YAML::Node& node, absl::string_view path, bool non_empty,
                    ConfigErrors& errors, std::vector<std::string>* out);

// IsLoopbackHost is true for "localhost", any 127.0.0.0/8 address and ::1
// (with or without brackets).
bool IsLoopbackHost(absl::string_view host);

// UrlRule says which URLs CheckUrl accepts.
struct UrlRule {
  // allow_query: a "?query" part is allowed (jwks_uri), or not (issuers).
  bool allow_query = false;
};

// CheckUrl returns an empty string when `url` is https://host[:port][/path],
// or http:// with a loopback host; otherwise what is wrong with it.
std::string CheckUrl(absl::string_view url, UrlRule rule);

}  // namespace writ::issuer::config_internal

#endif  // WRIT_ISSUER_CONFIG_YAML_FIELDS_H_

#include "issuer/src/config/yaml_fields.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "issuer/src/config/duration.h"

namespace writ::issuer::config_internal {
namespace {

absl::string_view Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "an undefined value";
}

void WrongType(const YAML::Node& node, absl::string_view path, absl::string_view want,
               ConfigErrors& errors) {
  errors.Add(node.Mark(), path, absl::StrCat("expected ", want, ", got ", Describe(node)));
}

// IsQuoted is true for scalars written in quotes ("8080"), which YAML tags "!"
// rather than the "?" of plain scalars: a quoted number is a string.
bool IsQuoted(const YAML::Node& node) { return node.Tag() == "!"; }

}  // namespace

void ConfigErrors::Add(const YAML::Mark& mark, absl::string_view path, absl::string_view message) {
  std::string line = source_;
  if (mark.line >= 0 && mark.column >= 0) {
    absl::StrAppend(&line, ":", mark.line + 1, ":", mark.column + 1);
  }
  absl::StrAppend(&line, ": ");
  if (!path.empty()) absl::StrAppend(&line, path, ": ");
  absl::StrAppend(&line, message);
  const int64_t last = std::numeric_limits<int64_t>::max();
  lines_.push_back(Line{mark.line >= 0 ? mark.line : last, mark.column >= 0 ? mark.column : last,
                        std::move(line)});
}

absl::Status ConfigErrors::ToStatus() const {
  if (lines_.empty()) return absl::OkStatus();
  std::vector<Line> sorted = lines_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Line& a, const Line& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  return absl::InvalidArgumentError(
      absl::StrJoin(sorted, "\n", [](std::string* out, const Line& l) { out->append(l.text); }));
}

std::string ChildPath(absl::string_view parent, absl::string_view name) {
  if (parent.empty()) return std::string(name);
  return absl::StrCat(parent, ".", name);
}

std::vector<Field> MapFields(const YAML::Node& node, absl::string_view path,
                             absl::Span<const absl::string_view> known, ConfigErrors& errors) {
  std::vector<Field> fields;
  if (node.IsNull()) return fields;
  if (!node.IsMap()) {
    WrongType(node, path, "a mapping", errors);
    return fields;
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      errors.Add(key.Mark(), path, absl::StrCat("a key must be a plain name, got ", Describe(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    bool is_known = false;
    for (absl::string_view k : known) is_known = is_known || k == name;
    std::string field_path = ChildPath(path, name);
    if (!is_known) {
      errors.Add(key.Mark(), field_path,
                 absl::StrCat("unknown key (expected one of: ", absl::StrJoin(known, ", "), ")"));
      continue;
    }
    if (!seen.insert(name).second) {
      errors.Add(key.Mark(), field_path, "duplicate key");
      continue;
    }
    if (it->second.IsNull()) {
      // yaml-cpp places an empty value at the start of the next line; the key
      // is where the user looks.
      errors.Add(key.Mark(), field_path, "has no value");
      continue;
    }
    fields.push_back(Field{name, std::move(field_path), key, it->second});
  }
  return fields;
}

bool ReadString(const YAML::Node& node, absl::string_view path, ConfigErrors& errors,
                std::string* out) {
  if (!node.IsScalar()) {
    WrongType(node, path, "a string", errors);
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool ReadBool(const YAML::Node& node, absl::string_view path, ConfigErrors& errors, bool* out) {
  if (!node.IsScalar() || IsQuoted(node)) {
    WrongType(node, path, "true or false", errors);
    return false;
  }
  const std::string value = absl::AsciiStrToLower(node.Scalar());
  if (value != "true" && value != "false") {
    errors.Add(node.Mark(), path,
               absl::StrCat("expected true or false, got \"", node.Scalar(), "\""));
    return false;
  }
  *out = value == "true";
  return true;
}

bool ReadInt(const YAML::Node& node, absl::string_view path, int64_t min, int64_t max,
             ConfigErrors& errors, int64_t* out) {
  if (!node.IsScalar() || IsQuoted(node)) {
    WrongType(node, path, "an integer", errors);
    return false;
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(node.Scalar(), &value)) {
    errors.Add(node.Mark(), path, absl::StrCat("expected an integer, got \"", node.Scalar(), "\""));
    return false;
  }
  if (value < min || value > max) {
    errors.Add(node.Mark(), path,
               absl::StrCat("must be between ", min, " and ", max, ", got ", value));
    return false;
  }
  *out = value;
  return true;
}

bool ReadDuration(const YAML::Node& node, absl::string_view path, absl::Duration min,
                  absl::Duration max, ConfigErrors& errors, absl::Duration* out) {
  if (!node.IsScalar()) {
    WrongType(node, path, "a duration such as 30s, 5m or 1h30m", errors);
    return false;
  }
  absl::StatusOr<absl::Duration> value = ParseConfigDuration(node.Scalar());
  if (!value.ok()) {
    errors.Add(node.Mark(), path, value.status().message());
    return false;
  }
  if (*value < min || *value > max) {
    std::string range = max == absl::InfiniteDuration()
                            ? absl::StrCat("at least ", FormatConfigDuration(min))
                            : absl::StrCat("between ", FormatConfigDuration(min), " and ",
                                           FormatConfigDuration(max));
    if (min == absl::Nanoseconds(1) && max == absl::InfiniteDuration()) range = "positive";
    errors.Add(node.Mark(), path,
               absl::StrCat("must be ", range, ", got ", FormatConfigDuration(*value)));
    return false;
  }
  *out = *value;
  return true;
}

bool ReadStringList(const YAML::Node& node, absl::string_view path, bool non_empty,
                    ConfigErrors& errors, std::vector<std::string>* out) {
  if (!node.IsSequence()) {
    WrongType(node, path, "a list of strings", errors);
    return false;
  }
  if (non_empty && node.size() == 0) {
    errors.Add(node.Mark(), path, "must not be empty");
    return false;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const std::string item_path = absl::StrCat(path, "[", i, "]");
    std::string value;
    if (!ReadString(item, item_path, errors, &value)) {
      ok = false;
    } else if (value.empty()) {
      errors.Add(item.Mark(), item_path, "must not be an empty string");
      ok = false;
    } else {
      values.push_back(std::move(value));
    }
  }
  if (ok) *out = std::move(values);
  return ok;
}

bool IsLoopbackHost(absl::string_view host) {
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_loopback, sizeof(v6)) == 0;
  }
  return false;
}

std::string CheckUrl(absl::string_view url, UrlRule rule) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return "must not contain spaces or control characters";
    }
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return "must be an absolute https:// URL";
  const absl::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") {
    return absl::StrCat("must be an https:// URL, got scheme \"", scheme, "\"");
  }
  if (url.find('#') != absl::string_view::npos) return "must not have a #fragment";
  if (!rule.allow_query && url.find('?') != absl::string_view::npos) {
    return "must not have a ?query";
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != absl::string_view::npos) return "must not contain user info (@)";
  absl::string_view host = authority;
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return "has an unterminated [IPv6] host";
    host = authority.substr(0, close + 1);
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return "has junk after the [IPv6] host";
      port = after.substr(1);
      if (port.empty()) return "has an empty port";
    }
  } else if (const size_t colon = authority.find(':'); colon != absl::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return "has an empty port";
  }
  if (host.empty()) return "has no host";
  if (!port.empty()) {
    int value = 0;
    for (char c : port) {
      if (!absl::ascii_isdigit(c)) return absl::StrCat("has an invalid port \"", port, "\"");
    }
    if (port.size() > 5 || !absl::SimpleAtoi(port, &value) || value < 1 || value > 65535) {
      return absl::StrCat("has an invalid port \"", port, "\"");
    }
  }
  if (scheme == "http" && !IsLoopbackHost(host)) {
    return "must use https (plain http is allowed only for loopback hosts)";
  }
  return "";
}

}  // namespace writ::issuer::config_internal

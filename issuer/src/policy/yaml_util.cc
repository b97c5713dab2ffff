#include "issuer/src/policy/yaml_util.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace writ::issuer::policy_internal {

void YamlErrors::Add(const YAML::Node& node, absl::string_view where, absl::string_view field,
                     absl::string_view message) {
  // A node that is absent has no mark (-1); line 0 then means "the file".
  int line = node.IsDefined() ? node.Mark().line + 1 : 0;
  std::string out = absl::StrCat(file_, ":", std::max(line, 0), ": ");
  if (!where.empty()) absl::StrAppend(&out, where, ": ");
  if (!field.empty()) absl::StrAppend(&out, field, ": ");
  absl::StrAppend(&out, message);
  errors_->push_back(std::move(out));
}

bool YamlErrors::CheckKeys(const YAML::Node& node, absl::string_view where, absl::string_view field,
                           std::initializer_list<absl::string_view> allowed) {
  if (!node.IsMap()) {
    Add(node, where, field, "must be a map");
    return false;
  }
  bool ok = true;
  absl::flat_hash_set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      Add(it->first, where, field, "keys must be plain names");
      ok = false;
      continue;
    }
    const std::string& key = it->first.Scalar();
    std::string path = field.empty() ? key : absl::StrCat(field, ".", key);
    if (!seen.insert(key).second) {
      Add(it->first, where, path, "is given twice");
      ok = false;
    }
    if (allowed.size() > 0 &&
        std::find(allowed.begin(), allowed.end(), absl::string_view(key)) == allowed.end()) {
      std::string known;
      for (absl::string_view a : allowed) absl::StrAppend(&known, known.empty() ? "" : ", ", a);
      Add(it->first, where, path, absl::StrCat("unknown key (expected one of: ", known, ")"));
      ok = false;
    }
  }
  return ok;
}

std::optional<std::string> YamlErrors::String(const YAML::Node& node, absl::string_view where,
                                              absl::string_view field) {
  if (!node.IsScalar()) {
    Add(node, where, field, "must be a string");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<std::string> YamlErrors::RequiredString(const YAML::Node& map,
                                                      absl::string_view where,
                                                      absl::string_view prefix,
                                                      absl::string_view key) {
  YAML::Node node = map[std::string(key)];
  if (!node) {
    Add(map, where, absl::StrCat(prefix, key), "is required");
    return std::nullopt;
  }
  std::optional<std::string> s = String(node, where, absl::StrCat(prefix, key));
  if (s && s->empty()) {
    Add(node, where, absl::StrCat(prefix, key), "must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> YamlErrors::Bool(const YAML::Node& node, absl::string_view where,
                                     absl::string_view field) {
  if (node.IsScalar() && (node.Scalar() == "true" || node.Scalar() == "false")) {
    return node.Scalar() == "true";
  }
  Add(node, where, field, "must be true or false");
  return std::nullopt;
}

std::optional<std::vector<std::string>> YamlErrors::StringList(const YAML::Node& node,
                                                               absl::string_view where,
                                                               absl::string_view field) {
  if (!node.IsSequence()) {
    Add(node, where, field, "must be a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar()) {
      Add(node[i], where, absl::StrCat(field, "[", i, "]"), "must be a string");
      return std::nullopt;
    }
    out.push_back(node[i].Scalar());
  }
  return out;
}

}  // namespace writ::issuer::policy_internal

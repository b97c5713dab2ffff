// YAML helpers for the policy loader: typed reads that record an error with
// file and line instead of throwing. Internal to writ_policy; not thread-safe
// (one YamlErrors per file being loaded).
#ifndef WRIT_ISSUER_POLICY_YAML_UTIL_H_
#define WRIT_ISSUER_POLICY_YAML_UTIL_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "issuer/src/policy/policy_test_case.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer::policy_internal {

class YamlErrors {
 public:
  // `errors` is appended to; not owned.
  YamlErrors(std::string file, std::vector<std::string>* errors)
      : file_(std::move(file)), errors_(errors) {}

  const std::string& file() const { return file_; }

  // Add records "file:line: where: field: message" (empty parts are left out).
  void Add(const YAML::Node& node, absl::string_view where, absl::string_view field,
           absl::string_view message);

  // CheckKeys checks that `node` is a map whose keys are scalars from
  // `allowed` (empty = any key), each given once. Records every defect.
  bool CheckKeys(const YAML::Node& node, absl::string_view where, absl::string_view field,
                 std::initializer_list<absl::string_view> allowed);

  // String reads a scalar; records an error for anything else.
  std::optional<std::string> String(const YAML::Node& node, absl::string_view where,
                                    absl::string_view field);
  // RequiredString reads map[key], recording an error when it is absent.
  std::optional<std::string> RequiredString(const YAML::Node& map, absl::string_view where,
                                            absl::string_view prefix, absl::string_view key);
  // Bool reads `true` or `false`; records an error for anything else.
  std::optional<bool> Bool(const YAML::Node& node, absl::string_view where,
                           absl::string_view field);
  // StringList reads a sequence of scalars.
  std::optional<std::vector<std::string>> StringList(const YAML::Node& node,
                                                     absl::string_view where,
                                                     absl::string_view field);

 private:
  std::string file_;
  std::vector<std::string>* errors_;
};

// LoadTestCase reads the `index`th entry of a file's `tests:` list.
std::optional<PolicyTestCase> LoadTestCase(YamlErrors& e, const YAML::Node& node, size_t index);

}  // namespace writ::issuer::policy_internal

#endif  // WRIT_ISSUER_POLICY_YAML_UTIL_H_

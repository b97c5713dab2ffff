// Guards to run before yaml-cpp 0.7 parses text: the shapes of input on which
// it loops forever or recurses without bound. Every YAML file Writ reads
// (config, policies) goes through CheckYamlShape first.
#ifndef WRIT_ISSUER_YAML_YAML_GUARD_H_
#define WRIT_ISSUER_YAML_YAML_GUARD_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer {

// kMaxYamlFlowNesting bounds how deep [ ] and { } may nest.
inline constexpr int kMaxYamlFlowNesting = 64;

// YamlShapeProblem is where and why a text is refused before parsing.
struct YamlShapeProblem {
  YAML::Mark mark;  // null_mark() when there is no position
  std::string message;
};

// CheckYamlShape returns a problem when `yaml` nests flow collections deeper
// than kMaxYamlFlowNesting (yaml-cpp recurses per level) or holds more than
// one document, including the stray "," on which YAML::LoadAll never
// returns. May throw YAML::Exception for a syntax error (callers already
// catch those around YAML::Load).
std::optional<YamlShapeProblem> CheckYamlShape(const std::string& yaml);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_YAML_YAML_GUARD_H_

#include "issuer/src/yaml/yaml_guard.h"

#include <sstream>

#include "absl/strings/str_cat.h"
#include "yaml-cpp/eventhandler.h"

namespace writ::issuer {
namespace {

// SecondDocumentFinder records where documents start; documents are counted
// with two bounded HandleNextDocument calls rather than LoadAll.
class SecondDocumentFinder : public YAML::EventHandler {
 public:
  static std::optional<YAML::Mark> Find(const std::string& yaml) {
    std::istringstream stream(yaml);
    YAML::Parser parser(stream);
    SecondDocumentFinder finder;
    if (!parser.HandleNextDocument(finder)) return std::nullopt;
    if (!parser.HandleNextDocument(finder)) return std::nullopt;
    return finder.last_start_;
  }

  void OnDocumentStart(const YAML::Mark& mark) override { last_start_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  YAML::Mark last_start_ = YAML::Mark::null_mark();
};

// FlowNestingTooDeep over-approximates nesting by counting brackets, quoted
// or not: real files never come close to the bound.
bool FlowNestingTooDeep(absl::string_view yaml) {
  int depth = 0;
  for (char c : yaml) {
    if (c == '[' || c == '{') {
      if (++depth > kMaxYamlFlowNesting) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

std::optional<YamlShapeProblem> CheckYamlShape(const std::string& yaml) {
  if (FlowNestingTooDeep(yaml)) {
    return YamlShapeProblem{
        YAML::Mark::null_mark(),
        absl::StrCat("[ ] and { } nest more than ", kMaxYamlFlowNesting, " levels deep")};
  }
  if (std::optional<YAML::Mark> second = SecondDocumentFinder::Find(yaml)) {
    return YamlShapeProblem{*second,
                            "unexpected content after the first YAML document (a second --- "
                            "document, or a stray \",\")"};
  }
  return std::nullopt;
}

}  // namespace writ::issuer

#include "sdk/cli/json_util.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace writ::cli {
namespace {

// RapidJSON's writer recurses once per nesting level; the parse does not.
// Untrusted documents (`writ jwt decode`) are measured before they are written.
constexpr int kMaxPrettyDepth = 64;

bool NestsDeeperThan(const rapidjson::Value& root, int limit) {
  std::vector<std::pair<const rapidjson::Value*, int>> stack = {{&root, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (depth > limit) return true;
    if (v->IsObject()) {
      for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m)
        stack.push_back({&m->value, depth + 1});
    } else if (v->IsArray()) {
      for (const auto& e : v->GetArray()) stack.push_back({&e, depth + 1});
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> PrettyJson(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
            rapidjson::kParseFullPrecisionFlag>(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", rapidjson::GetParseError_En(doc.GetParseError()),
                     " (at offset ", doc.GetErrorOffset(), ")"));
  }
  if (NestsDeeperThan(doc, kMaxPrettyDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nests deeper than ", kMaxPrettyDepth, " levels"));
  }
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string Indent(absl::string_view text, absl::string_view prefix) {
  std::string out;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    absl::StrAppend(&out, first ? "" : "\n", prefix, line);
    first = false;
  }
  return out;
}

std::string FlatJson(const std::vector<JsonMember>& members) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) {
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  for (const JsonMember& m : members) {
    w.Key(m.name.c_str(), static_cast<rapidjson::SizeType>(m.name.size()));
    if (!m.is_list) {
      str(m.value);
      continue;
    }
    w.StartArray();
    for (const std::string& v : m.list) str(v);
    w.EndArray();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace writ::cli

#include "sdk/src/jose/strict_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"

namespace writ::internal {
namespace {

constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

// Small objects (JOSE headers) compare pairwise; larger ones sort names.
bool HasDuplicateNames(const rapidjson::Value& object, absl::string_view* dup) {
  const rapidjson::SizeType n = object.MemberCount();
  if (n < 2) return false;
  if (n <= 8) {
    for (auto a = object.MemberBegin(); a != object.MemberEnd(); ++a) {
      for (auto b = a + 1; b != object.MemberEnd(); ++b) {
        if (AsStringView(a->name) == AsStringView(b->name)) {
          *dup = AsStringView(a->name);
          return true;
        }
      }
    }
    return false;
  }
  std::vector<absl::string_view> names;
  names.reserve(n);
  for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
    names.push_back(AsStringView(m->name));
  }
  std::sort(names.begin(), names.end());
  auto it = std::adjacent_find(names.begin(), names.end());
  if (it == names.end()) return false;
  *dup = *it;
  return true;
}

std::string Printable(absl::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > 64) out += "...";
  return out;
}

}  // namespace

absl::Status ParseStrictJsonObject(absl::string_view json, absl::string_view what,
                                   rapidjson::Document* doc) {
  doc->Parse<kParseFlags>(json.data(), json.size());
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " is not valid JSON: ", rapidjson::GetParseError_En(doc->GetParseError()),
        " (at offset ", doc->GetErrorOffset(), ")"));
  }
  if (!doc->IsObject())
    return absl::InvalidArgumentError(absl::StrCat(what, " is not a JSON object"));

  std::vector<std::pair<const rapidjson::Value*, int>> stack = {{doc, 1}};
  while (!stack.empty()) {
    auto [value, depth] = stack.back();
    stack.pop_back();
    if (depth > kMaxJsonDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " nests deeper than ", kMaxJsonDepth, " levels"));
    }
    if (value->IsObject()) {
      absl::string_view dup;
      if (HasDuplicateNames(*value, &dup)) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has a duplicate member \"", Printable(dup), "\""));
      }
      for (auto m = value->MemberBegin(); m != value->MemberEnd(); ++m) {
        if (m->value.IsObject() || m->value.IsArray()) stack.push_back({&m->value, depth + 1});
      }
    } else if (value->IsArray()) {
      for (const auto& v : value->GetArray()) {
        if (v.IsObject() || v.IsArray()) stack.push_back({&v, depth + 1});
      }
    }
  }
  return absl::OkStatus();
}

const rapidjson::Value* FindMember(const rapidjson::Value& object, absl::string_view name) {
  for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
    if (AsStringView(m->name) == name) return &m->value;
  }
  return nullptr;
}

void AppendJsonString(absl::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

absl::Status ValidateKid(absl::string_view kid) {
  if (kid.empty()) return absl::InvalidArgumentError("\"kid\" is empty");
  if (kid.size() > 256) return absl::InvalidArgumentError("\"kid\" is longer than 256 bytes");
  for (char ch : kid) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError("\"kid\" contains a control, space or non-ASCII character");
    }
  }
  if (absl::StrContains(kid, "..") || absl::StrContains(kid, "\\") || kid[0] == '/') {
    return absl::InvalidArgumentError(
        "\"kid\" looks like a path (\"..\", \"\\\" or leading \"/\")");
  }
  return absl::OkStatus();
}

}  // namespace writ::internal

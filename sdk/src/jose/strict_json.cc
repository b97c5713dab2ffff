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

// IsValidUtf8 checks the strict UTF-8 of RFC 3629: no overlong forms, no
// UTF-16 surrogates, nothing above U+10FFFF.
bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int len;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // overlong
      if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // overlong
      if (c == 0xf4) hi = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (end - p < len || p[1] < lo || p[1] > hi) return false;
    for (int i = 2; i < len; ++i) {
      if (p[i] < 0x80 || p[i] > 0xbf) return false;
    }
    p += len;
  }
  return true;
}

}  // namespace

std::string Printable(absl::string_view s, size_t max_bytes) {
  std::string out;
  for (char c : s.substr(0, max_bytes)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (s.size() > max_bytes) out += "...";
  return out;
}

absl::Status ParseStrictJsonObject(absl::string_view json, absl::string_view what,
                                   rapidjson::Document* doc) {
  // RapidJSON treats a NUL byte as the end of input, so "{...}\0garbage"
  // would parse as "{...}". A raw NUL is never valid JSON text anyway.
  if (const size_t nul = json.find('\0'); nul != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is not valid JSON: NUL byte at offset ", nul));
  }
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
    // Plain locals, not a structured binding: clang 14 cannot capture those.
    const rapidjson::Value* value = stack.back().first;
    const int depth = stack.back().second;
    stack.pop_back();
    if (depth > kMaxJsonDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " nests deeper than ", kMaxJsonDepth, " levels"));
    }
    // RapidJSON validates the input bytes but decodes an escaped lone low
    // surrogate ("\udc00") into bytes that are not UTF-8; check every string.
    auto visit = [&](const rapidjson::Value& v) {
      if (v.IsString()) return IsValidUtf8(AsStringView(v));
      if (v.IsObject() || v.IsArray()) stack.push_back({&v, depth + 1});
      return true;
    };
    auto bad_string = [&] {
      return absl::InvalidArgumentError(absl::StrCat(
          what, " is not valid JSON: a string escapes a lone UTF-16 surrogate (not UTF-8)"));
    };
    if (value->IsObject()) {
      absl::string_view dup;
      if (HasDuplicateNames(*value, &dup)) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " has a duplicate member \"", Printable(dup), "\""));
      }
      for (auto m = value->MemberBegin(); m != value->MemberEnd(); ++m) {
        if (!visit(m->name) || !visit(m->value)) return bad_string();
      }
    } else if (value->IsArray()) {
      for (const auto& v : value->GetArray()) {
        if (!visit(v)) return bad_string();
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
  // ".." and "\\" never occur in the base64 or hex kids real issuers use. A
  // leading "/" does (standard base64, e.g. AWS Cognito), so it is allowed:
  // a kid is only ever a lookup key, never a path.
  if (absl::StrContains(kid, "..") || absl::StrContains(kid, "\\")) {
    return absl::InvalidArgumentError("\"kid\" looks like a path (\"..\" or \"\\\")");
  }
  return absl::OkStatus();
}

}  // namespace writ::internal

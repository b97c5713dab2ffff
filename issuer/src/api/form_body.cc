#include "issuer/src/api/form_body.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace writ::issuer {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> Decode(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            "malformed form body: '%' must be followed by two hex digits");
      }
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') return absl::InvalidArgumentError("malformed form body: NUL byte");
      out.push_back(decoded);
      i += 2;
    } else if (c == '\0') {
      return absl::InvalidArgumentError("malformed form body: NUL byte");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<FormBody> FormBody::Parse(absl::string_view body, size_t max_params) {
  FormBody form;
  if (body.empty()) return form;
  for (absl::string_view pair : absl::StrSplit(body, '&')) {
    if (pair.empty()) {
      return absl::InvalidArgumentError("malformed form body: empty parameter (\"&&\")");
    }
    if (form.pairs_.size() == max_params) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed form body: more than ", max_params, " parameters"));
    }
    size_t eq = pair.find('=');
    absl::string_view raw_name = pair.substr(0, eq);
    absl::string_view raw_value = eq == absl::string_view::npos ? "" : pair.substr(eq + 1);
    if (raw_name.empty()) {
      return absl::InvalidArgumentError("malformed form body: parameter without a name");
    }
    auto name = Decode(raw_name);
    if (!name.ok()) return name.status();
    auto value = Decode(raw_value);
    if (!value.ok()) return value.status();
    form.pairs_.emplace_back(*std::move(name), *std::move(value));
  }
  return form;
}

absl::StatusOr<std::optional<std::string>> FormBody::Single(absl::string_view name) const {
  std::optional<std::string> found;
  for (const auto& [n, v] : pairs_) {
    if (n != name) continue;
    if (found.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter \"", name, "\" must not be given more than once"));
    }
    found = v;
  }
  return found;
}

std::vector<std::string> FormBody::All(absl::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : pairs_) {
    if (n == name) out.push_back(v);
  }
  return out;
}

}  // namespace writ::issuer

#include "sdk/src/client/client_util.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/net/curl_fetcher.h"

namespace writ::client_internal {

FetchLimits LimitsFor(absl::Duration timeout) {
  FetchLimits limits;
  limits.connect_timeout = std::min(absl::Seconds(2), timeout);
  limits.total_timeout = timeout;
  limits.max_bytes = kMaxReplyBytes;
  return limits;
}

std::string PercentEncode(absl::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, PercentEncode(name), "=", PercentEncode(value));
  }
  return out;
}

absl::StatusOr<std::string> CleanToken(absl::string_view token, absl::string_view from) {
  token = absl::StripAsciiWhitespace(token);
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(from, " gave an empty token"));
  if (token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(absl::StrCat(from, " gave a token of ", token.size(),
                                                   " bytes; at most ", kMaxTokenBytes,
                                                   " are accepted"));
  }
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          from, " gave a token with whitespace or a non-printable byte inside; not a JWT"));
    }
  }
  return std::string(token);
}

absl::Status ParseJsonReply(absl::string_view body, absl::string_view what,
                            rapidjson::Document* doc) {
  return internal::ParseStrictJsonObject(body, what, doc);
}

absl::StatusOr<std::optional<std::string>> OptionalString(const rapidjson::Value& object,
                                                          absl::string_view name, bool multiline) {
  const rapidjson::Value* v = internal::FindMember(object, name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->IsString()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not a string"));
  }
  const absl::string_view value = internal::AsStringView(*v);
  // Values end up in env files, file names and terminals: a line break or a
  // control byte in one is refused, not passed on (PEM text may break lines).
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && !(multiline && (c == '\n' || c == '\r'))) || u == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" holds a control character"));
    }
  }
  return std::optional<std::string>(std::string(value));
}

absl::StatusOr<std::string> RequiredString(const rapidjson::Value& object, absl::string_view name,
                                           bool multiline) {
  absl::StatusOr<std::optional<std::string>> v = OptionalString(object, name, multiline);
  if (!v.ok()) return v.status();
  if (!v->has_value() || (*v)->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is missing or empty"));
  }
  return **std::move(v);
}

absl::StatusOr<int64_t> RequiredInt64(const rapidjson::Value& object, absl::string_view name) {
  const rapidjson::Value* v = internal::FindMember(object, name);
  if (v == nullptr) return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is missing"));
  if (!v->IsInt64()) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is not an integer"));
  }
  return v->GetInt64();
}

FetcherHandle::FetcherHandle(HttpFetcher* given, std::string ca_pem) {
  owned_ = CurlFetcherUnlessGiven(given, {.ca_pem = std::move(ca_pem), .user_agent = "writ-sdk"},
                                  &fetcher_);
}

std::optional<std::string> ReadEnv(const GetEnvFn& getenv, absl::string_view name) {
  if (getenv) return getenv(name);
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace writ::client_internal

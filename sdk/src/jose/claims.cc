#include "writ/jose/claims.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/base/status_macros.h"

namespace writ {

struct JwtClaims::Rep {
  std::string json;
  rapidjson::Document doc;
  std::string issuer, subject, jwt_id;
  std::vector<std::string> audiences;
  std::optional<absl::Time> exp, nbf, iat;
};

namespace {

using internal::AsStringView;
using internal::FindMember;

// 9999-12-31T23:59:59Z: beyond it a NumericDate is surely an error.
constexpr double kMaxNumericDate = 253402300799.0;

absl::Status ReadString(const rapidjson::Value& doc, absl::string_view name, std::string* out) {
  const rapidjson::Value* v = FindMember(doc, name);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsString())
    return absl::InvalidArgumentError(absl::StrCat("claim \"", name, "\" is not a string"));
  *out = std::string(AsStringView(*v));
  return absl::OkStatus();
}

absl::Status ReadTime(const rapidjson::Value& doc, absl::string_view name,
                      std::optional<absl::Time>* out) {
  const rapidjson::Value* v = FindMember(doc, name);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsNumber())
    return absl::InvalidArgumentError(absl::StrCat("claim \"", name, "\" is not a number"));
  const double seconds = v->GetDouble();
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kMaxNumericDate) {
    return absl::InvalidArgumentError(absl::StrCat("claim \"", name, "\" is out of range"));
  }
  // Integral NumericDates (all real issuers) are read exactly.
  *out = v->IsInt64() ? absl::FromUnixSeconds(v->GetInt64())
                      : absl::FromUnixMicros(static_cast<int64_t>(seconds * 1e6));
  return absl::OkStatus();
}

absl::Status ReadAudiences(const rapidjson::Value& doc, std::vector<std::string>* out) {
  const rapidjson::Value* v = FindMember(doc, "aud");
  if (v == nullptr) return absl::OkStatus();
  if (v->IsString()) {
    out->emplace_back(AsStringView(*v));
    return absl::OkStatus();
  }
  if (!v->IsArray())
    return absl::InvalidArgumentError("claim \"aud\" is neither a string nor an array");
  for (const auto& a : v->GetArray()) {
    if (!a.IsString()) return absl::InvalidArgumentError("claim \"aud\" holds a non-string");
    out->emplace_back(AsStringView(a));
  }
  return absl::OkStatus();
}

}  // namespace

JwtClaims::JwtClaims() {
  // One shared empty set: default construction is common (structs holding
  // claims) and must not parse.
  static const std::shared_ptr<const Rep> kEmpty = [] {
    auto rep = std::make_shared<Rep>();
    rep->json = "{}";
    rep->doc.SetObject();
    return rep;
  }();
  rep_ = kEmpty;
}

absl::StatusOr<JwtClaims> JwtClaims::Parse(absl::string_view json) {
  auto rep = std::make_shared<Rep>();
  rep->json = std::string(json);
  RETURN_IF_ERROR(internal::ParseStrictJsonObject(rep->json, "JWT claims", &rep->doc));
  RETURN_IF_ERROR(ReadString(rep->doc, "iss", &rep->issuer));
  RETURN_IF_ERROR(ReadString(rep->doc, "sub", &rep->subject));
  RETURN_IF_ERROR(ReadString(rep->doc, "jti", &rep->jwt_id));
  RETURN_IF_ERROR(ReadAudiences(rep->doc, &rep->audiences));
  RETURN_IF_ERROR(ReadTime(rep->doc, "exp", &rep->exp));
  RETURN_IF_ERROR(ReadTime(rep->doc, "nbf", &rep->nbf));
  RETURN_IF_ERROR(ReadTime(rep->doc, "iat", &rep->iat));
  return JwtClaims(std::move(rep));
}

const std::string& JwtClaims::issuer() const { return rep_->issuer; }
const std::string& JwtClaims::subject() const { return rep_->subject; }
const std::string& JwtClaims::jwt_id() const { return rep_->jwt_id; }
const std::vector<std::string>& JwtClaims::audiences() const { return rep_->audiences; }
std::optional<absl::Time> JwtClaims::expires_at() const { return rep_->exp; }
std::optional<absl::Time> JwtClaims::not_before() const { return rep_->nbf; }
std::optional<absl::Time> JwtClaims::issued_at() const { return rep_->iat; }
const std::string& JwtClaims::json() const { return rep_->json; }

std::optional<absl::string_view> JwtClaims::GetString(absl::string_view name) const {
  return GetStringAt({name});
}

std::optional<absl::string_view> JwtClaims::GetStringAt(
    std::initializer_list<absl::string_view> path) const {
  const rapidjson::Value* v = &rep_->doc;
  for (absl::string_view name : path) {
    if (!v->IsObject()) return std::nullopt;
    v = FindMember(*v, name);
    if (v == nullptr) return std::nullopt;
  }
  if (!v->IsString()) return std::nullopt;
  return AsStringView(*v);
}

std::optional<int64_t> JwtClaims::GetInt64(absl::string_view name) const {
  const rapidjson::Value* v = FindMember(rep_->doc, name);
  if (v == nullptr || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::optional<bool> JwtClaims::GetBool(absl::string_view name) const {
  const rapidjson::Value* v = FindMember(rep_->doc, name);
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

bool JwtClaims::Has(absl::string_view name) const { return FindMember(rep_->doc, name) != nullptr; }

}  // namespace writ

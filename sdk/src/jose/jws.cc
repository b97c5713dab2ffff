#include "writ/jose/jws.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/src/jose/strict_json.h"
#include "writ/base/base64url.h"
#include "writ/base/status_macros.h"

namespace writ {
namespace {

using internal::AsStringView;
using internal::FindMember;

// Header parameters registered by RFC 7515/7516: "crit" may not list them.
constexpr absl::string_view kRegisteredHeaders[] = {
    "alg",  "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty",
    "crit", "enc", "zip", "epk", "apu", "apv", "iv",  "tag",      "p2s", "p2c"};

absl::Status CheckCrit(const rapidjson::Value& header, const rapidjson::Value& crit,
                       const JwsParseOptions& options) {
  if (!crit.IsArray() || crit.Empty()) {
    return absl::InvalidArgumentError("JWS header \"crit\" must be a non-empty array of names");
  }
  for (const auto& name_value : crit.GetArray()) {
    if (!name_value.IsString()) {
      return absl::InvalidArgumentError("JWS header \"crit\" holds a non-string");
    }
    const absl::string_view name = AsStringView(name_value);
    if (std::find(std::begin(kRegisteredHeaders), std::end(kRegisteredHeaders), name) !=
        std::end(kRegisteredHeaders)) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWS header \"crit\" lists registered header \"", name, "\""));
    }
    if (FindMember(header, name) == nullptr) {
      return absl::InvalidArgumentError("JWS header \"crit\" lists a header that is not present");
    }
    const auto& understood = options.understood_critical_headers;
    if (std::find(understood.begin(), understood.end(), name) == understood.end()) {
      std::string shown(name.substr(0, 32));
      for (char& c : shown) {
        if (!absl::ascii_isprint(static_cast<unsigned char>(c))) c = '?';
      }
      return absl::InvalidArgumentError(
          absl::StrCat("JWS critical header \"", shown, "\" is not understood"));
    }
  }
  for (size_t i = 0; i < crit.Size(); ++i) {
    for (size_t j = i + 1; j < crit.Size(); ++j) {
      if (AsStringView(crit[i]) == AsStringView(crit[j])) {
        return absl::InvalidArgumentError("JWS header \"crit\" lists a name twice");
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DecodeSegment(absl::string_view segment, absl::string_view what) {
  auto decoded = Base64UrlDecode(segment);
  if (!decoded.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("JWS ", what, ": ", decoded.status().message()));
  }
  return decoded;
}

absl::Status CheckOptionalString(const rapidjson::Value& header, absl::string_view name,
                                 std::string* out) {
  const rapidjson::Value* v = FindMember(header, name);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsString()) {
    return absl::InvalidArgumentError(absl::StrCat("JWS header \"", name, "\" is not a string"));
  }
  *out = std::string(AsStringView(*v));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedJws> ParseCompactJws(absl::string_view token, const JwsParseOptions& options) {
  if (token.size() > options.max_token_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("token is ", token.size(), " bytes; the limit is ", options.max_token_bytes));
  }
  const size_t dots = std::count(token.begin(), token.end(), '.');
  if (dots == 4) {
    return absl::InvalidArgumentError(
        "token has 5 segments: JWE (encrypted tokens) is not supported");
  }
  if (dots != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("token has ", dots + 1, " segments; a compact JWS has exactly 3"));
  }
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  const absl::string_view header_b64 = token.substr(0, first);
  const absl::string_view payload_b64 = token.substr(first + 1, second - first - 1);
  const absl::string_view signature_b64 = token.substr(second + 1);
  if (header_b64.empty()) return absl::InvalidArgumentError("JWS header segment is empty");
  if (signature_b64.empty()) {
    return absl::InvalidArgumentError("JWS signature segment is empty (unsecured JWS)");
  }

  ParsedJws jws;
  ASSIGN_OR_RETURN(jws.header_json_, DecodeSegment(header_b64, "header"));
  rapidjson::Document header;
  RETURN_IF_ERROR(internal::ParseStrictJsonObject(jws.header_json_, "JWS header", &header));

  const rapidjson::Value* alg = FindMember(header, "alg");
  if (alg == nullptr || !alg->IsString()) {
    return absl::InvalidArgumentError("JWS header \"alg\" is missing or not a string");
  }
  ASSIGN_OR_RETURN(jws.algorithm_, JwsAlgorithmFromName(AsStringView(*alg)));
  if (FindMember(header, "enc") != nullptr) {
    return absl::InvalidArgumentError("JWS header has \"enc\": JWE is not supported");
  }
  if (FindMember(header, "b64") != nullptr) {
    return absl::InvalidArgumentError(
        "JWS header \"b64\" (RFC 7797 unencoded payload) is not supported");
  }
  if (FindMember(header, "zip") != nullptr) {
    return absl::InvalidArgumentError("JWS header \"zip\" is not supported");
  }
  std::string cty;
  RETURN_IF_ERROR(CheckOptionalString(header, "cty", &cty));
  if (absl::EqualsIgnoreCase(cty, "JWT") || absl::EqualsIgnoreCase(cty, "application/jwt")) {
    return absl::InvalidArgumentError("JWS header \"cty\" is JWT: nested tokens are not supported");
  }
  if (const rapidjson::Value* crit = FindMember(header, "crit"); crit != nullptr) {
    RETURN_IF_ERROR(CheckCrit(header, *crit, options));
  }
  RETURN_IF_ERROR(CheckOptionalString(header, "typ", &jws.type_));
  RETURN_IF_ERROR(CheckOptionalString(header, "kid", &jws.kid_));
  if (FindMember(header, "kid") != nullptr) {
    absl::Status kid_ok = internal::ValidateKid(jws.kid_);
    if (!kid_ok.ok())
      return absl::InvalidArgumentError(absl::StrCat("JWS header ", kid_ok.message()));
  }
  // "jku", "x5u", "jwk" and "x5c" are deliberately ignored: keys come only from
  // the verifier's configured key set (RFC 8725 section 3.10).

  ASSIGN_OR_RETURN(jws.payload_, DecodeSegment(payload_b64, "payload"));
  ASSIGN_OR_RETURN(jws.signature_, DecodeSegment(signature_b64, "signature"));
  jws.signing_input_ = std::string(token.substr(0, second));
  return jws;
}

}  // namespace writ

#include "sdk/src/client/oauth_error.h"

#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/src/client/client_util.h"
#include "sdk/src/jose/strict_json.h"

namespace writ::client_internal {
namespace {

struct OAuthError {
  std::string error;
  std::string description;
  std::string request_id;
};

// ParseOAuthError reads an RFC 6749 5.2 error object; nullopt when `body` is
// not one (no string "error" member).
std::optional<OAuthError> ParseOAuthError(absl::string_view body) {
  rapidjson::Document doc;
  if (!ParseJsonReply(body, "the answer", &doc).ok()) return std::nullopt;
  absl::StatusOr<std::string> error = RequiredString(doc, "error");
  if (!error.ok()) return std::nullopt;
  OAuthError out;
  out.error = *std::move(error);
  auto optional = [&doc](absl::string_view name) {
    absl::StatusOr<std::optional<std::string>> v = OptionalString(doc, name);
    return v.ok() && v->has_value() ? **v : std::string();
  };
  out.description = optional("error_description");
  out.request_id = optional("request_id");
  return out;
}

// FirstLine quotes the start of a non-JSON answer (Writ's own plain-text
// errors are worth showing), unless it may echo a credential: a proxy in
// front of Writ that repeats the request would put the OIDC token in a CI
// log otherwise.
std::string FirstLine(absl::string_view body) {
  body = absl::StripAsciiWhitespace(body);
  const absl::string_view line = body.substr(0, body.find('\n'));
  const std::string lower = absl::AsciiStrToLower(line);
  if (absl::StrContains(line, "eyJ") || absl::StrContains(lower, "token") ||
      absl::StrContains(lower, "bearer")) {
    return "(a body that may quote a credential, not shown)";
  }
  return internal::Printable(line, 200);
}

}  // namespace

absl::StatusCode OAuthErrorCode(absl::string_view error, long http_status) {
  if (http_status == 429) return absl::StatusCode::kResourceExhausted;
  if (http_status >= 500 && http_status <= 599) return absl::StatusCode::kUnavailable;
  if (error == "temporarily_unavailable" || error == "server_error") {
    return absl::StatusCode::kUnavailable;
  }
  if (error == "invalid_request" || error == "unsupported_grant_type" ||
      error == "unsupported_token_type") {
    return absl::StatusCode::kInvalidArgument;
  }
  if (error == "invalid_grant" || error == "unauthorized_client" || error == "invalid_client") {
    return absl::StatusCode::kUnauthenticated;
  }
  if (error == "invalid_scope" || error == "invalid_target" || error == "access_denied") {
    return absl::StatusCode::kPermissionDenied;
  }
  switch (http_status) {
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
    case 405:
      return absl::StatusCode::kUnimplemented;
    default:
      break;
  }
  if (http_status >= 400 && http_status <= 499) return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kUnavailable;
}

absl::Status ReplyError(const HttpResponse& reply) {
  const std::optional<OAuthError> error = ParseOAuthError(reply.body);
  const absl::StatusCode code = OAuthErrorCode(error ? error->error : "", reply.status);
  const bool refused = reply.status >= 400 && reply.status <= 499 && reply.status != 429;
  std::string message = refused && error.has_value()
                            ? std::string("the issuer refused")
                            : absl::StrCat("the issuer answered HTTP ", reply.status);
  if (error.has_value()) {
    absl::StrAppend(&message, ": ", internal::Printable(error->error, 64));
    if (!error->description.empty()) {
      absl::StrAppend(&message, ": ", internal::Printable(error->description, 400));
    }
    if (!error->request_id.empty()) {
      absl::StrAppend(&message, " (request_id ", internal::Printable(error->request_id, 64), ")");
    }
  } else if (const std::string line = FirstLine(reply.body); !line.empty()) {
    absl::StrAppend(&message, ": ", line);
  }
  return absl::Status(code, message);
}

}  // namespace writ::client_internal

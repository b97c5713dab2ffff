// Internal: Writ's error answers (RFC 6749 section 5.2 JSON, HTTP status) as
// absl::Status, with the codes client.h documents.
#ifndef WRIT_SDK_SRC_CLIENT_OAUTH_ERROR_H_
#define WRIT_SDK_SRC_CLIENT_OAUTH_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "writ/net/http_fetcher.h"

namespace writ::client_internal {

// OAuthErrorCode maps an OAuth error code answered with `http_status`:
//   HTTP 429                                   -> kResourceExhausted
//   HTTP 5xx, temporarily_unavailable,
//     server_error                             -> kUnavailable
//   invalid_request, unsupported_grant_type,
//     unsupported_token_type                   -> kInvalidArgument
//   invalid_grant, unauthorized_client,
//     invalid_client                           -> kUnauthenticated
//   invalid_scope, invalid_target,
//     access_denied                            -> kPermissionDenied
// and an unknown or missing code by its HTTP status: 401 kUnauthenticated,
// 403 kPermissionDenied, 404 and 405 kUnimplemented (an issuer without that
// endpoint), other 4xx kInvalidArgument, anything else kUnavailable.
absl::StatusCode OAuthErrorCode(absl::string_view error, long http_status);

// ReplyError is the status of a Writ answer other than 200: the code of
// OAuthErrorCode, and a message with the issuer's words:
//   "the issuer refused: <error>: <error_description> (request_id <id>)"  (4xx)
//   "the issuer answered HTTP 503: <error>: <error_description>"          (others)
// A body that is not an OAuth error is quoted by its first line (printable
// ASCII, at most 200 bytes). Never quotes a request.
absl::Status ReplyError(const HttpResponse& reply);

}  // namespace writ::client_internal

#endif  // WRIT_SDK_SRC_CLIENT_OAUTH_ERROR_H_

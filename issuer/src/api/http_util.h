// Internals the HTTP handlers share (http_api.cc, http_certificates.cc):
// JSON writing, OAuth error answers, method checks, and the work pool that
// runs handlers which may block. Not part of the API.
#ifndef WRIT_ISSUER_API_HTTP_UTIL_H_
#define WRIT_ISSUER_API_HTTP_UTIL_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "issuer/src/api/work_pool.h"
#include "issuer/src/http/http_server.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace writ::issuer::http_internal {

using http::HttpRequest;
using http::HttpResponse;
using http::Responder;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void Str(JsonWriter& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// NoStore marks a response that carries a credential (RFC 6749 5.1).
void NoStore(HttpResponse& res);

// OAuthError is an RFC 6749 5.2 JSON error, with the HTTP status of
// OAuthHttpStatus(error), "Retry-After" for 503, and the request id (body
// member and X-Request-Id header) when known.
HttpResponse OAuthError(absl::string_view error, absl::string_view description,
                        absl::string_view request_id = "");

// JsonAnswer is a 200 JSON answer carrying a credential (no-store) and its
// request id.
HttpResponse JsonAnswer(const rapidjson::StringBuffer& buf, const std::string& request_id);

// MediaType returns the request's Content-Type without parameters,
// lowercase ("" when absent).
std::string MediaType(const HttpRequest& req);

// IsGet is true for GET and HEAD (the server drops a HEAD answer's body).
inline bool IsGet(const HttpRequest& req) { return req.method == "GET" || req.method == "HEAD"; }

// MethodNotAllowed is 405 with "Allow: `allow`"; an OAuth JSON error when
// `oauth`, else text.
HttpResponse MethodNotAllowed(absl::string_view allow, bool oauth);

// OffloadOr503 runs `work` on `pool`, or answers 503 (temporarily_unavailable)
// at once when the pool's queue is full.
template <typename Work>
void OffloadOr503(WorkPool* pool, Responder& res, Work work) {
  // The Responder moves into the task; if the pool refuses it, the task (and
  // with it the Responder) is dropped, so answer through a second handle.
  auto shared = std::make_shared<Responder>(std::move(res));
  if (!pool->TrySubmit(
          [shared, work = std::move(work)]() mutable { std::move(work)(std::move(*shared)); })) {
    std::move(*shared).Send(
        OAuthError("temporarily_unavailable", "the issuer is busy; retry in a moment"));
  }
}

}  // namespace writ::issuer::http_internal

#endif  // WRIT_ISSUER_API_HTTP_UTIL_H_

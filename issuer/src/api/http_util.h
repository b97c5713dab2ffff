// Internals the HTTP handlers share (http_api.cc, http_certificates.cc):
// JSON writing, OAuth error answers, body reading. Not part of the API.
#ifndef WRIT_ISSUER_API_HTTP_UTIL_H_
#define WRIT_ISSUER_API_HTTP_UTIL_H_

#include <httplib.h>

#include <string>

#include "absl/strings/string_view.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace writ::issuer::http_internal {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void Str(JsonWriter& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// NoStore marks a response that carries a credential (RFC 6749 5.1).
void NoStore(httplib::Response& res);

// SendOAuthError answers an RFC 6749 5.2 JSON error, with the HTTP status of
// OAuthHttpStatus(error), "Retry-After" for 503, and the request id (body
// member and X-Request-Id header) when known.
void SendOAuthError(httplib::Response& res, absl::string_view error, absl::string_view description,
                    absl::string_view request_id = "");

// MediaType returns the request's Content-Type without parameters,
// lowercase ("" when absent).
std::string MediaType(const httplib::Request& req);

// ReadBody reads the body through httplib's ContentReader (which enforces the
// server's payload limit). On failure it answers the OAuth error itself (413
// when over the limit, else 400) and returns false.
bool ReadBody(const httplib::ContentReader& read, httplib::Response& res, std::string* body);

}  // namespace writ::issuer::http_internal

#endif  // WRIT_ISSUER_API_HTTP_UTIL_H_

// Internal helpers of the SDK client and its attestation sources: URL and
// form encoding, token hygiene, strict JSON replies, owned fetchers. Not part
// of the SDK's API.
#ifndef WRIT_SDK_SRC_CLIENT_CLIENT_UTIL_H_
#define WRIT_SDK_SRC_CLIENT_CLIENT_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "writ/client/attestation.h"
#include "writ/net/http_fetcher.h"

namespace writ::client_internal {

// kMaxTokenBytes bounds an attestation token from any source.
inline constexpr size_t kMaxTokenBytes = 64 * 1024;

// kMaxReplyBytes caps every HTTP reply the client or a source reads.
inline constexpr size_t kMaxReplyBytes = 1 << 20;

// LimitsFor is the FetchLimits of one request bounded by `timeout`: connect
// within 2 s (or the timeout, when shorter), replies up to kMaxReplyBytes.
FetchLimits LimitsFor(absl::Duration timeout);

// PercentEncode escapes every byte but RFC 3986's unreserved characters
// (ALPHA / DIGIT / "-" / "." / "_" / "~") as %XX: safe in a query value and
// in an application/x-www-form-urlencoded value.
std::string PercentEncode(absl::string_view value);

// FormEncode joins (name, value) pairs as "n1=v1&n2=v2", both percent-encoded.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// CleanToken trims the whitespace around a token (files and variables often
// end in a newline) and checks what is left: not empty, at most
// kMaxTokenBytes, printable ASCII without spaces (a token goes into a form
// field or an Authorization header). `from` names the source in messages;
// the token never appears in one. Returns kInvalidArgument.
absl::StatusOr<std::string> CleanToken(absl::string_view token, absl::string_view from);

// ParseJsonReply parses `body` as one JSON object (strictly: no duplicate
// members, no trailing bytes). Returns kInvalidArgument saying what is wrong
// (never quoting the body).
absl::Status ParseJsonReply(absl::string_view body, absl::string_view what,
                            rapidjson::Document* doc);

// OptionalString returns the string member `name` of `object`: nullopt when
// absent, kInvalidArgument ("`name` is not a string") when of another type
// or when it holds a control character (line breaks are allowed only with
// `multiline`, for PEM text).
absl::StatusOr<std::optional<std::string>> OptionalString(const rapidjson::Value& object,
                                                          absl::string_view name,
                                                          bool multiline = false);
// RequiredString is OptionalString that also refuses an absent or empty
// member.
absl::StatusOr<std::string> RequiredString(const rapidjson::Value& object, absl::string_view name,
                                           bool multiline = false);
// RequiredInt64 returns the integer member `name`; kInvalidArgument when
// absent or not an integer.
absl::StatusOr<int64_t> RequiredInt64(const rapidjson::Value& object, absl::string_view name);

// FetcherHandle is the fetcher a client or source uses: the caller's (not
// owned) or its own CurlFetcher.
class FetcherHandle {
 public:
  FetcherHandle(HttpFetcher* given, std::string ca_pem = "");
  HttpFetcher* get() const { return fetcher_; }

 private:
  std::unique_ptr<HttpFetcher> owned_;
  HttpFetcher* fetcher_;
};

// ReadEnv reads variable `name` through `getenv`, or the process environment
// when `getenv` is null.
std::optional<std::string> ReadEnv(const GetEnvFn& getenv, absl::string_view name);

}  // namespace writ::client_internal

#endif  // WRIT_SDK_SRC_CLIENT_CLIENT_UTIL_H_

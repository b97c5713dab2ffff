// A small libcurl client for the CLI's outbound calls: the issuer's token
// endpoint and the CI platform's OIDC token endpoint.
#ifndef WRIT_SDK_CLI_HTTP_CLIENT_H_
#define WRIT_SDK_CLI_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ::cli {

struct HttpReply {
  long status = 0;
  std::string body;
};

// CheckSecureUrl accepts https:// URLs and http:// on a loopback host
// (127.0.0.0/8, [::1], localhost): credentials never cross a network in the
// clear. Returns kInvalidArgument naming the URL otherwise.
absl::Status CheckSecureUrl(absl::string_view url, absl::string_view what);

// HttpGet and HttpPostForm make one request (10 s timeout, no redirects,
// replies over 1 MiB refused). `headers` are "Name: value" lines. Returns
// kUnavailable when the server cannot be reached; any HTTP status is a reply.
absl::StatusOr<HttpReply> HttpGet(absl::string_view url, const std::vector<std::string>& headers);
absl::StatusOr<HttpReply> HttpPostForm(
    absl::string_view url, const std::vector<std::pair<std::string, std::string>>& form);

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_HTTP_CLIENT_H_

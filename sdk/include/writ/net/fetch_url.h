// The rule for every URL Writ fetches or trusts as an issuer:
// https://, or http:// only on a loopback host.
#ifndef WRIT_NET_FETCH_URL_H_
#define WRIT_NET_FETCH_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace writ {

// FetchUrl is the origin of an accepted URL, as libcurl's URL parser reads it.
struct FetchUrl {
  // scheme is "http" or "https" (lower case).
  std::string scheme;
  // host is the host name or address, lower case; IPv6 without brackets.
  std::string host;
  // port is the explicit port, or the scheme's default.
  int port = 0;

  // SameOrigin is true when scheme, host and port are all equal.
  bool SameOrigin(const FetchUrl& other) const {
    return scheme == other.scheme && host == other.host && port == other.port;
  }
};

// IsLoopbackHost is true for "localhost", any IPv4 address in 127.0.0.0/8 and
// the IPv6 address ::1 (with or without brackets).
bool IsLoopbackHost(absl::string_view host);

// ParseFetchUrl parses an absolute URL and applies the scheme rule. Returns
// kInvalidArgument, saying why, for a URL that does not parse, has no host,
// carries user credentials or a fragment, uses a scheme other than http or
// https, or uses http on a host that is not loopback. With
// `allow_metadata_http`, http is also accepted for the cloud instance
// metadata address 169.254.169.254 (and nothing else).
absl::StatusOr<FetchUrl> ParseFetchUrl(absl::string_view url, bool allow_metadata_http = false);

// kMetadataHost is the link-local address of cloud instance metadata services
// (Azure IMDS, ...).
inline constexpr absl::string_view kMetadataHost = "169.254.169.254";

}  // namespace writ

#endif  // WRIT_NET_FETCH_URL_H_

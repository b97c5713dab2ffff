#include "writ/spiffe/spiffe_id.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace writ {
namespace {

constexpr absl::string_view kScheme = "spiffe://";

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsPathChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// Describe names a character that is not allowed, and what it suggests the
// caller tried to put in the ID, so the message says which rule failed.
std::string Describe(char c, bool in_trust_domain) {
  const unsigned char u = static_cast<unsigned char>(c);
  std::string shown = absl::ascii_isgraph(u) ? absl::StrCat("'", std::string(1, c), "'")
                                             : absl::StrCat("byte 0x", absl::Hex(u));
  switch (c) {
    case '?':
      return absl::StrCat(shown, ": a query is not allowed");
    case '#':
      return absl::StrCat(shown, ": a fragment is not allowed");
    case '%':
      return absl::StrCat(shown, ": percent-encoding is not allowed");
    case '@':
      return absl::StrCat(shown, ": userinfo is not allowed");
    case ':':
      if (in_trust_domain) return absl::StrCat(shown, ": a port is not allowed");
      break;
    default:
      break;
  }
  if (in_trust_domain && absl::ascii_isupper(u)) {
    return absl::StrCat(shown, ": the trust domain must be lowercase");
  }
  return in_trust_domain ? absl::StrCat(shown, ": the trust domain allows only [a-z0-9._-]")
                         : absl::StrCat(shown, ": path segments allow only [A-Za-z0-9._-]");
}

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid SPIFFE ID: ", why));
}

}  // namespace

absl::StatusOr<SpiffeId> SpiffeId::Parse(absl::string_view id) {
  if (id.empty()) return Invalid("empty");
  if (id.size() > kMaxBytes) {
    return Invalid(absl::StrCat(id.size(), " bytes, more than the ", kMaxBytes, " allowed"));
  }
  if (!absl::StartsWith(id, kScheme)) {
    return Invalid("the scheme must be exactly \"spiffe://\" (lowercase)");
  }
  absl::string_view rest = id.substr(kScheme.size());
  const size_t slash = rest.find('/');
  absl::string_view trust_domain = rest.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos ? "" : rest.substr(slash);
  if (trust_domain.empty()) return Invalid("the trust domain is empty");
  if (trust_domain.size() > kMaxTrustDomainBytes) {
    return Invalid(absl::StrCat("the trust domain is ", trust_domain.size(),
                                " bytes, more than the ", kMaxTrustDomainBytes, " allowed"));
  }
  for (char c : trust_domain) {
    if (!IsTrustDomainChar(c)) {
      return Invalid(absl::StrCat("trust domain has ", Describe(c, /*in_trust_domain=*/true)));
    }
  }
  if (!path.empty()) {
    // path starts with '/', so the first split piece is always "".
    std::vector<absl::string_view> segments = absl::StrSplit(path.substr(1), '/');
    for (size_t i = 0; i < segments.size(); ++i) {
      absl::string_view segment = segments[i];
      if (segment.empty()) {
        return Invalid(i + 1 == segments.size() ? "the path has a trailing \"/\""
                                                : "the path has an empty segment (\"//\")");
      }
      if (segment == "." || segment == "..") {
        return Invalid(absl::StrCat("the path has a \"", segment, "\" segment"));
      }
      for (char c : segment) {
        if (!IsPathChar(c)) {
          return Invalid(absl::StrCat("path has ", Describe(c, /*in_trust_domain=*/false)));
        }
      }
    }
  }
  return SpiffeId(std::string(trust_domain), std::string(path));
}

}  // namespace writ

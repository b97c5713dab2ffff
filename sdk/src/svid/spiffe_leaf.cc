#include "sdk/src/svid/spiffe_leaf.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "writ/base/status_macros.h"
#include "writ/x509/certificate.h"

namespace writ::svid_internal {
namespace {

constexpr absl::string_view kScheme = "spiffe://";
constexpr size_t kMaxIdBytes = 2048;
constexpr size_t kMaxTrustDomainBytes = 255;

bool IsPathChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

absl::Status CheckTrustDomain(absl::string_view trust_domain) {
  if (trust_domain.empty()) return absl::InvalidArgumentError("the trust domain is empty");
  if (trust_domain.size() > kMaxTrustDomainBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the trust domain is over ", kMaxTrustDomainBytes, " bytes"));
  }
  for (char c : trust_domain) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("trust domain \"",
                                                     absl::CHexEscape(trust_domain),
                                                     "\" has characters outside [a-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SpiffeTrustDomain(absl::string_view id) {
  auto invalid = [id](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", absl::CHexEscape(id.substr(0, 256)), "\" is not a SPIFFE ID: ", why));
  };
  if (id.size() > kMaxIdBytes) return invalid(absl::StrCat("over ", kMaxIdBytes, " bytes"));
  if (!absl::StartsWith(id, kScheme)) return invalid("it does not start with \"spiffe://\"");
  const absl::string_view rest = id.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const absl::string_view trust_domain = rest.substr(0, slash);
  if (absl::Status td = CheckTrustDomain(trust_domain); !td.ok()) return invalid(td.message());
  if (slash != absl::string_view::npos) {
    const std::vector<absl::string_view> segments = absl::StrSplit(rest.substr(slash + 1), '/');
    for (absl::string_view segment : segments) {
      if (segment.empty()) return invalid("the path has an empty segment");
      if (segment == "." || segment == "..") return invalid("the path has a dot segment");
      for (char c : segment) {
        if (!IsPathChar(c)) return invalid("the path has characters outside [A-Za-z0-9._-]");
      }
    }
  }
  return std::string(trust_domain);
}

absl::StatusOr<std::string> LeafSpiffeId(const X509* leaf) {
  if (leaf == nullptr) return absl::InvalidArgumentError("no certificate");
  ASSIGN_OR_RETURN(std::vector<std::string> uris, CertificateUriSans(leaf));
  if (uris.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate has ", uris.size(),
                     " URI SANs; an X.509-SVID has exactly one, its SPIFFE ID"));
  }
  RETURN_IF_ERROR(SpiffeTrustDomain(uris.front()).status());
  return std::move(uris.front());
}

}  // namespace writ::svid_internal

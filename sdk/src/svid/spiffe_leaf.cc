#include "sdk/src/svid/spiffe_leaf.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "writ/base/status_macros.h"
#include "writ/spiffe/spiffe_id.h"
#include "writ/x509/certificate.h"

namespace writ::svid_internal {

// Both checks are SpiffeId::Parse's (SPIFFE-ID.md, as go-spiffe reads it), so
// the SDK accepts exactly the IDs the issuer issues.
absl::Status CheckTrustDomain(absl::string_view trust_domain) {
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(absl::StrCat("spiffe://", trust_domain));
  if (!id.ok()) return id.status();
  if (!id->path().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", trust_domain.substr(0, 256), "\" is not a trust domain name"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> SpiffeTrustDomain(absl::string_view id) {
  ASSIGN_OR_RETURN(SpiffeId parsed, SpiffeId::Parse(id));
  return parsed.trust_domain();
}

absl::StatusOr<std::string> LeafSpiffeId(const X509* leaf) {
  if (leaf == nullptr) return absl::InvalidArgumentError("no certificate");
  ASSIGN_OR_RETURN(std::vector<std::string> uris, CertificateUriSans(leaf));
  if (uris.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate has ", uris.size(),
                     " URI SANs; an X.509-SVID has exactly one, its SPIFFE ID"));
  }
  RETURN_IF_ERROR(SpiffeId::Parse(uris.front()).status());
  return std::move(uris.front());
}

}  // namespace writ::svid_internal

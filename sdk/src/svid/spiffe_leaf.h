// Internal: the SPIFFE checks the X509Source and the gRPC credentials share:
// SPIFFE ID syntax (writ/spiffe/spiffe_id.h, SPIFFE-ID.md section 2)
// and the one-URI-SAN rule of X.509-SVIDs (X509-SVID.md 2).
#ifndef WRIT_SDK_SRC_SVID_SPIFFE_LEAF_H_
#define WRIT_SDK_SRC_SVID_SPIFFE_LEAF_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "writ/crypto/ssl_ptr.h"

namespace writ::svid_internal {

// CheckTrustDomain returns OK if `trust_domain` is 1 to 255 bytes of
// [a-z0-9._-], else kInvalidArgument saying why.
absl::Status CheckTrustDomain(absl::string_view trust_domain);

// SpiffeTrustDomain checks that `id` is a SPIFFE ID ("spiffe://" + trust
// domain + a path of non-empty segments of [A-Za-z0-9._-], none "." or "..",
// at most 2048 bytes) and returns its trust domain. kInvalidArgument with the
// defect otherwise.
absl::StatusOr<std::string> SpiffeTrustDomain(absl::string_view id);

// LeafSpiffeId returns the SPIFFE ID of an X.509-SVID leaf: its URI SAN,
// which must be the only one and a valid SPIFFE ID. kInvalidArgument
// otherwise (no URI SAN, several, a malformed SAN extension, a bad ID).
absl::StatusOr<std::string> LeafSpiffeId(const X509* leaf);

}  // namespace writ::svid_internal

#endif  // WRIT_SDK_SRC_SVID_SPIFFE_LEAF_H_

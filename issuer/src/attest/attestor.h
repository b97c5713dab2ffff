// Attestor: verifies a caller's proof of identity.
#ifndef WRIT_ISSUER_ATTEST_ATTESTOR_H_
#define WRIT_ISSUER_ATTEST_ATTESTOR_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "issuer/src/attest/attested_identity.h"
#include "writ/net/jwks_source.h"

namespace writ::issuer {

// Attestor turns a presented credential into an AttestedIdentity.
// Implementations are thread-safe.
class Attestor {
 public:
  virtual ~Attestor() = default;
  // Attest verifies `token`. Returns:
  //   kInvalidArgument   the token is malformed or too large;
  //   kUnauthenticated   unknown issuer, bad signature, wrong audience, expired,
  //                      not yet valid, unknown key, replayed jti;
  //   kUnavailable       the issuer's keys cannot be obtained right now;
  //   kAborted           only with KeyFetch::kNotNow: the issuer's keys must
  //                      be fetched (or a fetch waited for) first. Nothing
  //                      was remembered (no jti); call again with kAllowed
  //                      from a thread that may block.
  // Messages say what failed and never contain the token. With kNotNow,
  // Attest never blocks: an event loop may call it.
  virtual absl::StatusOr<AttestedIdentity> Attest(absl::string_view token, KeyFetch fetch) = 0;
  absl::StatusOr<AttestedIdentity> Attest(absl::string_view token) {
    return Attest(token, KeyFetch::kAllowed);
  }

  // Forget undoes what Attest remembered of `identity` (a one-time "jti"),
  // for an exchange that then failed through no fault of the caller (an
  // outage), so the caller's retry is not refused as a replay. Default:
  // nothing to undo.
  virtual void Forget(const AttestedIdentity& identity) { (void)identity; }
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_ATTESTOR_H_

// AttestedIdentity: who a caller proved to be, after its attestation passed.
#ifndef WRIT_ISSUER_ATTEST_ATTESTED_IDENTITY_H_
#define WRIT_ISSUER_ATTEST_ATTESTED_IDENTITY_H_

#include <string>

#include "absl/time/time.h"
#include "writ/jose/claims.h"

namespace writ::issuer {

// AttestedIdentity is the verified result of an attestation. Cheap to copy.
struct AttestedIdentity {
  // issuer_name is the trusted issuer's name in the configuration ("github");
  // policy rules refer to issuers by this name.
  std::string issuer_name;
  // issuer is the token's exact "iss" (the trusted issuer's URL).
  std::string issuer;
  // subject is the token's "sub".
  std::string subject;
  // jti is the token's "jti"; empty when it had none.
  std::string jti;
  // expires_at is the token's "exp".
  absl::Time expires_at;
  // claims holds every claim of the verified token.
  JwtClaims claims;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_ATTEST_ATTESTED_IDENTITY_H_

// Helpers shared by the policy engine's unit tests.
#ifndef WRIT_ISSUER_POLICY_POLICY_TEST_UTIL_H_
#define WRIT_ISSUER_POLICY_POLICY_TEST_UTIL_H_

#include <string>
#include <utility>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "issuer/src/attest/attested_identity.h"
#include "writ/jose/claims.h"

namespace writ::issuer::policy_testing {

// Identity is an attested identity of trusted issuer `issuer_name` (URL
// https://issuer.example), `subject`, and the claims of `claims_json`.
inline AttestedIdentity Identity(std::string issuer_name, std::string subject,
                                 std::string claims_json) {
  absl::StatusOr<JwtClaims> claims = JwtClaims::Parse(claims_json);
  EXPECT_TRUE(claims.ok()) << claims.status();
  return AttestedIdentity{std::move(issuer_name), "https://issuer.example",
                          std::move(subject),     "",
                          absl::InfiniteFuture(), claims.ok() ? *claims : JwtClaims()};
}

}  // namespace writ::issuer::policy_testing

#endif  // WRIT_ISSUER_POLICY_POLICY_TEST_UTIL_H_

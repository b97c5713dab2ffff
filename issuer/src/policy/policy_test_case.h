// PolicyTestCase: one `tests:` entry of a policy file, parsed at load.
#ifndef WRIT_ISSUER_POLICY_POLICY_TEST_CASE_H_
#define WRIT_ISSUER_POLICY_POLICY_TEST_CASE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "issuer/src/attest/attested_identity.h"
#include "issuer/src/policy/decision.h"

namespace writ::issuer {

// The time a test case is decided at when its request names none: Monday
// 2024-01-01 12:00:00 UTC, so cases are reproducible whatever the date.
absl::Time DefaultPolicyTestTime();

// PolicyTestCase is a request and what the policy set must answer to it.
struct PolicyTestCase {
  std::string name;
  std::string file;
  int line = 0;
  AttestedIdentity identity;
  PolicyRequest request;
  struct Expect {
    bool allow = false;
    std::optional<std::string> rule;
    std::optional<std::string> subject;
    std::optional<std::vector<std::string>> scopes;
    std::optional<absl::Duration> lifetime;
    std::optional<DenyCode> error;
    // ssh: the granted principals and source addresses, in order.
    std::optional<std::vector<std::string>> principals;
    std::optional<std::vector<std::string>> source_addresses;
    // x509-svid: whether the SVID is renewable.
    std::optional<bool> renewable;
  } expect;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_POLICY_POLICY_TEST_CASE_H_

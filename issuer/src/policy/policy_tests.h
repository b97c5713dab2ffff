// RunPolicyTests runs the `tests:` cases of a loaded policy set: each case's
// request is decided and the decision compared with what the case expects.
#ifndef WRIT_ISSUER_POLICY_POLICY_TESTS_H_
#define WRIT_ISSUER_POLICY_POLICY_TESTS_H_

#include <string>
#include <vector>

#include "issuer/src/policy/policy_engine.h"

namespace writ::issuer {

// PolicyTestResult is one case's outcome.
struct PolicyTestResult {
  std::string name;
  std::string file;
  int line = 0;
  bool passed = false;
  // message says, for a failure, what was expected and what was decided,
  // with the deny reasons; empty when passed.
  std::string message;
};

// PolicyTestReport is every case's outcome, in file order.
struct PolicyTestReport {
  std::vector<PolicyTestResult> results;
  int passed = 0;
  int failed = 0;
  bool ok() const { return failed == 0; }
  // Summary is "N passed, M failed" plus, when failed, the first failures.
  std::string Summary() const;
};

// RunPolicyTests decides every test case of `engine`. Thread-safe.
PolicyTestReport RunPolicyTests(const PolicyEngine& engine);

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_POLICY_POLICY_TESTS_H_

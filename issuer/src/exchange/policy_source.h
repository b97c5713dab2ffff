// PolicySource: the exchange's view of the policies in force.
#ifndef WRIT_ISSUER_EXCHANGE_POLICY_SOURCE_H_
#define WRIT_ISSUER_EXCHANGE_POLICY_SOURCE_H_

#include "issuer/src/policy/decision.h"

namespace writ::issuer {

// PolicySource decides with whatever policy set is in force at the moment of
// the call (a reload may swap it between calls). Thread-safe.
class PolicySource {
 public:
  virtual ~PolicySource() = default;
  virtual Decision Decide(const AttestedIdentity& identity, const PolicyRequest& request) const = 0;
  virtual Explanation Explain(const AttestedIdentity& identity,
                              const PolicyRequest& request) const = 0;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_EXCHANGE_POLICY_SOURCE_H_

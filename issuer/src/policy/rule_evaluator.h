// Evaluates one compiled rule against a request. Internal to writ_policy.
#ifndef WRIT_ISSUER_POLICY_RULE_EVALUATOR_H_
#define WRIT_ISSUER_POLICY_RULE_EVALUATOR_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "issuer/src/policy/compiled_policy.h"
#include "issuer/src/policy/decision.h"
#include "issuer/src/policy/policy_engine.h"
#include "rapidjson/document.h"

namespace writ::issuer::policy_internal {

// Stage is how far a rule got: the stage it failed at, or kAllowed. The order
// is the evaluation order and decides the deny code.
enum class Stage {
  kIssuer = 0,  // the token's issuer is not the rule's
  kIdentity,    // subject, claims, the grant subject's template (for x509-svid:
                // a valid SPIFFE ID) or an SSH principal template
  kKind,        // the rule does not grant the credential kind asked for
  kConditions,  // source address, time window; ssh source_address "client"
                // without a usable client address
  kDelegation,
  kAudience,  // the audience (or any audience, for a kind that has none)
  kScopes,    // scopes, SSH principals or lifetime
  kAllowed,
};

// ClaimLookup reads claims by dotted path. String claims come straight from
// JwtClaims; other scalars (bool, number) are read by parsing the claims JSON
// once, lazily, on first need. Not thread-safe; one per decision.
class ClaimLookup {
 public:
  enum class Kind { kString, kScalar, kMissing, kNotScalar };
  explicit ClaimLookup(const JwtClaims& claims) : claims_(claims) {}
  // Get sets `*value` (valid until the next call or this object's end) for
  // kString and kScalar (the JSON text, e.g. "true", "42").
  Kind Get(const ClaimPath& path, absl::string_view* value);

 private:
  const JwtClaims& claims_;
  std::unique_ptr<rapidjson::Document> doc_;
  std::string scratch_;
};

// RequestContext is the per-decision state shared by every rule.
struct RequestContext {
  RequestContext(const AttestedIdentity& id, const PolicyRequest& req,
                 const PolicyEngineOptions& opts);
  const AttestedIdentity& identity;
  const PolicyRequest& request;
  const PolicyEngineOptions& options;
  ClaimLookup claims;
  std::optional<IpAddress> client_address;
};

struct RuleEvaluation {
  Stage failed_at = Stage::kAllowed;
  std::vector<std::string> why_not;
  std::vector<std::pair<std::string, std::string>> used_claims;
  std::optional<Grant> grant;  // set when allowed
};

// EvaluateRule runs `rule`. With `all` false it stops at the first failure;
// with `all` true it records every failed condition (for Explain).
RuleEvaluation EvaluateRule(const Rule& rule, RequestContext& ctx, bool all);

}  // namespace writ::issuer::policy_internal

#endif  // WRIT_ISSUER_POLICY_RULE_EVALUATOR_H_

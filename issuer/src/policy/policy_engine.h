// PolicyEngine: a loaded, compiled set of scope policies (policies/*.yaml;
// format in policies/README.md) that decides who may get which credential.
//
//   PolicyEngineOptions options;
//   options.known_issuers = {"github", "gitlab"};
//   ASSIGN_OR_RETURN(auto engine, PolicyEngine::LoadDirectory("policies", options));
//   Decision d = engine->Decide(identity, request);
//
// Rules are evaluated in file-name order, then file order; the first rule that
// allows wins. Everything is parsed and compiled at load, so Decide does no
// parsing and no allocation beyond its answer. Default deny.
#ifndef WRIT_ISSUER_POLICY_POLICY_ENGINE_H_
#define WRIT_ISSUER_POLICY_POLICY_ENGINE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "issuer/src/attest/attested_identity.h"
#include "issuer/src/policy/decision.h"
#include "issuer/src/policy/policy_test_case.h"

namespace writ::issuer {

namespace policy_internal {
struct CompiledSet;
}  // namespace policy_internal

struct PolicyEngineOptions {
  // The lifetime granted when neither the request nor the rule names one.
  // Default: 5 minutes.
  absl::Duration default_lifetime = absl::Minutes(5);
  // The longest lifetime any rule may grant; longer requests are clamped.
  // Default: 1 hour.
  absl::Duration max_lifetime = absl::Hours(1);
  // The longest delegation chain any rule may accept. Default: 4.
  int max_delegation_depth = 4;
  // The trusted issuer names of the configuration. When non-empty, a rule (or
  // delegation actor) naming another issuer is a load error. Default: empty
  // (any name).
  std::vector<std::string> known_issuers;
  // The issuer's SPIFFE trust domain (x509.trust_domain). When non-empty, a
  // rule granting x509-svid whose SPIFFE ID template names another trust
  // domain is a load error: no SVID could ever be issued for it.
  // Default: empty (not checked)
  std::string x509_trust_domain;
};

// PolicyEngine is immutable after loading and thread-safe.
class PolicyEngine {
 public:
  // LoadDirectory loads every *.yaml / *.yml file directly in `dir`, in name
  // order; file names in errors and decisions are the base names. An empty
  // directory is a valid set that denies everything. Returns kNotFound /
  // kPermissionDenied when the directory or a file cannot be read, and
  // kInvalidArgument listing every error (one per line, "file:line: rule
  // \"x\": field: what is wrong") when the set does not load.
  static absl::StatusOr<std::shared_ptr<const PolicyEngine>> LoadDirectory(
      absl::string_view dir, const PolicyEngineOptions& options);

  // LoadFiles loads the given files as one set, in the order given; each
  // path, as given, is its file name. Errors as LoadDirectory.
  static absl::StatusOr<std::shared_ptr<const PolicyEngine>> LoadFiles(
      const std::vector<std::string>& paths, const PolicyEngineOptions& options);

  // FromSources loads (file name, YAML text) pairs in the order given.
  static absl::StatusOr<std::shared_ptr<const PolicyEngine>> FromSources(
      const std::vector<std::pair<std::string, std::string>>& sources,
      const PolicyEngineOptions& options);

  ~PolicyEngine();
  PolicyEngine(const PolicyEngine&) = delete;
  PolicyEngine& operator=(const PolicyEngine&) = delete;

  // Decide answers whether `identity` may have what `request` asks for.
  Decision Decide(const AttestedIdentity& identity, const PolicyRequest& request) const;

  // Explain is Decide plus, for every rule in evaluation order, whether it
  // matched and every condition it failed.
  Explanation Explain(const AttestedIdentity& identity, const PolicyRequest& request) const;

  size_t rule_count() const;
  // file_names are the files the set was loaded from, in evaluation order.
  const std::vector<std::string>& file_names() const;
  // test_cases are the `tests:` entries of every file, in file order.
  const std::vector<PolicyTestCase>& test_cases() const;
  const PolicyEngineOptions& options() const { return options_; }

 private:
  PolicyEngine(std::unique_ptr<const policy_internal::CompiledSet> set,
               PolicyEngineOptions options);
  Decision Evaluate(const AttestedIdentity& identity, const PolicyRequest& request,
                    std::vector<RuleTrace>* traces) const;

  std::unique_ptr<const policy_internal::CompiledSet> set_;
  PolicyEngineOptions options_;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_POLICY_POLICY_ENGINE_H_

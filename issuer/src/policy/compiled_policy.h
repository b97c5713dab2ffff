// The compiled form of a policy set: what the loader builds and the engine
// evaluates. Internal to writ_policy; immutable after loading.
#ifndef WRIT_ISSUER_POLICY_COMPILED_POLICY_H_
#define WRIT_ISSUER_POLICY_COMPILED_POLICY_H_

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "issuer/src/policy/decision.h"
#include "issuer/src/policy/matchers.h"
#include "issuer/src/policy/policy_test_case.h"
#include "re2/re2.h"

namespace writ::issuer::policy_internal {

// SubjectMatcher: an issuer name and an exact subject or an anchored pattern
// (neither = any subject).
struct SubjectMatcher {
  std::string issuer;
  std::optional<std::string> subject;
  std::shared_ptr<const RE2> pattern;
  std::string pattern_text;
};

struct ClaimMatcher {
  enum class Kind { kExact, kGlob, kRegex, kOneOf };
  ClaimPath path;
  Kind kind = Kind::kExact;
  std::string exact;
  std::optional<Glob> glob;
  std::shared_ptr<const RE2> regex;
  std::string regex_text;
  std::vector<std::string> one_of;
};

struct Delegation {
  int max_depth = 1;
  std::vector<SubjectMatcher> actors;
};

// SshGrant is a rule's grant.ssh block.
struct SshGrant {
  // principals are templates like the grant subject ("ci-{repository_owner}").
  std::vector<SubjectTemplate> principals;
  // pin_client: source_address "client" (the requester's own address).
  bool pin_client = false;
  // source_addresses: the literal addresses / CIDR blocks, as written.
  std::vector<std::string> source_addresses;
};

struct Rule {
  std::string name;
  std::string file;
  int line = 0;
  SubjectMatcher identity;
  std::vector<ClaimMatcher> claims;
  std::vector<Cidr> source_cidrs;  // empty = any address
  bool has_cidrs = false;
  std::optional<TimeWindow> time_window;
  SubjectTemplate subject_template;
  std::vector<std::string> audiences;
  std::vector<std::string> scopes;
  std::vector<std::string> default_scopes;
  std::optional<absl::Duration> default_lifetime;
  std::optional<absl::Duration> max_lifetime;
  std::vector<ClaimPath> include_claims;
  std::optional<Delegation> delegation;
  // credentials the rule grants (grant.credentials), in the order written.
  std::vector<CredentialKind> credentials = {CredentialKind::kJwt};
  bool renewable = false;       // grant.x509_svid.renewable
  std::optional<SshGrant> ssh;  // set when credentials include ssh

  bool Grants(CredentialKind kind) const {
    return std::find(credentials.begin(), credentials.end(), kind) != credentials.end();
  }
};

struct CompiledSet {
  std::vector<std::string> files;
  std::vector<Rule> rules;
  std::vector<PolicyTestCase> tests;
};

// LoadSources parses and compiles `sources` ((file name, YAML) pairs, in
// evaluation order). Returns kInvalidArgument listing every error, one per
// line, as "file:line: rule \"x\": field: what is wrong".
struct LoadOptions {
  std::vector<std::string> known_issuers;
};
absl::StatusOr<CompiledSet> LoadSources(
    const std::vector<std::pair<std::string, std::string>>& sources, const LoadOptions& options);

}  // namespace writ::issuer::policy_internal

#endif  // WRIT_ISSUER_POLICY_COMPILED_POLICY_H_

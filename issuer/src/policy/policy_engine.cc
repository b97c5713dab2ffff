#include "issuer/src/policy/policy_engine.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "issuer/src/policy/compiled_policy.h"
#include "issuer/src/policy/rule_evaluator.h"
#include "writ/base/status_macros.h"

namespace writ::issuer {

using policy_internal::CompiledSet;
using policy_internal::RuleEvaluation;
using policy_internal::Stage;

namespace {

// The largest policy file read, in bytes.
constexpr uintmax_t kMaxPolicyFileBytes = 1 << 20;

absl::StatusOr<std::string> ReadPolicyFile(const std::filesystem::path& path) {
  std::error_code ec;
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return ec == std::errc::no_such_file_or_directory
               ? absl::NotFoundError(absl::StrCat(path.string(), ": no such file"))
               : absl::UnavailableError(absl::StrCat(path.string(), ": ", ec.message()));
  }
  if (size > kMaxPolicyFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": larger than ", kMaxPolicyFileBytes, " bytes"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::PermissionDeniedError(absl::StrCat(path.string(), ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

PolicyEngine::PolicyEngine(std::unique_ptr<const CompiledSet> set, PolicyEngineOptions options)
    : set_(std::move(set)), options_(std::move(options)) {}

PolicyEngine::~PolicyEngine() = default;

// CheckTrustDomains refuses x509-svid rules whose SPIFFE ID template names a
// literal trust domain other than `trust_domain` (templates with a {claim}
// in the trust domain are checked per request instead).
static absl::Status CheckTrustDomains(const CompiledSet& set, absl::string_view trust_domain) {
  if (trust_domain.empty()) return absl::OkStatus();
  std::vector<std::string> errors;
  for (const policy_internal::Rule& rule : set.rules) {
    if (!rule.Grants(CredentialKind::kX509Svid)) continue;
    absl::string_view rest = rule.subject_template.text();
    if (!absl::ConsumePrefix(&rest, "spiffe://")) continue;
    const absl::string_view domain = rest.substr(0, rest.find('/'));
    if (absl::StrContains(domain, '{') || domain == trust_domain) continue;
    errors.push_back(absl::StrCat(rule.file, ":", rule.line, ": rule \"", rule.name,
                                  "\": grant.subject: SPIFFE IDs in trust domain \"", domain,
                                  "\", but this issuer's x509.trust_domain is \"", trust_domain,
                                  "\": it could never issue an SVID for this rule"));
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
}

absl::StatusOr<std::shared_ptr<const PolicyEngine>> PolicyEngine::FromSources(
    const std::vector<std::pair<std::string, std::string>>& sources,
    const PolicyEngineOptions& options) {
  if (options.max_lifetime <= absl::ZeroDuration() ||
      options.default_lifetime <= absl::ZeroDuration() || options.max_delegation_depth < 0) {
    return absl::InvalidArgumentError(
        "policy engine options: lifetimes must be positive and the delegation depth not "
        "negative");
  }
  policy_internal::LoadOptions load_options{options.known_issuers};
  absl::StatusOr<CompiledSet> set = policy_internal::LoadSources(sources, load_options);
  if (!set.ok()) return set.status();
  RETURN_IF_ERROR(CheckTrustDomains(*set, options.x509_trust_domain));
  return std::shared_ptr<const PolicyEngine>(
      new PolicyEngine(std::make_unique<const CompiledSet>(std::move(*set)), options));
}

absl::StatusOr<std::shared_ptr<const PolicyEngine>> PolicyEngine::LoadFiles(
    const std::vector<std::string>& paths, const PolicyEngineOptions& options) {
  std::vector<std::pair<std::string, std::string>> sources;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> text = ReadPolicyFile(path);
    if (!text.ok()) return text.status();
    sources.emplace_back(path, std::move(*text));
  }
  return FromSources(sources, options);
}

absl::StatusOr<std::shared_ptr<const PolicyEngine>> PolicyEngine::LoadDirectory(
    absl::string_view dir, const PolicyEngineOptions& options) {
  std::error_code ec;
  std::filesystem::path root{std::string(dir)};
  std::vector<std::filesystem::path> files;
  std::filesystem::directory_iterator it(root, ec);
  if (ec) {
    std::string message = absl::StrCat("policy directory ", dir, ": ", ec.message());
    return ec == std::errc::no_such_file_or_directory ? absl::NotFoundError(message)
           : ec == std::errc::permission_denied       ? absl::PermissionDeniedError(message)
                                                      : absl::UnavailableError(message);
  }
  for (const auto& entry : it) {
    std::string ext = entry.path().extension().string();
    if ((ext == ".yaml" || ext == ".yml") && !entry.is_directory()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  std::vector<std::pair<std::string, std::string>> sources;
  for (const auto& path : files) {
    absl::StatusOr<std::string> text = ReadPolicyFile(path);
    if (!text.ok()) return text.status();
    sources.emplace_back(path.filename().string(), std::move(*text));
  }
  return FromSources(sources, options);
}

size_t PolicyEngine::rule_count() const { return set_->rules.size(); }
const std::vector<std::string>& PolicyEngine::file_names() const { return set_->files; }
const std::vector<PolicyTestCase>& PolicyEngine::test_cases() const { return set_->tests; }

Decision PolicyEngine::Decide(const AttestedIdentity& identity,
                              const PolicyRequest& request) const {
  return Evaluate(identity, request, nullptr);
}

Explanation PolicyEngine::Explain(const AttestedIdentity& identity,
                                  const PolicyRequest& request) const {
  Explanation out;
  out.decision = Evaluate(identity, request, &out.rules);
  return out;
}

Decision PolicyEngine::Evaluate(const AttestedIdentity& identity, const PolicyRequest& request,
                                std::vector<RuleTrace>* traces) const {
  policy_internal::RequestContext ctx(identity, request, options_);
  Decision decision;
  // The denial to report: the rule that got furthest, the first one on ties.
  std::optional<RuleEvaluation> closest;
  const policy_internal::Rule* closest_rule = nullptr;
  for (const policy_internal::Rule& rule : set_->rules) {
    RuleEvaluation eval = policy_internal::EvaluateRule(rule, ctx, /*all=*/traces != nullptr);
    if (traces) {
      traces->push_back({rule.name, rule.file, eval.failed_at == Stage::kAllowed, eval.why_not});
    }
    if (eval.failed_at == Stage::kAllowed) {
      if (!decision.allowed) {
        decision.allowed = true;
        decision.rule = rule.name;
        decision.policy_file = rule.file;
        decision.used_claims = std::move(eval.used_claims);
        decision.grant = std::move(eval.grant);
        if (!traces) return decision;
      }
      continue;
    }
    if (!closest || eval.failed_at > closest->failed_at) {
      closest = std::move(eval);
      closest_rule = &rule;
    }
  }
  if (decision.allowed) return decision;
  Stage reached = closest ? closest->failed_at : Stage::kIssuer;
  // A rule that matched who the caller is but does not grant the kind asked
  // for is invalid_target, like one that does not grant the audience: the
  // caller asked for the wrong thing, not as the wrong party.
  decision.deny_code = reached == Stage::kScopes ? DenyCode::kInvalidScope
                       : reached == Stage::kAudience || reached == Stage::kKind
                           ? DenyCode::kInvalidTarget
                           : DenyCode::kAccessDenied;
  if (reached <= Stage::kIdentity) {
    decision.reasons.push_back(
        absl::StrCat("no policy rule matches subject ", policy_internal::Quote(identity.subject),
                     " from issuer ", policy_internal::Quote(identity.issuer_name)));
  }
  if (closest && reached >= Stage::kIdentity) {
    if (reached > Stage::kIdentity) {
      decision.rule = closest_rule->name;
      decision.policy_file = closest_rule->file;
    }
    for (const std::string& why : closest->why_not) {
      decision.reasons.push_back(absl::StrCat("rule \"", closest_rule->name, "\": ", why));
    }
    decision.used_claims = std::move(closest->used_claims);
  }
  return decision;
}

}  // namespace writ::issuer

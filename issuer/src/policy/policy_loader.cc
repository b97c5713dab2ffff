// Parses policy YAML into the compiled form, collecting every error with its
// file and line instead of stopping at the first.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "issuer/src/policy/compiled_policy.h"
#include "issuer/src/policy/credential_grant_loader.h"
#include "issuer/src/policy/yaml_util.h"
#include "issuer/src/yaml/yaml_guard.h"
#include "yaml-cpp/yaml.h"

namespace writ::issuer::policy_internal {
namespace {

bool ValidRuleName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

class FileLoader {
 public:
  FileLoader(YamlErrors& errors, const LoadOptions& options,
             absl::flat_hash_set<std::string>& rule_names)
      : e_(errors), options_(options), rule_names_(rule_names) {}

  void Load(const YAML::Node& root, std::vector<Rule>* rules, std::vector<PolicyTestCase>* tests) {
    if (!root || root.IsNull()) return;  // an empty file holds no rules
    e_.CheckKeys(root, "", "", {"rules", "tests"});
    if (!root.IsMap()) return;
    if (YAML::Node list = root["rules"]; list && !list.IsNull()) {
      if (!list.IsSequence()) {
        e_.Add(list, "", "rules", "must be a list of rules");
      } else {
        for (size_t i = 0; i < list.size(); ++i) {
          std::optional<Rule> rule = LoadRule(list[i], i);
          if (rule) rules->push_back(std::move(*rule));
        }
      }
    }
    if (YAML::Node list = root["tests"]; list && !list.IsNull()) {
      if (!list.IsSequence()) {
        e_.Add(list, "", "tests", "must be a list of test cases");
      } else {
        for (size_t i = 0; i < list.size(); ++i) {
          std::optional<PolicyTestCase> test = LoadTestCase(e_, list[i], i);
          if (test) tests->push_back(std::move(*test));
        }
      }
    }
  }

 private:
  void CheckIssuer(const YAML::Node& node, absl::string_view where, absl::string_view field,
                   const std::string& issuer) {
    if (options_.known_issuers.empty()) return;
    if (std::find(options_.known_issuers.begin(), options_.known_issuers.end(), issuer) ==
        options_.known_issuers.end()) {
      e_.Add(node, where, field,
             absl::StrCat(Quote(issuer), " is not a trusted issuer of this configuration (",
                          absl::StrJoin(options_.known_issuers, ", "), ")"));
    }
  }

  // LoadSubject reads issuer + subject | subject_pattern from `node`.
  bool LoadSubject(const YAML::Node& node, absl::string_view where, absl::string_view prefix,
                   SubjectMatcher* out) {
    bool ok = true;
    std::optional<std::string> issuer = e_.RequiredString(node, where, prefix, "issuer");
    if (issuer) {
      out->issuer = *issuer;
      CheckIssuer(node["issuer"], where, absl::StrCat(prefix, "issuer"), *issuer);
    } else {
      ok = false;
    }
    YAML::Node subject = node["subject"];
    YAML::Node pattern = node["subject_pattern"];
    if (subject && pattern) {
      e_.Add(pattern, where, absl::StrCat(prefix, "subject_pattern"),
             "give subject or subject_pattern, not both");
      return false;
    }
    if (subject) {
      out->subject = e_.String(subject, where, absl::StrCat(prefix, "subject"));
      ok = ok && out->subject.has_value();
    }
    if (pattern) {
      std::optional<std::string> text =
          e_.String(pattern, where, absl::StrCat(prefix, "subject_pattern"));
      if (!text) return false;
      absl::StatusOr<std::unique_ptr<const RE2>> re = CompileRegex(*text);
      if (!re.ok()) {
        e_.Add(pattern, where, absl::StrCat(prefix, "subject_pattern"), re.status().message());
        return false;
      }
      out->pattern = std::move(*re);
      out->pattern_text = *text;
    }
    return ok;
  }

  bool LoadClaim(const YAML::Node& key, const YAML::Node& value, absl::string_view where,
                 ClaimMatcher* out) {
    std::string field = absl::StrCat("claims.", key.Scalar());
    absl::StatusOr<ClaimPath> path = ParseClaimPath(key.Scalar());
    if (!path.ok()) {
      e_.Add(key, where, field, path.status().message());
      return false;
    }
    out->path = std::move(*path);
    if (value.IsScalar()) {
      out->kind = ClaimMatcher::Kind::kExact;
      out->exact = value.Scalar();
      return true;
    }
    if (!value.IsMap() || value.size() != 1) {
      e_.Add(value, where, field, "must be a string, or a map with one of glob, regex, one_of");
      return false;
    }
    if (!e_.CheckKeys(value, where, field, {"glob", "regex", "one_of"})) return false;
    if (YAML::Node g = value["glob"]) {
      std::optional<std::string> text = e_.String(g, where, field + ".glob");
      if (!text) return false;
      absl::StatusOr<Glob> glob = Glob::Compile(*text);
      if (!glob.ok()) {
        e_.Add(g, where, field + ".glob", glob.status().message());
        return false;
      }
      out->kind = ClaimMatcher::Kind::kGlob;
      out->glob = std::move(*glob);
    } else if (YAML::Node r = value["regex"]) {
      std::optional<std::string> text = e_.String(r, where, field + ".regex");
      if (!text) return false;
      absl::StatusOr<std::unique_ptr<const RE2>> re = CompileRegex(*text);
      if (!re.ok()) {
        e_.Add(r, where, field + ".regex", re.status().message());
        return false;
      }
      out->kind = ClaimMatcher::Kind::kRegex;
      out->regex = std::move(*re);
      out->regex_text = *text;
    } else {
      YAML::Node o = value["one_of"];
      std::optional<std::vector<std::string>> list = e_.StringList(o, where, field + ".one_of");
      if (!list) return false;
      if (list->empty()) {
        e_.Add(o, where, field + ".one_of", "must list at least one value");
        return false;
      }
      out->kind = ClaimMatcher::Kind::kOneOf;
      out->one_of = std::move(*list);
    }
    return true;
  }

  bool LoadConditions(const YAML::Node& node, absl::string_view where, Rule* rule) {
    bool ok = e_.CheckKeys(node, where, "conditions", {"source_cidrs", "time_window"});
    if (!node.IsMap()) return false;
    if (YAML::Node c = node["source_cidrs"]) {
      std::optional<std::vector<std::string>> list =
          e_.StringList(c, where, "conditions.source_cidrs");
      if (!list) return false;
      if (list->empty()) {
        e_.Add(c, where, "conditions.source_cidrs", "must list at least one address block");
        ok = false;
      }
      for (size_t i = 0; i < list->size(); ++i) {
        absl::StatusOr<Cidr> cidr = Cidr::Parse((*list)[i]);
        if (!cidr.ok()) {
          e_.Add(c[i], where, absl::StrCat("conditions.source_cidrs[", i, "]"),
                 cidr.status().message());
          ok = false;
        } else {
          rule->source_cidrs.push_back(std::move(*cidr));
        }
      }
      rule->has_cidrs = true;
    }
    if (YAML::Node t = node["time_window"]) {
      if (!e_.CheckKeys(t, where, "conditions.time_window", {"days", "from", "to"})) return false;
      std::vector<std::string> days;
      std::string from = "00:00", to = "24:00";
      if (t["days"]) {
        auto d = e_.StringList(t["days"], where, "conditions.time_window.days");
        if (!d) return false;
        days = *d;
      }
      if (t["from"]) {
        auto f = e_.String(t["from"], where, "conditions.time_window.from");
        if (!f) return false;
        from = *f;
      }
      if (t["to"]) {
        auto v = e_.String(t["to"], where, "conditions.time_window.to");
        if (!v) return false;
        to = *v;
      }
      absl::StatusOr<TimeWindow> w = TimeWindow::Parse(days, from, to);
      if (!w.ok()) {
        e_.Add(t, where, "conditions.time_window", w.status().message());
        return false;
      }
      rule->time_window = *w;
    }
    return ok;
  }

  std::optional<absl::Duration> Lifetime(const YAML::Node& node, absl::string_view where,
                                         absl::string_view field) {
    std::optional<std::string> text = e_.String(node, where, field);
    if (!text) return std::nullopt;
    absl::StatusOr<absl::Duration> d = ParseLifetime(*text);
    if (!d.ok()) {
      e_.Add(node, where, field, d.status().message());
      return std::nullopt;
    }
    return *d;
  }

  bool LoadGrant(const YAML::Node& node, absl::string_view where, Rule* rule) {
    bool ok =
        e_.CheckKeys(node, where, "grant",
                     {"subject", "credentials", "audiences", "scopes", "default_scopes",
                      "default_lifetime", "max_lifetime", "include_claims", "x509_svid", "ssh"});
    if (!node.IsMap()) return false;
    // A malformed credentials list would make every kind-dependent check
    // below misfire, so those wait until it is fixed.
    bool credentials_ok = LoadCredentials(e_, node, where, rule);
    ok = credentials_ok && ok;
    bool jwt = rule->Grants(CredentialKind::kJwt);
    std::string subject = "{sub}";
    if (node["subject"]) {
      auto s = e_.String(node["subject"], where, "grant.subject");
      if (!s) return false;
      subject = *s;
    }
    absl::StatusOr<SubjectTemplate> t = SubjectTemplate::Parse(subject);
    if (!t.ok()) {
      e_.Add(node["subject"] ? node["subject"] : node, where, "grant.subject",
             t.status().message());
      ok = false;
    } else {
      rule->subject_template = std::move(*t);
    }
    if (credentials_ok) ok = LoadKindBlocks(e_, node, where, t.ok(), rule) && ok;
    // Audiences and scopes are about JWTs; on a rule that grants none they
    // would be silently ignored, so they are refused.
    if (!jwt) {
      for (absl::string_view key : {"audiences", "scopes", "default_scopes"}) {
        YAML::Node n = node[std::string(key)];
        if (n && credentials_ok) {
          e_.Add(n, where, absl::StrCat("grant.", key),
                 "is only for rules whose credentials include jwt");
          ok = false;
        }
      }
      return LoadLifetimesAndClaims(node, where, rule) && ok;
    }
    if (!node["audiences"]) {
      e_.Add(node, where, "grant.audiences", "is required (a non-empty list of audiences)");
      ok = false;
    } else if (auto a = e_.StringList(node["audiences"], where, "grant.audiences")) {
      if (a->empty()) {
        e_.Add(node["audiences"], where, "grant.audiences", "must list at least one audience");
        ok = false;
      }
      rule->audiences = std::move(*a);
    } else {
      ok = false;
    }
    if (node["scopes"]) {
      auto s = e_.StringList(node["scopes"], where, "grant.scopes");
      if (!s) return false;
      rule->scopes = std::move(*s);
    }
    if (node["default_scopes"]) {
      auto s = e_.StringList(node["default_scopes"], where, "grant.default_scopes");
      if (!s) return false;
      for (const std::string& scope : *s) {
        if (std::find(rule->scopes.begin(), rule->scopes.end(), scope) == rule->scopes.end()) {
          e_.Add(node["default_scopes"], where, "grant.default_scopes",
                 absl::StrCat(Quote(scope), " is not in grant.scopes"));
          ok = false;
        }
      }
      rule->default_scopes = std::move(*s);
    }
    return LoadLifetimesAndClaims(node, where, rule) && ok;
  }

  // LoadLifetimesAndClaims reads the grant fields every credential kind has.
  bool LoadLifetimesAndClaims(const YAML::Node& node, absl::string_view where, Rule* rule) {
    bool ok = true;
    if (node["default_lifetime"]) {
      rule->default_lifetime = Lifetime(node["default_lifetime"], where, "grant.default_lifetime");
      ok = ok && rule->default_lifetime.has_value();
    }
    if (node["max_lifetime"]) {
      rule->max_lifetime = Lifetime(node["max_lifetime"], where, "grant.max_lifetime");
      ok = ok && rule->max_lifetime.has_value();
    }
    if (rule->default_lifetime && rule->max_lifetime &&
        *rule->default_lifetime > *rule->max_lifetime) {
      e_.Add(node["default_lifetime"], where, "grant.default_lifetime",
             absl::StrCat("is longer than max_lifetime (",
                          absl::FormatDuration(*rule->max_lifetime), ")"));
      ok = false;
    }
    if (node["include_claims"]) {
      auto names = e_.StringList(node["include_claims"], where, "grant.include_claims");
      if (!names) return false;
      for (const std::string& name : *names) {
        absl::StatusOr<ClaimPath> path = ParseClaimPath(name);
        if (!path.ok()) {
          e_.Add(node["include_claims"], where, "grant.include_claims", path.status().message());
          ok = false;
        } else {
          rule->include_claims.push_back(std::move(*path));
        }
      }
    }
    return ok;
  }

  bool LoadDelegation(const YAML::Node& node, absl::string_view where, Rule* rule) {
    bool ok = e_.CheckKeys(node, where, "delegation", {"max_depth", "actors"});
    if (!node.IsMap()) return false;
    Delegation d;
    if (YAML::Node m = node["max_depth"]) {
      if (!m.IsScalar() || !absl::SimpleAtoi(m.Scalar(), &d.max_depth) || d.max_depth < 1) {
        e_.Add(m, where, "delegation.max_depth", "must be a whole number of at least 1");
        ok = false;
      }
    }
    YAML::Node actors = node["actors"];
    if (!actors || !actors.IsSequence() || actors.size() == 0) {
      e_.Add(actors ? actors : node, where, "delegation.actors",
             "must be a non-empty list of {issuer, subject | subject_pattern}");
      return false;
    }
    for (size_t i = 0; i < actors.size(); ++i) {
      std::string prefix = absl::StrCat("delegation.actors[", i, "].");
      if (!e_.CheckKeys(actors[i], where, prefix.substr(0, prefix.size() - 1),
                        {"issuer", "subject", "subject_pattern"})) {
        ok = false;
        continue;
      }
      SubjectMatcher actor;
      if (LoadSubject(actors[i], where, prefix, &actor)) {
        d.actors.push_back(std::move(actor));
      } else {
        ok = false;
      }
    }
    rule->delegation = std::move(d);
    return ok;
  }

  std::optional<Rule> LoadRule(const YAML::Node& node, size_t index) {
    std::string where = absl::StrCat("rule #", index + 1);
    if (node.IsMap() && node["name"] && node["name"].IsScalar()) {
      where = absl::StrCat("rule \"", node["name"].Scalar(), "\"");
    }
    // Unknown keys are reported, and the known ones still checked, so one
    // load lists every error.
    bool ok = e_.CheckKeys(node, where, "",
                           {"name", "description", "issuer", "subject", "subject_pattern", "claims",
                            "conditions", "grant", "delegation"});
    if (!node.IsMap()) return std::nullopt;
    Rule rule;
    rule.file = e_.file();
    rule.line = node.Mark().line + 1;
    if (auto name = e_.RequiredString(node, where, "", "name")) {
      rule.name = *name;
      if (!ValidRuleName(*name)) {
        e_.Add(node["name"], where, "name", "must be 1 to 128 of [A-Za-z0-9._-]");
        ok = false;
      } else if (!rule_names_.insert(*name).second) {
        e_.Add(node["name"], where, "name",
               "is already used by another rule (names are unique "
               "across all policy files)");
        ok = false;
      }
    } else {
      ok = false;
    }
    if (node["description"]) ok = e_.String(node["description"], where, "description") && ok;
    ok = LoadSubject(node, where, "", &rule.identity) && ok;
    if (YAML::Node claims = node["claims"]) {
      if (!claims.IsMap()) {
        e_.Add(claims, where, "claims", "must be a map of claim name to matcher");
        ok = false;
      } else if (e_.CheckKeys(claims, where, "claims", {})) {
        for (auto it = claims.begin(); it != claims.end(); ++it) {
          ClaimMatcher m;
          if (LoadClaim(it->first, it->second, where, &m)) {
            rule.claims.push_back(std::move(m));
          } else {
            ok = false;
          }
        }
      } else {
        ok = false;
      }
    }
    if (node["conditions"]) ok = LoadConditions(node["conditions"], where, &rule) && ok;
    if (!node["grant"]) {
      e_.Add(node, where, "grant", "is required");
      ok = false;
    } else {
      ok = LoadGrant(node["grant"], where, &rule) && ok;
    }
    if (node["delegation"]) ok = LoadDelegation(node["delegation"], where, &rule) && ok;
    if (!ok) return std::nullopt;
    return rule;
  }

  YamlErrors& e_;
  const LoadOptions& options_;
  absl::flat_hash_set<std::string>& rule_names_;
};

}  // namespace

absl::StatusOr<CompiledSet> LoadSources(
    const std::vector<std::pair<std::string, std::string>>& sources, const LoadOptions& options) {
  CompiledSet set;
  std::vector<std::string> errors;
  absl::flat_hash_set<std::string> rule_names;
  absl::flat_hash_set<std::string> test_names;
  for (const auto& [file, text] : sources) {
    set.files.push_back(file);
    YamlErrors e(file, &errors);
    try {
      if (std::optional<YamlShapeProblem> problem = CheckYamlShape(text)) {
        std::string where =
            problem->mark.is_null() ? file : absl::StrCat(file, ":", problem->mark.line + 1);
        errors.push_back(absl::StrCat(where, ": ", problem->message));
        continue;
      }
      YAML::Node root = YAML::Load(text);
      FileLoader(e, options, rule_names).Load(root, &set.rules, &set.tests);
    } catch (const YAML::Exception& ex) {
      errors.push_back(absl::StrCat(file, ":", ex.mark.line + 1, ": YAML: ", ex.msg));
    }
  }
  for (const PolicyTestCase& t : set.tests) {
    if (!test_names.insert(t.name).second) {
      errors.push_back(absl::StrCat(t.file, ":", t.line, ": test \"", t.name,
                                    "\": name: is already used by another test case"));
    }
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  }
  return set;
}

}  // namespace writ::issuer::policy_internal

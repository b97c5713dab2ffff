#include "issuer/src/policy/rule_evaluator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace writ::issuer::policy_internal {
namespace {

// JwtClaims::GetStringAt takes an initializer list; these depths cover every
// claim in practice without parsing the JSON again.
std::optional<absl::string_view> FastString(const JwtClaims& c, const std::vector<std::string>& p) {
  switch (p.size()) {
    case 1:
      return c.GetString(p[0]);
    case 2:
      return c.GetStringAt({p[0], p[1]});
    case 3:
      return c.GetStringAt({p[0], p[1], p[2]});
    case 4:
      return c.GetStringAt({p[0], p[1], p[2], p[3]});
    default:
      return std::nullopt;
  }
}

// WalkClaimPath follows `parts` from index `i`. A dot means nesting, but
// claim names may themselves hold dots (Kubernetes puts everything under
// "kubernetes.io"), so when the nested reading finds nothing, the parts are
// also tried joined: "kubernetes.io.namespace" finds
// {"kubernetes.io":{"namespace":...}}.
const rapidjson::Value* WalkClaimPath(const rapidjson::Value& v,
                                      const std::vector<std::string>& parts, size_t i) {
  if (i == parts.size()) return &v;
  if (!v.IsObject()) return nullptr;
  std::string key;
  for (size_t j = i; j < parts.size(); ++j) {
    if (j > i) key.push_back('.');
    key += parts[j];
    auto it = v.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == v.MemberEnd()) continue;
    if (const rapidjson::Value* found = WalkClaimPath(it->value, parts, j + 1)) return found;
  }
  return nullptr;
}

std::string List(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& s : items) quoted.push_back(Quote(s));
  return absl::StrJoin(quoted, ", ");
}

bool MatchSubject(const SubjectMatcher& m, absl::string_view issuer_name,
                  absl::string_view subject) {
  if (issuer_name != m.issuer) return false;
  if (m.subject) return subject == *m.subject;
  if (m.pattern)
    return RE2::FullMatch(re2::StringPiece(subject.data(), subject.size()), *m.pattern);
  return true;
}

std::string DescribeMatcher(const ClaimMatcher& m) {
  switch (m.kind) {
    case ClaimMatcher::Kind::kExact:
      return absl::StrCat("must be ", Quote(m.exact));
    case ClaimMatcher::Kind::kGlob:
      return absl::StrCat("must match glob ", Quote(m.glob->pattern()));
    case ClaimMatcher::Kind::kRegex:
      return absl::StrCat("must match pattern ", Quote(m.regex_text));
    case ClaimMatcher::Kind::kOneOf:
      return absl::StrCat("must be one of ", List(m.one_of));
  }
  return "";
}

bool MatchClaim(const ClaimMatcher& m, absl::string_view v) {
  switch (m.kind) {
    case ClaimMatcher::Kind::kExact:
      return v == m.exact;
    case ClaimMatcher::Kind::kGlob:
      return m.glob->Matches(v);
    case ClaimMatcher::Kind::kRegex:
      return RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *m.regex);
    case ClaimMatcher::Kind::kOneOf:
      return std::find(m.one_of.begin(), m.one_of.end(), v) != m.one_of.end();
  }
  return false;
}

}  // namespace

ClaimLookup::Kind ClaimLookup::Get(const ClaimPath& path, absl::string_view* value) {
  if (std::optional<absl::string_view> s = FastString(claims_, path.parts)) {
    *value = *s;
    return Kind::kString;
  }
  if (!doc_) {
    doc_ = std::make_unique<rapidjson::Document>();
    doc_->Parse(claims_.json().data(), claims_.json().size());  // valid: JwtClaims parsed it
  }
  const rapidjson::Value* v = WalkClaimPath(*doc_, path.parts, 0);
  if (v == nullptr) return Kind::kMissing;
  if (v->IsString()) {
    *value = absl::string_view(v->GetString(), v->GetStringLength());
    return Kind::kString;
  }
  if (!v->IsBool() && !v->IsNumber()) return Kind::kNotScalar;
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v->Accept(w);
  scratch_.assign(sb.GetString(), sb.GetSize());
  *value = scratch_;
  return Kind::kScalar;
}

RequestContext::RequestContext(const AttestedIdentity& id, const PolicyRequest& req,
                               const PolicyEngineOptions& opts)
    : identity(id), request(req), options(opts), claims(id.claims) {
  if (!req.client_address.empty()) client_address = ParseIpAddress(req.client_address);
}

RuleEvaluation EvaluateRule(const Rule& rule, RequestContext& ctx, bool all) {
  RuleEvaluation ev;
  const AttestedIdentity& id = ctx.identity;
  const PolicyRequest& req = ctx.request;
  auto fail = [&ev](Stage stage, std::string why) {
    if (ev.failed_at == Stage::kAllowed) ev.failed_at = stage;
    ev.why_not.push_back(std::move(why));
  };
  auto stop = [&] { return !all && ev.failed_at != Stage::kAllowed; };

  // Identity.
  if (id.issuer_name != rule.identity.issuer) {
    fail(Stage::kIssuer, absl::StrCat("the token's issuer is ", Quote(id.issuer_name), ", not ",
                                      Quote(rule.identity.issuer)));
    if (stop()) return ev;
  }
  if (rule.identity.subject || rule.identity.pattern) {
    ev.used_claims.emplace_back("sub", id.subject);
    if (!MatchSubject(rule.identity, rule.identity.issuer, id.subject)) {
      fail(Stage::kIdentity,
           rule.identity.subject
               ? absl::StrCat("subject ", Quote(id.subject), " is not ",
                              Quote(*rule.identity.subject))
               : absl::StrCat("subject ", Quote(id.subject), " does not match pattern ",
                              Quote(rule.identity.pattern_text)));
      if (stop()) return ev;
    }
  }
  for (const ClaimMatcher& m : rule.claims) {
    absl::string_view value;
    ClaimLookup::Kind kind = ctx.claims.Get(m.path, &value);
    if (kind == ClaimLookup::Kind::kMissing) {
      fail(Stage::kIdentity,
           absl::StrCat("claim ", Quote(m.path.name), " is missing; it ", DescribeMatcher(m)));
    } else if (kind == ClaimLookup::Kind::kNotScalar) {
      fail(Stage::kIdentity,
           absl::StrCat("claim ", Quote(m.path.name), " is not a string, number or boolean"));
    } else {
      ev.used_claims.emplace_back(m.path.name, std::string(value));
      if (!MatchClaim(m, value)) {
        fail(Stage::kIdentity, absl::StrCat("claim ", Quote(m.path.name), " is ", Quote(value),
                                            "; it ", DescribeMatcher(m)));
      }
    }
    if (stop()) return ev;
  }
  std::string subject;
  for (const SubjectTemplate::Piece& piece : rule.subject_template.pieces()) {
    if (!piece.is_claim) {
      subject += piece.text;
      continue;
    }
    absl::string_view value;
    if (piece.text == "sub") {
      value = id.subject;
    } else if (piece.text == "iss") {
      value = id.issuer;
    } else {
      ClaimLookup::Kind kind = ctx.claims.Get(piece.path, &value);
      if (kind != ClaimLookup::Kind::kString) {
        fail(Stage::kIdentity,
             absl::StrCat("the granted subject needs claim ", Quote(piece.text), ", which is ",
                          kind == ClaimLookup::Kind::kMissing ? "missing" : "not a string"));
        if (stop()) return ev;
        continue;
      }
      ev.used_claims.emplace_back(piece.text, std::string(value));
    }
    if (rule.subject_template.spiffe() && !IsPathSafe(value)) {
      fail(
          Stage::kIdentity,
          absl::StrCat("claim ", Quote(piece.text), " value ", Quote(value),
                       " cannot be part of a spiffe:// subject (allowed: letters, digits, . _ - /; "
                       "no empty, . or .. segment)"));
      if (stop()) return ev;
    }
    subject.append(value.data(), value.size());
  }

  // Conditions.
  if (rule.has_cidrs) {
    std::vector<std::string> blocks;
    for (const Cidr& c : rule.source_cidrs) blocks.push_back(c.text());
    bool inside = false;
    if (ctx.client_address) {
      for (const Cidr& c : rule.source_cidrs) inside = inside || c.Contains(*ctx.client_address);
    }
    if (req.client_address.empty()) {
      fail(Stage::kConditions, absl::StrCat("the client address is unknown; this rule only allows ",
                                            absl::StrJoin(blocks, ", ")));
    } else if (!ctx.client_address) {
      fail(Stage::kConditions,
           absl::StrCat("client address ", Quote(req.client_address), " is not an IP address"));
    } else if (!inside) {
      fail(Stage::kConditions,
           absl::StrCat("client address ", req.client_address, " is not in an allowed network (",
                        absl::StrJoin(blocks, ", "), ")"));
    }
    if (stop()) return ev;
  }
  if (rule.time_window && !rule.time_window->Contains(req.now)) {
    fail(Stage::kConditions,
         absl::StrCat("the time ",
                      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ (%a)", req.now, absl::UTCTimeZone()),
                      " is outside the allowed window (", rule.time_window->Describe(), ")"));
    if (stop()) return ev;
  }

  // Delegation.
  if (!req.actors.empty()) {
    const AttestedIdentity& actor = req.actors.front();
    if (!rule.delegation) {
      fail(Stage::kDelegation,
           "the request acts on behalf of the subject (an actor token), and this rule allows no "
           "delegation");
    } else {
      int limit = std::min(rule.delegation->max_depth, ctx.options.max_delegation_depth);
      if (static_cast<int>(req.actors.size()) > limit) {
        fail(Stage::kDelegation, absl::StrCat("the delegation chain has ", req.actors.size(),
                                              " actors; at most ", limit, " allowed"));
      }
      bool allowed = false;
      for (const SubjectMatcher& m : rule.delegation->actors) {
        allowed = allowed || MatchSubject(m, actor.issuer_name, actor.subject);
      }
      if (!allowed) {
        fail(Stage::kDelegation,
             absl::StrCat("actor ", Quote(actor.subject), " from issuer ", Quote(actor.issuer_name),
                          " may not act for this subject"));
      }
    }
    if (stop()) return ev;
  }

  // Audience.
  std::string audience = req.audience;
  if (audience.empty()) {
    if (rule.audiences.size() == 1) {
      audience = rule.audiences.front();
    } else {
      fail(Stage::kAudience, absl::StrCat("audience required: rule \"", rule.name,
                                          "\" allows several (", List(rule.audiences), ")"));
    }
  } else if (std::find(rule.audiences.begin(), rule.audiences.end(), audience) ==
             rule.audiences.end()) {
    fail(Stage::kAudience, absl::StrCat("audience ", Quote(audience),
                                        " is not allowed (allowed: ", List(rule.audiences), ")"));
  }
  if (stop()) return ev;

  // Scopes and lifetime.
  std::vector<std::string> scopes;
  if (req.scopes.empty()) {
    scopes = rule.default_scopes;
  } else {
    for (const std::string& scope : req.scopes) {
      if (std::find(rule.scopes.begin(), rule.scopes.end(), scope) == rule.scopes.end()) {
        fail(Stage::kScopes, absl::StrCat("scope ", Quote(scope), " is not allowed (allowed: ",
                                          rule.scopes.empty() ? "none" : List(rule.scopes), ")"));
      } else if (std::find(scopes.begin(), scopes.end(), scope) == scopes.end()) {
        scopes.push_back(scope);
      }
    }
  }
  if (req.lifetime && *req.lifetime <= absl::ZeroDuration()) {
    fail(Stage::kScopes, "the requested lifetime must be positive");
  }
  if (ev.failed_at != Stage::kAllowed) return ev;

  absl::Duration cap =
      std::min(rule.max_lifetime.value_or(ctx.options.max_lifetime), ctx.options.max_lifetime);
  absl::Duration lifetime =
      req.lifetime.value_or(rule.default_lifetime.value_or(ctx.options.default_lifetime));
  Grant grant;
  grant.subject = std::move(subject);
  grant.audience = std::move(audience);
  grant.scopes = std::move(scopes);
  grant.lifetime = std::min(lifetime, cap);
  for (const ClaimPath& path : rule.include_claims) {
    absl::string_view value;
    ClaimLookup::Kind kind = ctx.claims.Get(path, &value);
    if (kind == ClaimLookup::Kind::kString || kind == ClaimLookup::Kind::kScalar) {
      grant.facts.emplace_back(path.name, std::string(value));
    }
  }
  ev.grant = std::move(grant);
  return ev;
}

}  // namespace writ::issuer::policy_internal

#include "issuer/src/policy/rule_evaluator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "writ/spiffe/spiffe_id.h"

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

// KindNoun names a credential kind in a sentence.
const char* KindNoun(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kX509Svid:
      return "an X.509-SVID";
    case CredentialKind::kSsh:
      return "an SSH certificate";
    case CredentialKind::kJwt:
      break;
  }
  return "a JWT";
}

std::string KindList(const std::vector<CredentialKind>& kinds) {
  std::vector<std::string> names;
  for (CredentialKind kind : kinds) names.push_back(CredentialKindName(kind));
  return absl::StrJoin(names, ", ");
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

namespace {

// ExpandPrincipal expands one grant.ssh.principals template. A claim that is
// missing or not a string, or an expansion that is not a valid principal (a
// claim value with a space or comma could otherwise name several), is a
// kIdentity failure recorded in `ev`; returns nullopt then.
std::optional<std::string> ExpandPrincipal(const SubjectTemplate& t, RequestContext& ctx,
                                           RuleEvaluation& ev) {
  auto fail = [&ev](std::string why) {
    if (ev.failed_at == Stage::kAllowed) ev.failed_at = Stage::kIdentity;
    ev.why_not.push_back(std::move(why));
    return std::nullopt;
  };
  std::string out;
  for (const SubjectTemplate::Piece& piece : t.pieces()) {
    if (!piece.is_claim) {
      out += piece.text;
      continue;
    }
    absl::string_view value;
    if (piece.text == "sub") {
      value = ctx.identity.subject;
    } else if (piece.text == "iss") {
      value = ctx.identity.issuer;
    } else {
      ClaimLookup::Kind kind = ctx.claims.Get(piece.path, &value);
      if (kind != ClaimLookup::Kind::kString) {
        return fail(absl::StrCat("SSH principal template ", Quote(t.text()), " needs claim ",
                                 Quote(piece.text), ", which is ",
                                 kind == ClaimLookup::Kind::kMissing ? "missing" : "not a string"));
      }
      ev.used_claims.emplace_back(piece.text, std::string(value));
    }
    out.append(value.data(), value.size());
  }
  if (!CheckSshPrincipal(out).ok()) {
    return fail(absl::StrCat("SSH principal template ", Quote(t.text()), " expands to ", Quote(out),
                             ", which is not a valid principal (1 to ", kMaxSshPrincipalBytes,
                             " printable ASCII characters, no space or comma)"));
  }
  return out;
}

}  // namespace

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
  // The kind-specific checks below only apply when the rule grants the kind
  // asked for; otherwise the rule fails at kKind.
  const bool granted = rule.Grants(req.kind);
  std::string subject;
  bool subject_complete = true;
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
        subject_complete = false;
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
      subject_complete = false;
      if (stop()) return ev;
    }
    subject.append(value.data(), value.size());
  }
  if (granted && req.kind == CredentialKind::kX509Svid && subject_complete) {
    if (absl::StatusOr<SpiffeId> spiffe_id = SpiffeId::Parse(subject); !spiffe_id.ok()) {
      fail(Stage::kIdentity,
           absl::StrCat("the granted subject ", Quote(subject),
                        " cannot be an X.509-SVID's SPIFFE ID: ", spiffe_id.status().message()));
      if (stop()) return ev;
    }
  }
  std::vector<std::string> principals;
  bool principals_complete = true;
  if (granted && req.kind == CredentialKind::kSsh) {
    for (const SubjectTemplate& t : rule.ssh->principals) {
      std::optional<std::string> principal = ExpandPrincipal(t, ctx, ev);
      if (principal) {
        if (std::find(principals.begin(), principals.end(), *principal) == principals.end()) {
          principals.push_back(std::move(*principal));
        }
      } else {
        principals_complete = false;
        if (stop()) return ev;
      }
    }
  }

  // Kind: checked right after who the caller is, so that a rule matching the
  // caller but granting another kind is invalid_target, while any rule that
  // grants the kind and gets further explains the denial instead.
  if (!granted) {
    fail(Stage::kKind, absl::StrCat("this rule grants ", KindList(rule.credentials), ", not ",
                                    CredentialKindName(req.kind)));
    if (stop()) return ev;
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
  std::string pinned_address;
  if (granted && req.kind == CredentialKind::kSsh && rule.ssh->pin_client) {
    if (req.client_address.empty()) {
      fail(Stage::kConditions,
           "the client address is unknown; this rule pins SSH certificates to the requester's "
           "address (source_address: client)");
    } else if (!ctx.client_address) {
      fail(Stage::kConditions,
           absl::StrCat("client address ", Quote(req.client_address),
                        " is not an IP address, so the SSH certificate cannot be pinned to it"));
    } else {
      pinned_address = FormatIpAddress(*ctx.client_address);
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

  // Audience and scopes depend on the kind being granted.
  if (!granted) return ev;

  // Audience.
  std::string audience = req.audience;
  if (req.kind != CredentialKind::kJwt) {
    if (!audience.empty()) {
      fail(Stage::kAudience, absl::StrCat(KindNoun(req.kind), " has no audience; ask without one (",
                                          Quote(audience), " was asked for)"));
    }
  } else if (audience.empty()) {
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

  // Scopes, principals and lifetime.
  std::vector<std::string> scopes;
  if (req.kind != CredentialKind::kJwt) {
    if (!req.scopes.empty()) {
      fail(Stage::kScopes, absl::StrCat(KindNoun(req.kind), " has no scopes; ask without them (",
                                        List(req.scopes), " were asked for)"));
    }
  } else if (req.scopes.empty()) {
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
  if (req.kind != CredentialKind::kSsh && !req.ssh_principals.empty()) {
    fail(Stage::kScopes,
         absl::StrCat("SSH principals (", List(req.ssh_principals),
                      ") are only for ssh certificates, not ", CredentialKindName(req.kind)));
  } else if (principals_complete && !req.ssh_principals.empty()) {
    std::vector<std::string> asked;
    for (const std::string& p : req.ssh_principals) {
      if (std::find(principals.begin(), principals.end(), p) == principals.end()) {
        fail(Stage::kScopes, absl::StrCat("SSH principal ", Quote(p),
                                          " is not granted (granted: ", List(principals), ")"));
      } else if (std::find(asked.begin(), asked.end(), p) == asked.end()) {
        asked.push_back(p);
      }
    }
    principals = std::move(asked);
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
  grant.kind = req.kind;
  grant.renewable = req.kind == CredentialKind::kX509Svid && rule.renewable;
  if (req.kind == CredentialKind::kSsh) {
    grant.ssh_principals = std::move(principals);
    if (rule.ssh->pin_client) {
      grant.ssh_source_addresses = {std::move(pinned_address)};
    } else {
      grant.ssh_source_addresses = rule.ssh->source_addresses;
    }
  }
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

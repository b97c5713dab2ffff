// Parses a policy file's `tests:` entries into PolicyTestCase.

#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "issuer/src/policy/matchers.h"
#include "issuer/src/policy/yaml_util.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "writ/jose/claims.h"

namespace writ::issuer {

absl::Time DefaultPolicyTestTime() { return absl::FromUnixSeconds(1704110400); }

namespace policy_internal {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// WriteJson writes YAML as JSON. Plain (unquoted) scalars that read as a
// boolean, null or number become those JSON types, so a test can give a
// non-string claim; quoted scalars are always strings. Returns false past
// kMaxClaimDepth levels: deeper than any claims set JwtClaims accepts, and a
// YAML alias that refers to itself would otherwise recurse forever.
constexpr int kMaxClaimDepth = 16;
bool WriteJson(const YAML::Node& node, JsonWriter& w, int depth = 1) {
  if (depth > kMaxClaimDepth) return false;
  if (node.IsMap()) {
    w.StartObject();
    for (auto it = node.begin(); it != node.end(); ++it) {
      w.Key(it->first.Scalar().c_str());
      if (!WriteJson(it->second, w, depth + 1)) return false;
    }
    w.EndObject();
  } else if (node.IsSequence()) {
    w.StartArray();
    for (size_t i = 0; i < node.size(); ++i) {
      if (!WriteJson(node[i], w, depth + 1)) return false;
    }
    w.EndArray();
  } else if (node.IsNull()) {
    w.Null();
  } else {
    const std::string& s = node.Scalar();
    int64_t i = 0;
    double d = 0;
    if (node.Tag() != "?") {
      w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    } else if (s == "true" || s == "false") {
      w.Bool(s == "true");
    } else if (absl::SimpleAtoi(s, &i)) {
      w.Int64(i);
    } else if (absl::SimpleAtod(s, &d) && s.find_first_not_of("0123456789.-+eE") == s.npos) {
      w.Double(d);
    } else {
      w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    }
  }
  return true;
}

std::optional<AttestedIdentity> LoadIdentity(YamlErrors& e, const YAML::Node& node,
                                             absl::string_view where, absl::string_view field) {
  if (!e.CheckKeys(node, where, field, {"issuer", "subject", "claims"})) return std::nullopt;
  std::string prefix = absl::StrCat(field, ".");
  std::optional<std::string> issuer = e.RequiredString(node, where, prefix, "issuer");
  std::optional<std::string> subject = e.RequiredString(node, where, prefix, "subject");
  if (!issuer || !subject) return std::nullopt;
  YAML::Node claims = node["claims"];
  if (claims && !claims.IsMap()) {
    e.Add(claims, where, prefix + "claims", "must be a map of claim name to value");
    return std::nullopt;
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  if (!claims || !claims["sub"]) {
    w.Key("sub");
    w.String(subject->c_str());
  }
  if (claims) {
    for (auto it = claims.begin(); it != claims.end(); ++it) {
      w.Key(it->first.Scalar().c_str());
      if (!WriteJson(it->second, w, 2)) {
        e.Add(claims, where, prefix + "claims",
              absl::StrCat("nest more than ", kMaxClaimDepth,
                           " levels deep (or an alias refers to itself)"));
        return std::nullopt;
      }
    }
  }
  w.EndObject();
  absl::StatusOr<JwtClaims> parsed = JwtClaims::Parse(sb.GetString());
  if (!parsed.ok()) {
    e.Add(claims, where, prefix + "claims", parsed.status().message());
    return std::nullopt;
  }
  AttestedIdentity id{*issuer,
                      parsed->issuer(),
                      *subject,
                      parsed->jwt_id(),
                      parsed->expires_at().value_or(absl::InfiniteFuture()),
                      *parsed};
  return id;
}

bool LoadRequest(YamlErrors& e, const YAML::Node& node, absl::string_view where, PolicyRequest* r) {
  if (!e.CheckKeys(node, where, "request",
                   {"kind", "principals", "audience", "scopes", "lifetime", "client_address",
                    "time", "actors"})) {
    return false;
  }
  bool ok = true;
  if (node["kind"]) {
    auto name = e.String(node["kind"], where, "request.kind");
    std::optional<CredentialKind> kind = name ? CredentialKindFromName(*name) : std::nullopt;
    if (kind) {
      r->kind = *kind;
    } else {
      if (name) e.Add(node["kind"], where, "request.kind", "must be jwt, x509-svid or ssh");
      ok = false;
    }
  }
  if (node["principals"]) {
    auto p = e.StringList(node["principals"], where, "request.principals");
    ok = ok && p;
    r->ssh_principals = p.value_or(std::vector<std::string>{});
  }
  if (node["audience"]) {
    auto a = e.String(node["audience"], where, "request.audience");
    ok = ok && a;
    r->audience = a.value_or("");
  }
  if (node["scopes"]) {
    auto s = e.StringList(node["scopes"], where, "request.scopes");
    ok = ok && s;
    r->scopes = s.value_or(std::vector<std::string>{});
  }
  if (node["lifetime"]) {
    auto text = e.String(node["lifetime"], where, "request.lifetime");
    if (text) {
      absl::StatusOr<absl::Duration> d = ParseLifetime(*text);
      if (d.ok()) {
        r->lifetime = *d;
      } else {
        e.Add(node["lifetime"], where, "request.lifetime", d.status().message());
        ok = false;
      }
    } else {
      ok = false;
    }
  }
  if (node["client_address"]) {
    auto a = e.String(node["client_address"], where, "request.client_address");
    ok = ok && a;
    r->client_address = a.value_or("");
  }
  r->now = DefaultPolicyTestTime();
  if (node["time"]) {
    auto text = e.String(node["time"], where, "request.time");
    std::string err;
    if (!text || !absl::ParseTime(absl::RFC3339_full, *text, &r->now, &err)) {
      if (text)
        e.Add(node["time"], where, "request.time", "must be RFC 3339, e.g. 2026-01-05T10:00:00Z");
      ok = false;
    }
  }
  if (YAML::Node actors = node["actors"]) {
    if (!actors.IsSequence()) {
      e.Add(actors, where, "request.actors", "must be a list of identities");
      return false;
    }
    for (size_t i = 0; i < actors.size(); ++i) {
      auto id = LoadIdentity(e, actors[i], where, absl::StrCat("request.actors[", i, "]"));
      if (id) {
        r->actors.push_back(std::move(*id));
      } else {
        ok = false;
      }
    }
  }
  return ok;
}

bool LoadExpect(YamlErrors& e, const YAML::Node& node, absl::string_view where,
                PolicyTestCase::Expect* x) {
  if (!e.CheckKeys(node, where, "expect",
                   {"decision", "rule", "subject", "scopes", "lifetime", "error", "principals",
                    "source_addresses", "renewable"})) {
    return false;
  }
  bool ok = true;
  auto decision = e.RequiredString(node, where, "expect.", "decision");
  if (!decision) return false;
  if (*decision != "allow" && *decision != "deny") {
    e.Add(node["decision"], where, "expect.decision", "must be allow or deny");
    return false;
  }
  x->allow = *decision == "allow";
  if (node["rule"]) {
    x->rule = e.String(node["rule"], where, "expect.rule");
    ok = ok && x->rule;
  }
  if (node["subject"]) {
    x->subject = e.String(node["subject"], where, "expect.subject");
    ok = ok && x->subject;
  }
  if (node["scopes"]) {
    x->scopes = e.StringList(node["scopes"], where, "expect.scopes");
    ok = ok && x->scopes;
  }
  if (node["lifetime"]) {
    auto text = e.String(node["lifetime"], where, "expect.lifetime");
    absl::StatusOr<absl::Duration> d = text ? ParseLifetime(*text) : absl::InvalidArgumentError("");
    if (d.ok()) {
      x->lifetime = *d;
    } else {
      if (text) e.Add(node["lifetime"], where, "expect.lifetime", d.status().message());
      ok = false;
    }
  }
  if (node["principals"]) {
    x->principals = e.StringList(node["principals"], where, "expect.principals");
    ok = ok && x->principals;
  }
  if (node["source_addresses"]) {
    x->source_addresses = e.StringList(node["source_addresses"], where, "expect.source_addresses");
    ok = ok && x->source_addresses;
  }
  if (node["renewable"]) {
    x->renewable = e.Bool(node["renewable"], where, "expect.renewable");
    ok = ok && x->renewable;
  }
  for (absl::string_view key : {"principals", "source_addresses", "renewable"}) {
    if (node[std::string(key)] && !x->allow) {
      e.Add(node[std::string(key)], where, absl::StrCat("expect.", key),
            "is only for decision: allow");
      ok = false;
    }
  }
  if (node["error"]) {
    auto code = e.String(node["error"], where, "expect.error");
    if (!code) return false;
    if (x->allow) {
      e.Add(node["error"], where, "expect.error", "is only for decision: deny");
      ok = false;
    } else if (*code == "access_denied") {
      x->error = DenyCode::kAccessDenied;
    } else if (*code == "invalid_target") {
      x->error = DenyCode::kInvalidTarget;
    } else if (*code == "invalid_scope") {
      x->error = DenyCode::kInvalidScope;
    } else {
      e.Add(node["error"], where, "expect.error",
            "must be access_denied, invalid_target or invalid_scope");
      ok = false;
    }
  }
  return ok;
}

}  // namespace

std::optional<PolicyTestCase> LoadTestCase(YamlErrors& e, const YAML::Node& node, size_t index) {
  std::string where = absl::StrCat("test #", index + 1);
  if (node.IsMap() && node["name"] && node["name"].IsScalar()) {
    where = absl::StrCat("test \"", node["name"].Scalar(), "\"");
  }
  if (!e.CheckKeys(node, where, "", {"name", "identity", "request", "expect"})) {
    return std::nullopt;
  }
  bool ok = true;
  auto name = e.RequiredString(node, where, "", "name");
  ok = ok && name;
  std::optional<AttestedIdentity> id;
  if (!node["identity"]) {
    e.Add(node, where, "identity", "is required");
    ok = false;
  } else {
    id = LoadIdentity(e, node["identity"], where, "identity");
    ok = ok && id;
  }
  PolicyRequest request;
  request.now = DefaultPolicyTestTime();
  if (node["request"]) ok = LoadRequest(e, node["request"], where, &request) && ok;
  PolicyTestCase::Expect expect;
  if (!node["expect"]) {
    e.Add(node, where, "expect", "is required");
    ok = false;
  } else {
    ok = LoadExpect(e, node["expect"], where, &expect) && ok;
  }
  if (!ok) return std::nullopt;
  return PolicyTestCase{*name,          e.file(),           node.Mark().line + 1,
                        std::move(*id), std::move(request), std::move(expect)};
}

}  // namespace policy_internal
}  // namespace writ::issuer

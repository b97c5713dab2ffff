#include "issuer/src/policy/credential_grant_loader.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "issuer/src/policy/matchers.h"
#include "writ/spiffe/spiffe_id.h"

namespace writ::issuer::policy_internal {
namespace {

constexpr absl::string_view kKindNames = "jwt, x509-svid, ssh";

// CheckSpiffeSubject checks that an x509-svid rule's subject template can
// expand to a valid SPIFFE ID. Claim values are checked when a request is
// decided; here each {claim} is tried as "x", which is valid wherever a claim
// may stand, so a failure is a defect of the template's literal text (an
// uppercase trust domain, "//", a trailing "/", a port ...).
void CheckSpiffeSubject(YamlErrors& e, const YAML::Node& grant, absl::string_view where,
                        const SubjectTemplate& subject, bool* ok) {
  const YAML::Node& at = grant["subject"] ? grant["subject"] : grant;
  if (!subject.spiffe()) {
    e.Add(at, where, "grant.subject",
          absl::StrCat("credentials include x509-svid, so the subject must be a spiffe:// "
                       "template (the SVID's SPIFFE ID), not ",
                       Quote(subject.text())));
    *ok = false;
    return;
  }
  std::string probe;
  bool has_claims = false;
  for (const SubjectTemplate::Piece& piece : subject.pieces()) {
    has_claims = has_claims || piece.is_claim;
    probe += piece.is_claim ? "x" : piece.text;
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(probe);
  if (!id.ok()) {
    e.Add(at, where, "grant.subject",
          has_claims ? absl::StrCat("cannot expand to a valid SPIFFE ID (tried with each {claim} "
                                    "as \"x\": ",
                                    Quote(probe), "): ", id.status().message())
                     : absl::StrCat(Quote(probe), ": ", id.status().message()));
    *ok = false;
  }
}

// LoadPrincipals reads grant.ssh.principals: templates, each literal one a
// valid principal, none twice.
bool LoadPrincipals(YamlErrors& e, const YAML::Node& node, absl::string_view where, SshGrant* ssh) {
  constexpr absl::string_view kField = "grant.ssh.principals";
  std::optional<std::vector<std::string>> list = e.StringList(node, where, kField);
  if (!list) return false;
  if (list->empty()) {
    e.Add(node, where, kField, "must list at least one principal");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string& text = (*list)[i];
    std::string field = absl::StrCat(kField, "[", i, "]");
    if (std::find(list->begin(), list->begin() + i, text) != list->begin() + i) {
      e.Add(node[i], where, field, absl::StrCat(Quote(text), " is listed twice"));
      ok = false;
      continue;
    }
    absl::StatusOr<SubjectTemplate> t = SubjectTemplate::Parse(text);
    if (!t.ok()) {
      e.Add(node[i], where, field, t.status().message());
      ok = false;
      continue;
    }
    // The literal text must be a valid principal (claims are checked when a
    // request is decided); a template with claims only has its literal parts
    // checked for bytes sshd would refuse or split on.
    std::string literal;
    bool has_claims = false;
    for (const SubjectTemplate::Piece& piece : t->pieces()) {
      has_claims = has_claims || piece.is_claim;
      literal += piece.is_claim ? "x" : piece.text;
    }
    if (absl::Status s = CheckSshPrincipal(literal); !s.ok()) {
      e.Add(node[i], where, field,
            has_claims ? absl::StrCat(Quote(text),
                                      " cannot expand to an SSH principal (1 to 255 printable "
                                      "ASCII characters, no space or comma)")
                       : s.message());
      ok = false;
      continue;
    }
    ssh->principals.push_back(std::move(*t));
  }
  return ok;
}

// LoadSourceAddress reads grant.ssh.source_address: "client" or a non-empty
// list of addresses / CIDR blocks.
bool LoadSourceAddress(YamlErrors& e, const YAML::Node& node, absl::string_view where,
                       SshGrant* ssh) {
  constexpr absl::string_view kField = "grant.ssh.source_address";
  if (node.IsScalar() && node.Scalar() == "client") {
    ssh->pin_client = true;
    return true;
  }
  if (!node.IsSequence() || node.size() == 0) {
    e.Add(node, where, kField,
          "must be \"client\" (the requester's address) or a non-empty list of addresses or "
          "address blocks such as [\"10.0.0.0/8\"]");
    return false;
  }
  std::optional<std::vector<std::string>> list = e.StringList(node, where, kField);
  if (!list) return false;
  bool ok = true;
  for (size_t i = 0; i < list->size(); ++i) {
    if (absl::Status s = ParseSourceAddress((*list)[i]); !s.ok()) {
      e.Add(node[i], where, absl::StrCat(kField, "[", i, "]"), s.message());
      ok = false;
    }
  }
  if (ok) ssh->source_addresses = std::move(*list);
  return ok;
}

bool LoadSsh(YamlErrors& e, const YAML::Node& node, absl::string_view where, Rule* rule) {
  if (!e.CheckKeys(node, where, "grant.ssh", {"principals", "source_address"})) return false;
  SshGrant ssh;
  bool ok = true;
  if (!node["principals"]) {
    e.Add(node, where, "grant.ssh.principals",
          "is required (the principals, or templates such as \"ci-{repository_owner}\", the "
          "certificate is valid for)");
    ok = false;
  } else {
    ok = LoadPrincipals(e, node["principals"], where, &ssh) && ok;
  }
  if (node["source_address"]) {
    ok = LoadSourceAddress(e, node["source_address"], where, &ssh) && ok;
  }
  rule->ssh = std::move(ssh);
  return ok;
}

}  // namespace

bool LoadCredentials(YamlErrors& e, const YAML::Node& grant, absl::string_view where, Rule* rule) {
  YAML::Node node = grant["credentials"];
  if (!node) return true;
  std::optional<std::vector<std::string>> names = e.StringList(node, where, "grant.credentials");
  rule->credentials.clear();
  if (!names) return false;
  bool ok = true;
  if (names->empty()) {
    e.Add(node, where, "grant.credentials",
          absl::StrCat("must list at least one credential kind (", kKindNames, ")"));
    ok = false;
  }
  for (size_t i = 0; i < names->size(); ++i) {
    std::string field = absl::StrCat("grant.credentials[", i, "]");
    std::optional<CredentialKind> kind = CredentialKindFromName((*names)[i]);
    if (!kind) {
      e.Add(node[i], where, field,
            absl::StrCat(Quote((*names)[i]), " is not a credential kind (", kKindNames, ")"));
      ok = false;
    } else if (rule->Grants(*kind)) {
      e.Add(node[i], where, field, absl::StrCat(Quote((*names)[i]), " is listed twice"));
      ok = false;
    } else {
      rule->credentials.push_back(*kind);
    }
  }
  return ok;
}

bool LoadKindBlocks(YamlErrors& e, const YAML::Node& grant, absl::string_view where,
                    bool subject_ok, Rule* rule) {
  bool ok = true;
  if (rule->Grants(CredentialKind::kX509Svid) && subject_ok) {
    CheckSpiffeSubject(e, grant, where, rule->subject_template, &ok);
  }
  if (YAML::Node x = grant["x509_svid"]) {
    if (!rule->Grants(CredentialKind::kX509Svid)) {
      e.Add(x, where, "grant.x509_svid", "is only for rules whose credentials include x509-svid");
      ok = false;
    } else if (!e.CheckKeys(x, where, "grant.x509_svid", {"renewable"})) {
      ok = false;
    } else if (x["renewable"]) {
      std::optional<bool> renewable = e.Bool(x["renewable"], where, "grant.x509_svid.renewable");
      ok = ok && renewable.has_value();
      rule->renewable = renewable.value_or(false);
    }
  }
  YAML::Node ssh = grant["ssh"];
  if (ssh && !rule->Grants(CredentialKind::kSsh)) {
    e.Add(ssh, where, "grant.ssh", "is only for rules whose credentials include ssh");
    ok = false;
  } else if (!ssh && rule->Grants(CredentialKind::kSsh)) {
    e.Add(grant, where, "grant.ssh",
          "is required when credentials include ssh (at least its principals)");
    ok = false;
  } else if (ssh) {
    ok = LoadSsh(e, ssh, where, rule) && ok;
  }
  return ok;
}

}  // namespace writ::issuer::policy_internal

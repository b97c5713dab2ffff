// The policy engine's vocabulary: what is asked, what is decided.
#ifndef WRIT_ISSUER_POLICY_DECISION_H_
#define WRIT_ISSUER_POLICY_DECISION_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "issuer/src/attest/attested_identity.h"

namespace writ::issuer {

// CredentialKind is what a caller asks to be minted. A rule grants the kinds
// its `grant.credentials` lists (default: jwt only).
enum class CredentialKind {
  kJwt,       // an RFC 9068 access token; audience and scopes apply
  kX509Svid,  // a SPIFFE X.509-SVID; the granted subject is its SPIFFE ID
  kSsh,       // an OpenSSH user certificate for the rule's principals
};

// CredentialKindName: "jwt", "x509-svid", "ssh" (the policy and ledger names).
inline const char* CredentialKindName(CredentialKind kind) {
  switch (kind) {
    case CredentialKind::kX509Svid:
      return "x509-svid";
    case CredentialKind::kSsh:
      return "ssh";
    case CredentialKind::kJwt:
      break;
  }
  return "jwt";
}

// CredentialKindFromName is the inverse of CredentialKindName; nullopt for
// any other name (names are case-sensitive).
inline std::optional<CredentialKind> CredentialKindFromName(absl::string_view name) {
  for (CredentialKind kind :
       {CredentialKind::kJwt, CredentialKind::kX509Svid, CredentialKind::kSsh}) {
    if (name == CredentialKindName(kind)) return kind;
  }
  return std::nullopt;
}

// PolicyRequest is what a caller asks for, besides who it is.
struct PolicyRequest {
  // kind of credential asked for. For kX509Svid and kSsh, audience and scopes
  // must be empty (a rule's audiences and scopes are about JWTs).
  CredentialKind kind = CredentialKind::kJwt;
  // ssh_principals asked for (kSsh only); empty means all of the rule's.
  // Asking for one the rule does not grant is invalid_scope.
  std::vector<std::string> ssh_principals;
  // audience asked for; empty means "the rule's only audience" (an error when
  // the rule allows several).
  std::string audience;
  // scopes asked for; empty means the rule's default scopes.
  std::vector<std::string> scopes;
  // lifetime asked for; unset means the rule's default lifetime.
  std::optional<absl::Duration> lifetime;
  // client_address is the caller's IP address ("127.0.0.1", "::1"); empty when
  // unknown (then a rule with source_cidrs does not match).
  std::string client_address;
  // now is the time the decision is made at (time-window conditions).
  absl::Time now;
  // actors is the delegation chain, innermost first: actors[0] is the party
  // acting for the subject (from an RFC 8693 actor_token). Empty: no
  // delegation.
  std::vector<AttestedIdentity> actors;
};

// DenyCode says which RFC 6749/8693 error a denial maps to.
enum class DenyCode {
  kAccessDenied,   // no rule matches who the caller is
  kInvalidTarget,  // a rule matches, but does not grant the credential kind or
                   // the audience asked for
  kInvalidScope,   // a rule matches kind and audience, but not the scopes,
                   // SSH principals or lifetime
};

// DenyCodeName is the OAuth error code of a denial: "access_denied",
// "invalid_target" or "invalid_scope".
inline const char* DenyCodeName(DenyCode code) {
  switch (code) {
    case DenyCode::kInvalidTarget:
      return "invalid_target";
    case DenyCode::kInvalidScope:
      return "invalid_scope";
    case DenyCode::kAccessDenied:
      break;
  }
  return "access_denied";
}

// Grant is what an allowing rule grants.
struct Grant {
  // subject of the minted credential (the rule's template expanded).
  std::string subject;
  std::string audience;
  std::vector<std::string> scopes;
  absl::Duration lifetime;
  // facts are the attested claims the rule copies into the credential, as
  // (claim name, value) pairs, in the rule's order.
  std::vector<std::pair<std::string, std::string>> facts;
  // kind: the request's kind, which the rule grants.
  CredentialKind kind = CredentialKind::kJwt;
  // kX509Svid: renewable says the SVID may be renewed over mTLS without a
  // new attestation (grant.x509_svid.renewable).
  bool renewable = false;
  // kSsh: the principals granted (templates expanded, narrowed to what was
  // asked), and the source addresses/CIDRs the certificate is pinned to
  // (grant.ssh.source_address: the literal CIDRs, or the client's address
  // for "client"); empty: not pinned.
  std::vector<std::string> ssh_principals;
  std::vector<std::string> ssh_source_addresses;
};

// Decision is the engine's answer. Default deny.
struct Decision {
  bool allowed = false;
  // rule is the name of the rule that allowed, or that came closest to
  // allowing (empty when no rule matched the identity).
  std::string rule;
  // policy_file is the file that rule came from.
  std::string policy_file;
  DenyCode deny_code = DenyCode::kAccessDenied;
  // reasons explain a denial (one line each, user-facing, no secrets).
  std::vector<std::string> reasons;
  // used_claims are the (claim, value) pairs the decision looked at, for the
  // ledger.
  std::vector<std::pair<std::string, std::string>> used_claims;
  // grant is set when allowed.
  std::optional<Grant> grant;
};

// RuleTrace is one rule's result in an explanation.
struct RuleTrace {
  std::string rule;
  std::string policy_file;
  bool matched = false;
  // why_not lists every failed condition of this rule (empty when matched).
  std::vector<std::string> why_not;
};

// Explanation is a dry run: the decision, and every rule's trace in the order
// the rules were evaluated.
struct Explanation {
  Decision decision;
  std::vector<RuleTrace> rules;
};

}  // namespace writ::issuer

#endif  // WRIT_ISSUER_POLICY_DECISION_H_

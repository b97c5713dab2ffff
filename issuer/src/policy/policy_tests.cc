#include "issuer/src/policy/policy_tests.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace writ::issuer {
namespace {

std::string Got(const Decision& d) {
  if (d.allowed) {
    const Grant& g = *d.grant;
    std::string kind;
    switch (g.kind) {
      case CredentialKind::kJwt:
        kind = absl::StrCat("scopes [", absl::StrJoin(g.scopes, ", "), "]");
        break;
      case CredentialKind::kX509Svid:
        kind = absl::StrCat("x509-svid, renewable ", g.renewable ? "true" : "false");
        break;
      case CredentialKind::kSsh:
        kind =
            absl::StrCat("ssh, principals [", absl::StrJoin(g.ssh_principals, ", "),
                         "], source addresses [", absl::StrJoin(g.ssh_source_addresses, ", "), "]");
        break;
    }
    return absl::StrCat("allow by rule \"", d.rule, "\" (subject \"", g.subject, "\", ", kind,
                        ", lifetime ", absl::FormatDuration(g.lifetime), ")");
  }
  return absl::StrCat("deny ", DenyCodeName(d.deny_code), d.reasons.empty() ? "" : ": ",
                      absl::StrJoin(d.reasons, "; "));
}

std::string Check(const PolicyTestCase& t, const Decision& d) {
  const PolicyTestCase::Expect& x = t.expect;
  if (x.allow != d.allowed) {
    return absl::StrCat("expected ", x.allow ? "allow" : "deny", ", got ", Got(d));
  }
  if (x.rule && *x.rule != d.rule) {
    return absl::StrCat("expected rule \"", *x.rule, "\", got ", Got(d));
  }
  if (d.allowed) {
    if (x.subject && *x.subject != d.grant->subject) {
      return absl::StrCat("expected subject \"", *x.subject, "\", got ", Got(d));
    }
    if (x.scopes && *x.scopes != d.grant->scopes) {
      return absl::StrCat("expected scopes [", absl::StrJoin(*x.scopes, ", "), "], got ", Got(d));
    }
    if (x.lifetime && *x.lifetime != d.grant->lifetime) {
      return absl::StrCat("expected lifetime ", absl::FormatDuration(*x.lifetime), ", got ",
                          Got(d));
    }
    if (x.principals && *x.principals != d.grant->ssh_principals) {
      return absl::StrCat("expected principals [", absl::StrJoin(*x.principals, ", "), "], got ",
                          Got(d));
    }
    if (x.source_addresses && *x.source_addresses != d.grant->ssh_source_addresses) {
      return absl::StrCat("expected source addresses [", absl::StrJoin(*x.source_addresses, ", "),
                          "], got ", Got(d));
    }
    if (x.renewable && *x.renewable != d.grant->renewable) {
      return absl::StrCat("expected renewable ", *x.renewable ? "true" : "false", ", got ", Got(d));
    }
  } else if (x.error && *x.error != d.deny_code) {
    return absl::StrCat("expected deny ", DenyCodeName(*x.error), ", got ", Got(d));
  }
  return "";
}

}  // namespace

std::string PolicyTestReport::Summary() const {
  return absl::StrCat(passed, " passed, ", failed, " failed");
}

PolicyTestReport RunPolicyTests(const PolicyEngine& engine) {
  PolicyTestReport report;
  for (const PolicyTestCase& t : engine.test_cases()) {
    PolicyTestResult r{t.name, t.file, t.line, false, ""};
    r.message = Check(t, engine.Decide(t.identity, t.request));
    r.passed = r.message.empty();
    (r.passed ? report.passed : report.failed)++;
    report.results.push_back(std::move(r));
  }
  return report;
}

}  // namespace writ::issuer

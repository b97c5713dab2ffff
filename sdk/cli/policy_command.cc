// writ policy test | explain: run a policy set's self-tests, and dry-run a
// request against it.

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "issuer/src/policy/policy_engine.h"
#include "issuer/src/policy/policy_tests.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "sdk/cli/io.h"
#include "writ/base/status_macros.h"
#include "writ/jose/claims.h"

namespace writ::cli {
namespace {

using issuer::Decision;
using issuer::PolicyEngine;
using issuer::PolicyEngineOptions;

constexpr absl::string_view kTestHelp =
    "usage: writ policy test [DIR|FILE...]\n\n"
    "Loads the policy files (every *.yaml / *.yml of each DIR, in name order; each FILE\n"
    "as given; default: the directory 'policies') as one set and runs the `tests:` cases\n"
    "of every file. Prints one line per case and a summary. Exits 1 when the set does\n"
    "not load (every error is printed as file:line) or any case fails.\n";

// PolicyPaths expands directories into their policy files.
absl::StatusOr<std::vector<std::string>> PolicyPaths(const std::vector<std::string>& inputs) {
  std::vector<std::string> paths;
  for (const std::string& input : inputs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(input, ec)) {
      if (!std::filesystem::exists(input, ec)) {
        return absl::NotFoundError(absl::StrCat(input, ": no such file or directory"));
      }
      paths.push_back(input);
      continue;
    }
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(input, ec)) {
      std::string ext = entry.path().extension().string();
      if ((ext == ".yaml" || ext == ".yml") && !entry.is_directory()) {
        files.push_back(entry.path().string());
      }
    }
    if (ec) return absl::UnavailableError(absl::StrCat(input, ": ", ec.message()));
    std::sort(files.begin(), files.end());
    paths.insert(paths.end(), files.begin(), files.end());
  }
  return paths;
}

// LoadPolicies loads `inputs` as one set. Load errors go to `err`, one
// "file:line: ..." per line, and the status only counts them.
absl::StatusOr<std::shared_ptr<const PolicyEngine>> LoadPolicies(
    const std::vector<std::string>& inputs, std::ostream& err) {
  ASSIGN_OR_RETURN(std::vector<std::string> paths, PolicyPaths(inputs));
  absl::StatusOr<std::shared_ptr<const PolicyEngine>> engine =
      PolicyEngine::LoadFiles(paths, PolicyEngineOptions());
  if (!engine.ok() && absl::IsInvalidArgument(engine.status())) {
    size_t count = 0;
    for (absl::string_view line : absl::StrSplit(engine.status().message(), '\n')) {
      err << line << "\n";
      ++count;
    }
    return absl::InvalidArgumentError(
        absl::StrCat("the policies do not load (", count, count == 1 ? " error)" : " errors)"));
  }
  return engine;
}

absl::Status RunTest(absl::string_view name, absl::Span<const std::string> args, CommandEnv& env) {
  std::vector<std::string> inputs;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      *env.out << kTestHelp;
      return absl::OkStatus();
    }
    if (absl::StartsWith(arg, "-") && arg != "-") {
      return UsageError(name, absl::StrCat("unknown flag ", Printable(arg)));
    }
    inputs.push_back(arg);
  }
  if (inputs.empty()) inputs.push_back("policies");
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicyEngine> engine, LoadPolicies(inputs, *env.err));
  issuer::PolicyTestReport report = issuer::RunPolicyTests(*engine);
  for (const issuer::PolicyTestResult& r : report.results) {
    *env.out << (r.passed ? "PASS " : "FAIL ") << r.file << ":" << r.line << ": " << r.name;
    if (!r.passed) *env.out << ": " << r.message;
    *env.out << "\n";
  }
  *env.out << report.Summary() << " (" << engine->rule_count() << " rules in "
           << engine->file_names().size() << " files)\n";
  if (!report.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(report.failed, " of ", report.results.size(), " policy tests failed"));
  }
  return absl::OkStatus();
}

// ClaimsJson builds the identity's claims from --claims FILE or --claim k=v.
absl::StatusOr<std::string> ClaimsJson(const FlagSet& flags, const std::string& file,
                                       const std::vector<std::string>& pairs,
                                       const std::string& subject, CommandEnv& env) {
  if (flags.IsSet("claims")) {
    ASSIGN_OR_RETURN(std::string json, ReadInput(file, "--claims file", *env.in));
    return json;
  }
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  bool has_sub = false;
  for (const std::string& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return flags.Error(absl::StrCat("--claim ", Printable(pair), " is not NAME=VALUE"));
    }
    has_sub = has_sub || pair.substr(0, eq) == "sub";
    w.Key(pair.data(), static_cast<rapidjson::SizeType>(eq));
    w.String(pair.data() + eq + 1, static_cast<rapidjson::SizeType>(pair.size() - eq - 1));
  }
  if (!has_sub) {
    w.Key("sub");
    w.String(subject.c_str());
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

void PrintDecision(const Decision& d, std::ostream& out) {
  if (d.allowed) {
    const issuer::Grant& g = *d.grant;
    out << "decision: allow by rule \"" << d.rule << "\" (" << d.policy_file << ")\n"
        << "  kind:     " << issuer::CredentialKindName(g.kind) << "\n"
        << "  subject:  " << g.subject << "\n";
    switch (g.kind) {
      case issuer::CredentialKind::kJwt:
        out << "  audience: " << g.audience << "\n"
            << "  scopes:   [" << absl::StrJoin(g.scopes, ", ") << "]\n";
        break;
      case issuer::CredentialKind::kX509Svid:
        out << "  renewable: " << (g.renewable ? "true" : "false") << "\n";
        break;
      case issuer::CredentialKind::kSsh:
        out << "  principals: [" << absl::StrJoin(g.ssh_principals, ", ") << "]\n"
            << "  source addresses: "
            << (g.ssh_source_addresses.empty()
                    ? std::string("any")
                    : absl::StrCat("[", absl::StrJoin(g.ssh_source_addresses, ", "), "]"))
            << "\n";
        break;
    }
    out << "  lifetime: " << absl::FormatDuration(g.lifetime) << "\n";
    for (const auto& [claim, value] : g.facts) {
      out << "  fact:     " << claim << " = " << Printable(value, 200) << "\n";
    }
  } else {
    out << "decision: deny (" << issuer::DenyCodeName(d.deny_code) << ")";
    if (!d.rule.empty()) out << ", closest rule \"" << d.rule << "\" (" << d.policy_file << ")";
    out << "\n";
    for (const std::string& reason : d.reasons) out << "  reason: " << reason << "\n";
  }
  for (const auto& [claim, value] : d.used_claims) {
    out << "  looked at: " << claim << " = " << Printable(value, 200) << "\n";
  }
}

absl::Status RunExplain(absl::string_view name, absl::Span<const std::string> args,
                        CommandEnv& env) {
  std::string dir, issuer_name, subject, claims_file, audience, lifetime, address, time;
  std::string kind = "jwt";
  std::vector<std::string> claim_pairs, scopes, principals;
  FlagSet flags(std::string(name),
                "--policies DIR --issuer NAME --subject S [--claims FILE.json | --claim k=v ...] "
                "[--kind jwt|x509-svid|ssh] [--audience A] [--scope S ...] [--principal P ...] "
                "[--lifetime 10m] [--client-address IP] [--time RFC3339]",
                "Decides a request against a policy set without issuing anything, and shows,\n"
                "for every rule in evaluation order, whether it matched and why not. The\n"
                "identity is given as its trusted issuer name, subject and claims (a JSON\n"
                "object file, or top-level string claims with --claim). Exits 0 whatever\n"
                "the decision.");
  flags.String("policies", "DIR", &dir, "the policy directory", FlagSet::kRequired);
  flags.String("issuer", "NAME", &issuer_name, "the trusted issuer name (\"github\")",
               FlagSet::kRequired);
  flags.String("subject", "S", &subject, "the token's subject (\"sub\")", FlagSet::kRequired);
  flags.String("claims", "FILE", &claims_file, "the token's claims, a JSON object ('-' = stdin)");
  flags.StringList("claim", "NAME=VALUE", &claim_pairs, "a string claim (repeatable)");
  flags.String("kind", "KIND", &kind,
               "the credential asked for: jwt, x509-svid or ssh (default: jwt)");
  flags.String("audience", "A", &audience, "the audience asked for (jwt)");
  flags.StringList("scope", "S", &scopes, "a scope asked for (jwt; repeatable)");
  flags.StringList("principal", "P", &principals,
                   "an SSH principal asked for (ssh; repeatable; default: all the rule grants)");
  flags.String("lifetime", "DURATION", &lifetime, "the lifetime asked for (90s, 10m, 1h)");
  flags.String("client-address", "IP", &address, "the caller's IP address");
  flags.String("time", "RFC3339", &time, "decide at this time (default: now)");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  if (flags.IsSet("claims") && flags.IsSet("claim")) {
    return flags.Error("give the claims with --claims or --claim, not both");
  }
  issuer::PolicyRequest request;
  std::optional<issuer::CredentialKind> credential_kind = issuer::CredentialKindFromName(kind);
  if (!credential_kind) {
    return flags.Error(absl::StrCat("--kind ", Printable(kind),
                                    " is not a credential kind (jwt, x509-svid, ssh)"));
  }
  request.kind = *credential_kind;
  request.ssh_principals = principals;
  request.audience = audience;
  request.scopes = scopes;
  request.client_address = address;
  request.now = env.clock->Now();
  if (flags.IsSet("lifetime")) {
    absl::Duration d;
    if (!absl::ParseDuration(lifetime, &d) || d <= absl::ZeroDuration() ||
        d == absl::InfiniteDuration()) {
      return flags.Error(absl::StrCat("--lifetime ", Printable(lifetime),
                                      " is not a positive duration like 90s or 10m"));
    }
    request.lifetime = d;
  }
  if (flags.IsSet("time")) {
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, time, &request.now, &err)) {
      return flags.Error(
          absl::StrCat("--time ", Printable(time), " is not RFC 3339 (2026-01-05T10:00:00Z)"));
    }
  }
  ASSIGN_OR_RETURN(std::string json, ClaimsJson(flags, claims_file, claim_pairs, subject, env));
  absl::StatusOr<JwtClaims> claims = JwtClaims::Parse(json);
  if (!claims.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("claims: ", claims.status().message()));
  }
  issuer::AttestedIdentity identity{issuer_name,
                                    claims->issuer(),
                                    subject,
                                    claims->jwt_id(),
                                    claims->expires_at().value_or(absl::InfiniteFuture()),
                                    *claims};
  ASSIGN_OR_RETURN(std::shared_ptr<const PolicyEngine> engine, LoadPolicies({dir}, *env.err));
  issuer::Explanation explanation = engine->Explain(identity, request);
  PrintDecision(explanation.decision, *env.out);
  *env.out << "rules (" << explanation.rules.size() << ", in evaluation order):\n";
  for (const issuer::RuleTrace& t : explanation.rules) {
    *env.out << "  " << (t.matched ? "MATCH " : "no    ") << t.rule << " (" << t.policy_file
             << ")\n";
    for (const std::string& why : t.why_not) *env.out << "          - " << why << "\n";
  }
  return absl::OkStatus();
}

constexpr Command kPolicyCommands[] = {
    {"test", "run the self-tests of policy files", RunTest},
    {"explain", "dry-run a request: the decision and every rule's trace", RunExplain},
};

}  // namespace

absl::Status RunPolicyCommand(absl::string_view name, absl::Span<const std::string> args,
                              CommandEnv& env) {
  return DispatchSubcommand(name, "Tests and explains scope policies (policies/*.yaml).",
                            kPolicyCommands, args, env);
}

}  // namespace writ::cli

// The top-level dispatcher: one row per command group.

#include <ostream>

#include "sdk/cli/commands.h"

#ifndef WRIT_VERSION
#define WRIT_VERSION "unknown"
#endif

namespace writ::cli {
namespace {

// Workload commands first, then the operator's, then the JOSE toolbox.
constexpr Command kCommands[] = {
    {"token", "exchange this workload's OIDC token for a short-lived Writ token", RunTokenCommand},
    {"cert", "get an X.509-SVID: key, certificate and bundle files", RunCertCommand},
    {"ssh", "get an SSH certificate for an existing or a new key", RunSshCommand},
    {"verify", "check a Writ token as a relying party would", RunVerifyCommand},
    {"audit", "list the issuer's decisions from its ledger", RunAuditCommand},
    {"policy", "test and explain scope policies", RunPolicyCommand},
    {"keys", "list and rotate the issuer's signing keys", RunKeysCommand},
    {"keygen", "generate a private key (PKCS#8 PEM) for a JWS algorithm", RunKeygenCommand},
    {"jwk", "print the public JWK or RFC 7638 thumbprint of a key", RunJwkCommand},
    {"jwt", "sign, verify and decode JWTs", RunJwtCommand},
    {"demo", "a self-contained tour of the JOSE core", RunDemoCommand},
};

constexpr absl::string_view kDescription =
    "writ: short-lived credentials for non-human identities.\n"
    "Exit codes (errors as one 'writ: <reason>' line on stderr):\n"
    "  0 success   1 failure   2 usage error\n"
    "  3 refused: the issuer said no, or a token or signature does not verify\n"
    "  4 unavailable: the issuer or a token source cannot be reached now; retry";

}  // namespace

int RunWrit(absl::Span<const std::string> args, CommandEnv& env) {
  if (args.size() == 1 && (args[0] == "--version" || args[0] == "version")) {
    *env.out << "writ " << WRIT_VERSION << "\n";
    return kExitOk;
  }
  return ExitCode(DispatchSubcommand("writ", kDescription, kCommands, args, env), *env.err);
}

}  // namespace writ::cli

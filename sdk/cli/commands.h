// The `writ` command groups, one file each. Each takes its full command path
// ("writ jwt"), the arguments after it and the environment; see command.h.
#ifndef WRIT_SDK_CLI_COMMANDS_H_
#define WRIT_SDK_CLI_COMMANDS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sdk/cli/command.h"

namespace writ::cli {

// writ keygen: a new PKCS#8 PEM private key (keygen_command.cc).
absl::Status RunKeygenCommand(absl::string_view name, absl::Span<const std::string> args,
                              CommandEnv& env);

// writ jwk, writ jwk thumbprint: public JWKs and RFC 7638 thumbprints
// (jwk_command.cc).
absl::Status RunJwkCommand(absl::string_view name, absl::Span<const std::string> args,
                           CommandEnv& env);

// writ jwt sign | verify | decode (jwt_command.cc).
absl::Status RunJwtCommand(absl::string_view name, absl::Span<const std::string> args,
                           CommandEnv& env);

// writ demo: a self-contained tour of the JOSE core (demo_command.cc).
absl::Status RunDemoCommand(absl::string_view name, absl::Span<const std::string> args,
                            CommandEnv& env);

// writ token: exchange this workload's OIDC token for a Writ token
// (token_command.cc).
absl::Status RunTokenCommand(absl::string_view name, absl::Span<const std::string> args,
                             CommandEnv& env);

// writ audit list: the issuer's decision ledger, read-only (audit_command.cc).
absl::Status RunAuditCommand(absl::string_view name, absl::Span<const std::string> args,
                             CommandEnv& env);

// writ keys list | rotate: the issuer's signing keys over its gRPC KeyService
// (keys_command.cc).
absl::Status RunKeysCommand(absl::string_view name, absl::Span<const std::string> args,
                            CommandEnv& env);

// writ policy test | explain: policy self-tests and dry runs
// (policy_command.cc).
absl::Status RunPolicyCommand(absl::string_view name, absl::Span<const std::string> args,
                              CommandEnv& env);

// writ cert: an X.509-SVID as key, certificate and bundle files
// (cert_command.cc).
absl::Status RunCertCommand(absl::string_view name, absl::Span<const std::string> args,
                            CommandEnv& env);

// writ ssh: an SSH certificate for an existing or a new key (ssh_command.cc).
absl::Status RunSshCommand(absl::string_view name, absl::Span<const std::string> args,
                           CommandEnv& env);

// writ verify: check a Writ token as a relying party (verify_command.cc).
absl::Status RunVerifyCommand(absl::string_view name, absl::Span<const std::string> args,
                              CommandEnv& env);

// RunWrit runs the whole tool: `args` are argv[1..]. Returns the exit code.
int RunWrit(absl::Span<const std::string> args, CommandEnv& env);

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_COMMANDS_H_

// The plumbing every `writ` command shares: its environment (streams, clock),
// how it reports usage errors, and the table a command group dispatches on.
//
// A command is a function from its arguments (everything after its name) to an
// absl::Status. RunCommandTable turns the status into the process exit code:
//   OK                        -> 0
//   a UsageError(...)         -> 2, "<command>: <message> (see '<command> --help')"
//   kPermissionDenied, kUnauthenticated       -> 3, "writ: <message>"
//   kUnavailable, kDeadlineExceeded,
//   kResourceExhausted                        -> 4, "writ: <message>"
//   any other error           -> 1, "writ: <message>"
// so a command never prints its own error line. Adding a command group (say
// `writ token`) is one new file with a Run*Command function and one row in the
// table in writ_cli.cc.
#ifndef WRIT_SDK_CLI_COMMAND_H_
#define WRIT_SDK_CLI_COMMAND_H_

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "writ/base/clock.h"

namespace writ::cli {

// Exit codes of the `writ` binary, so a pipeline can tell "no" from "not
// now": 3 means the answer is no (the issuer refused, a token or signature
// did not verify), 4 that the issuer or a token source could not be reached
// or is overloaded, and trying again later may work.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRefused = 3;
inline constexpr int kExitUnavailable = 4;

// ProcessGetenv reads the process environment.
std::optional<std::string> ProcessGetenv(const std::string& name);

// CommandEnv is what a command may touch besides its arguments. Tests give it
// string streams and a FakeClock. Not owned; must outlive the command.
struct CommandEnv {
  std::istream* in;
  std::ostream* out;
  std::ostream* err;
  // The clock token validation uses. Default: the system clock.
  const Clock* clock = &Clock::Real();
  // Whether `in` is an interactive terminal, so a command about to wait for
  // input there can say so. Default: false.
  bool in_is_terminal = false;
  // getenv reads an environment variable (nullopt when unset); tests replace
  // it. Default: the process environment.
  std::function<std::optional<std::string>(const std::string&)> getenv = ProcessGetenv;
};

// UsageError returns a status that marks a mistake in how `command` (the full
// path, "writ jwt sign") was called: unknown flag, missing or conflicting
// flags, a malformed flag value. Its message is the whole line shown to the
// user, naming the command and its --help. It maps to exit code 2.
absl::Status UsageError(absl::string_view command, absl::string_view message);

// IsUsageError is true for statuses made by UsageError.
bool IsUsageError(const absl::Status& status);

// CommandFn runs one command. `name` is the full command path ("writ jwt
// sign") for help and error messages; `args` are the arguments after it.
using CommandFn = absl::Status (*)(absl::string_view name, absl::Span<const std::string> args,
                                   CommandEnv& env);

// Command is one row of a dispatch table.
struct Command {
  absl::string_view name;
  absl::string_view summary;
  CommandFn run;
};

// DispatchSubcommand runs the command in `table` named by args[0], with the
// remaining arguments. With no arguments, "--help", "-h" or "help", it prints
// `description` and the table to env.out and returns OK. An unknown name is a
// UsageError.
absl::Status DispatchSubcommand(absl::string_view group, absl::string_view description,
                                absl::Span<const Command> table, absl::Span<const std::string> args,
                                CommandEnv& env);

// Printable returns `text` cut to `max_bytes` (with "..." when cut) and with
// every byte that is not printable ASCII replaced by '?', for quoting user
// input and untrusted data in one-line messages.
std::string Printable(absl::string_view text, size_t max_bytes = 64);

// ExitCode converts a command's status into the process exit code, printing
// the one-line error message (if any) to `err`.
int ExitCode(const absl::Status& status, std::ostream& err);

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_COMMAND_H_

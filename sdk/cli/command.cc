#include "sdk/cli/command.h"

#include <algorithm>
#include <cstdlib>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace writ::cli {

std::optional<std::string> ProcessGetenv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}
namespace {

constexpr absl::string_view kUsagePayload = "type.writ.dev/writ.cli.UsageError";

}  // namespace

std::string Printable(absl::string_view text, size_t max_bytes) {
  std::string out;
  for (char c : text.substr(0, max_bytes)) {
    out.push_back(absl::ascii_isprint(static_cast<unsigned char>(c)) ? c : '?');
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

absl::Status UsageError(absl::string_view command, absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat(command, ": ", message, " (see '", command, " --help')"));
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::Status DispatchSubcommand(absl::string_view group, absl::string_view description,
                                absl::Span<const Command> table, absl::Span<const std::string> args,
                                CommandEnv& env) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::string help =
        absl::StrCat("Usage: ", group, " <command> [flags]\n\n", description, "\n\nCommands:\n");
    size_t width = 0;
    for (const Command& c : table) width = std::max(width, c.name.size());
    for (const Command& c : table) {
      absl::StrAppend(&help, "  ", c.name, std::string(width - c.name.size() + 2, ' '), c.summary,
                      "\n");
    }
    absl::StrAppend(&help, "\nRun '", group, " <command> --help' for a command's flags.\n");
    // Asked-for help goes to stdout; help shown because a command is missing
    // is part of an error and goes to stderr.
    if (args.empty()) {
      *env.err << help << "\n";
      return UsageError(group, "no command given");
    }
    *env.out << help;
    return absl::OkStatus();
  }
  for (const Command& c : table) {
    if (args[0] == c.name) return c.run(absl::StrCat(group, " ", c.name), args.subspan(1), env);
  }
  if (absl::StartsWith(args[0], "-")) {
    return UsageError(group, absl::StrCat("expected a command before flag ", Printable(args[0])));
  }
  return UsageError(group, absl::StrCat("unknown command '", Printable(args[0]), "'"));
}

int ExitCode(const absl::Status& status, std::ostream& err) {
  if (status.ok()) return kExitOk;
  // Messages can quote untrusted input (a token's header, a file name); the
  // line stays one line and holds no terminal escapes whatever they contain.
  const std::string line = Printable(status.message(), status.message().size());
  if (IsUsageError(status)) {
    err << line << "\n";
    return kExitUsage;
  }
  err << "writ: " << line << "\n";
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return kExitRefused;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
      return kExitUnavailable;
    default:
      return kExitFailure;
  }
}

}  // namespace writ::cli

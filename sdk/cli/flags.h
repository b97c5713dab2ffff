// FlagSet: the small command-line flag parser the `writ` commands share.
//
//   std::string key;
//   bool quiet = false;
//   FlagSet flags("writ jwk", "--key FILE [--quiet]", "Prints the public JWK of a key.");
//   flags.String("key", "FILE", &key, "PEM key file", FlagSet::kRequired);
//   flags.Bool("quiet", &quiet, "print nothing");
//   RETURN_IF_ERROR(flags.Parse(args));
//   if (flags.help_requested()) { *env.out << flags.Help(); return absl::OkStatus(); }
//
// Accepted forms: "--name value" and "--name=value" for value flags ("--name
// value" refuses a value that starts with "--", so a forgotten value is not
// silently replaced by the next flag; write "--name=--x" to mean it), "--name"
// for boolean flags, "--help" / "-h" anywhere. Positional arguments are not
// accepted. Every mistake is a UsageError naming the flag.
#ifndef WRIT_SDK_CLI_FLAGS_H_
#define WRIT_SDK_CLI_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace writ::cli {

class FlagSet {
 public:
  enum Presence { kOptional, kRequired };

  // `command` is the full command path ("writ jwt sign"), `synopsis` the flags
  // part of the usage line, `description` a paragraph shown by Help().
  FlagSet(std::string command, std::string synopsis, std::string description);

  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // String declares "--name VALUE". `out` keeps its value when the flag is
  // absent. A flag may be given once.
  void String(absl::string_view name, absl::string_view value_name, std::string* out,
              absl::string_view help, Presence presence = kOptional);
  // StringList declares "--name VALUE" that may repeat; values are appended.
  void StringList(absl::string_view name, absl::string_view value_name,
                  std::vector<std::string>* out, absl::string_view help,
                  Presence presence = kOptional);
  // Bool declares "--name", which sets `*out` to true.
  void Bool(absl::string_view name, bool* out, absl::string_view help);

  // Parse reads `args`. Returns a UsageError for an unknown flag, a positional
  // argument, a missing or unexpected value, a non-repeatable flag given twice,
  // or (unless help was asked for) a missing required flag. Call once.
  absl::Status Parse(absl::Span<const std::string> args);

  // help_requested is true when "--help" or "-h" was among the arguments.
  bool help_requested() const { return help_requested_; }
  // IsSet is true when the flag `name` appeared on the command line.
  bool IsSet(absl::string_view name) const;

  // Help returns the usage line, the description and one line per flag.
  std::string Help() const;

  // Error returns a UsageError for this command with `message`.
  absl::Status Error(absl::string_view message) const;

  const std::string& command() const { return command_; }

 private:
  enum class Kind { kString, kStringList, kBool };
  struct Flag {
    std::string name;
    std::string value_name;
    std::string help;
    Kind kind;
    Presence presence;
    void* out;
    bool seen = false;
  };

  void Add(Flag flag);
  Flag* Find(absl::string_view name);
  const Flag* Find(absl::string_view name) const;
  static void Assign(Flag& flag, absl::string_view value);

  std::string command_;
  std::string synopsis_;
  std::string description_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
  bool parsed_ = false;
};

}  // namespace writ::cli

#endif  // WRIT_SDK_CLI_FLAGS_H_

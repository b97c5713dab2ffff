#include "sdk/cli/flags.h"

#include <algorithm>
#include <cassert>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/cli/command.h"

namespace writ::cli {

FlagSet::FlagSet(std::string command, std::string synopsis, std::string description)
    : command_(std::move(command)),
      synopsis_(std::move(synopsis)),
      description_(std::move(description)) {}

void FlagSet::Add(Flag flag) {
  // Declaring a flag twice is a programming error, not a user error.
  assert(Find(flag.name) == nullptr && flag.name != "help");
  flags_.push_back(std::move(flag));
}

void FlagSet::String(absl::string_view name, absl::string_view value_name, std::string* out,
                     absl::string_view help, Presence presence) {
  Add(Flag{std::string(name), std::string(value_name), std::string(help), Kind::kString, presence,
           out});
}

void FlagSet::StringList(absl::string_view name, absl::string_view value_name,
                         std::vector<std::string>* out, absl::string_view help, Presence presence) {
  Add(Flag{std::string(name), std::string(value_name), std::string(help), Kind::kStringList,
           presence, out});
}

void FlagSet::Bool(absl::string_view name, bool* out, absl::string_view help) {
  Add(Flag{std::string(name), "", std::string(help), Kind::kBool, kOptional, out});
}

FlagSet::Flag* FlagSet::Find(absl::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FlagSet::Flag* FlagSet::Find(absl::string_view name) const {
  return const_cast<FlagSet*>(this)->Find(name);
}

bool FlagSet::IsSet(absl::string_view name) const {
  const Flag* f = Find(name);
  return f != nullptr && f->seen;
}

absl::Status FlagSet::Error(absl::string_view message) const {
  return UsageError(command_, message);
}

void FlagSet::Assign(Flag& flag, absl::string_view value) {
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.out) = std::string(value);
      break;
    case Kind::kStringList:
      static_cast<std::vector<std::string>*>(flag.out)->emplace_back(value);
      break;
    case Kind::kBool:
      *static_cast<bool*>(flag.out) = true;
      break;
  }
}

absl::Status FlagSet::Parse(absl::Span<const std::string> args) {
  assert(!parsed_);
  parsed_ = true;
  // A request for help wins over every other mistake on the line: someone
  // typing --help wants to read how to call the command, not an error.
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      return absl::OkStatus();
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const absl::string_view arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (absl::StartsWith(arg, "-") && arg.size() > 1) {
        return Error(absl::StrCat("unknown flag ", Printable(arg)));
      }
      return Error(absl::StrCat("unexpected argument '", Printable(arg), "'"));
    }
    absl::string_view name = arg.substr(2);
    std::optional<absl::string_view> inline_value;
    if (const size_t eq = name.find('='); eq != absl::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    Flag* flag = Find(name);
    if (flag == nullptr) return Error(absl::StrCat("unknown flag --", Printable(name)));
    if (flag->seen && flag->kind != Kind::kStringList) {
      return Error(absl::StrCat("--", name, " is given more than once"));
    }
    flag->seen = true;
    if (flag->kind == Kind::kBool) {
      if (inline_value.has_value()) return Error(absl::StrCat("--", name, " takes no value"));
      Assign(*flag, "");
      continue;
    }
    if (inline_value.has_value()) {
      Assign(*flag, *inline_value);
      continue;
    }
    if (i + 1 >= args.size() || absl::StartsWith(args[i + 1], "--")) {
      return Error(absl::StrCat("--", name, " needs a value (", flag->value_name, ")"));
    }
    Assign(*flag, args[++i]);
  }
  for (const Flag& f : flags_) {
    if (f.presence == kRequired && !f.seen) return Error(absl::StrCat("missing --", f.name));
  }
  return absl::OkStatus();
}

std::string FlagSet::Help() const {
  std::string out = absl::StrCat("Usage: ", command_, synopsis_.empty() ? "" : " ", synopsis_,
                                 "\n\n", description_, "\n");
  if (flags_.empty()) return out;
  out += "\nFlags:\n";
  std::vector<std::string> lefts;
  size_t width = 0;
  for (const Flag& f : flags_) {
    std::string left = absl::StrCat("  --", f.name);
    if (f.kind != Kind::kBool) absl::StrAppend(&left, " ", f.value_name);
    width = std::max(width, left.size());
    lefts.push_back(std::move(left));
  }
  lefts.push_back("  --help");
  width = std::max(width, lefts.back().size());
  for (size_t i = 0; i <= flags_.size(); ++i) {
    const absl::string_view help =
        i < flags_.size() ? absl::string_view(flags_[i].help) : "show this help";
    absl::StrAppend(&out, lefts[i], std::string(width - lefts[i].size() + 2, ' '), help);
    if (i < flags_.size()) {
      if (flags_[i].presence == kRequired) out += " (required)";
      if (flags_[i].kind == Kind::kStringList) out += " (repeatable)";
    }
    out += "\n";
  }
  return out;
}

}  // namespace writ::cli

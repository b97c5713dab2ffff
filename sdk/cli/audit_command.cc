// writ audit list: the issuer's decision ledger, for operators.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "issuer/src/ledger/ledger_codec.h"
#include "issuer/src/ledger/rocksdb_ledger.h"
#include "sdk/cli/commands.h"
#include "sdk/cli/flags.h"
#include "writ/base/status_macros.h"

namespace writ::cli {
namespace {

using issuer::LedgerQuery;
using issuer::LedgerRecord;

// The most records one listing prints; bounds the memory Query uses.
constexpr size_t kMaxLimit = 1000000;

// ParseTimeFlag reads an RFC 3339 time or a duration before now ("90m",
// "1h30m", "7d").
absl::StatusOr<absl::Time> ParseTimeFlag(const FlagSet& flags, absl::string_view flag,
                                         absl::string_view value, absl::Time now) {
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, value, &t, &error)) return t;
  absl::Duration ago;
  absl::string_view text = value;
  bool parsed = false;
  if (absl::ConsumeSuffix(&text, "d")) {
    int64_t days = 0;
    parsed = absl::SimpleAtoi(text, &days) && days >= 0 && days <= 100000;
    ago = absl::Hours(24 * days);
  } else {
    parsed = absl::ParseDuration(value, &ago) && ago >= absl::ZeroDuration() &&
             ago != absl::InfiniteDuration();
  }
  if (!parsed) {
    return flags.Error(absl::StrCat("--", flag, " '", Printable(value),
                                    "' is neither an RFC 3339 time (2024-05-01T12:00:00Z) nor a "
                                    "duration before now (90m, 1h, 7d)"));
  }
  return now - ago;
}

std::string Field(absl::string_view value) { return value.empty() ? "-" : Printable(value, 256); }

std::string List(const std::vector<std::string>& values) {
  std::vector<std::string> printable;
  for (const std::string& v : values) printable.push_back(Printable(v, 128));
  return printable.empty() ? "-" : absl::StrJoin(printable, ",");
}

// TextLine is one record. The fields of certificates and key ids come after
// the JWT ones, and only when set, so lines of JWT decisions keep their shape.
std::string TextLine(const LedgerRecord& r) {
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", r.time, absl::UTCTimeZone()), " ",
                   Field(r.decision), " error=", Field(r.error), " iss=", Field(r.attested_issuer),
                   " sub=", Field(r.attested_subject), " granted_sub=", Field(r.granted_subject),
                   " aud=", Field(r.granted_audience), " scopes=", List(r.granted_scopes),
                   " rule=", Field(r.rule), " jti=", Field(r.jti));
  if (!r.actors.empty()) absl::StrAppend(&line, " act=", List(r.actors));
  if (!r.credential_kind.empty()) absl::StrAppend(&line, " kind=", Field(r.credential_kind));
  if (!r.signing_key.empty()) absl::StrAppend(&line, " key=", Field(r.signing_key));
  if (!r.principals.empty()) absl::StrAppend(&line, " principals=", List(r.principals));
  if (!r.source_addresses.empty()) {
    absl::StrAppend(&line, " source=", List(r.source_addresses));
  }
  if (!r.renewed_from.empty()) absl::StrAppend(&line, " renewed_from=", Field(r.renewed_from));
  return line;
}

absl::Status RunList(absl::string_view name, absl::Span<const std::string> args, CommandEnv& env) {
  std::string dir, subject, since, until, decision, jti, limit;
  bool json = false;
  FlagSet flags(std::string(name),
                "--ledger DIR [--subject S] [--since T] [--until T] [--decision allow|deny] "
                "[--jti J] [--limit N] [--json]",
                "Lists the issuer's decisions, newest first, one line each (or one JSON object\n"
                "per line with --json). Every filter given must match. Times are RFC 3339\n"
                "(2024-05-01T12:00:00Z) or a duration before now (90m, 1h, 7d); --since is\n"
                "inclusive, --until exclusive. Safe while the issuer runs: the ledger is\n"
                "opened read-only.");
  flags.String("ledger", "DIR", &dir, "the ledger directory", FlagSet::kRequired);
  flags.String("subject", "S", &subject, "attested or granted subject equal to S");
  flags.String("since", "T", &since, "decisions at or after T");
  flags.String("until", "T", &until, "decisions before T");
  flags.String("decision", "allow|deny", &decision, "only this decision");
  flags.String("jti", "J", &jti, "the decision that minted credential J");
  flags.String("limit", "N", &limit, "at most N records (default 100)");
  flags.Bool("json", &json, "print JSON lines");
  RETURN_IF_ERROR(flags.Parse(args));
  if (flags.help_requested()) {
    *env.out << flags.Help();
    return absl::OkStatus();
  }
  if (dir.empty()) return flags.Error("--ledger must not be empty");
  LedgerQuery query;
  const absl::Time now = env.clock->Now();
  if (flags.IsSet("subject")) {
    if (subject.empty()) return flags.Error("--subject must not be empty");
    query.subject = subject;
  }
  if (flags.IsSet("decision")) {
    if (decision != "allow" && decision != "deny") {
      return flags.Error(
          absl::StrCat("--decision must be allow or deny, not '", Printable(decision), "'"));
    }
    query.decision = decision;
  }
  if (flags.IsSet("since")) {
    ASSIGN_OR_RETURN(query.since, ParseTimeFlag(flags, "since", since, now));
  }
  if (flags.IsSet("until")) {
    ASSIGN_OR_RETURN(query.until, ParseTimeFlag(flags, "until", until, now));
  }
  if (flags.IsSet("limit")) {
    if (!absl::SimpleAtoi(limit, &query.limit) || query.limit == 0 || query.limit > kMaxLimit) {
      return flags.Error(absl::StrCat("--limit must be a whole number from 1 to ", kMaxLimit));
    }
  }
  if (flags.IsSet("jti") && jti.empty()) return flags.Error("--jti must not be empty");

  ASSIGN_OR_RETURN(auto ledger, issuer::RocksDbLedger::OpenReadOnly(dir));
  std::vector<LedgerRecord> records;
  if (flags.IsSet("jti")) {
    auto found = ledger->FindByJti(jti);
    if (!found.ok() && found.status().code() != absl::StatusCode::kNotFound) {
      return found.status();
    }
    // The other flags still filter, as they would a listing.
    if (found.ok() &&
        (query.subject.empty() || found->attested_subject == query.subject ||
         found->granted_subject == query.subject) &&
        (query.decision.empty() || found->decision == query.decision) &&
        found->time >= query.since && found->time < query.until) {
      records.push_back(*std::move(found));
    }
  } else {
    ASSIGN_OR_RETURN(records, ledger->Query(query));
  }
  for (const LedgerRecord& r : records) {
    *env.out << (json ? issuer::ledger_codec::EncodeRecord(
                            r, issuer::ledger_codec::TimeFormat::kRfc3339)
                      : TextLine(r))
             << "\n";
  }
  return ledger->Close();
}

constexpr Command kAuditCommands[] = {
    {"list", "list the issuer's decisions from its ledger", RunList},
};

}  // namespace

absl::Status RunAuditCommand(absl::string_view name, absl::Span<const std::string> args,
                             CommandEnv& env) {
  return DispatchSubcommand(name, "Reads the issuer's decision ledger (read-only).", kAuditCommands,
                            args, env);
}

}  // namespace writ::cli

#include "issuer/src/policy/matchers.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"

namespace writ::issuer::policy_internal {
namespace {

constexpr absl::string_view kDayNames[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

absl::StatusOr<int> ParseMinuteOfDay(absl::string_view text, bool allow_24) {
  int hours = 0, minutes = 0;
  if (text.size() != 5 || text[2] != ':' || !absl::SimpleAtoi(text.substr(0, 2), &hours) ||
      !absl::SimpleAtoi(text.substr(3, 2), &minutes) || !absl::ascii_isdigit(text[0]) ||
      !absl::ascii_isdigit(text[3]) || minutes > 59 || hours > 24 ||
      (hours == 24 && (minutes != 0 || !allow_24))) {
    return absl::InvalidArgumentError(absl::StrCat(
        Quote(text), " is not a time of day HH:MM (00:00 to ", allow_24 ? "24:00" : "23:59", ")"));
  }
  return hours * 60 + minutes;
}

}  // namespace

std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 96;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (text.size() > kMax) out += "...";
  out += "\"";
  return out;
}

absl::StatusOr<std::unique_ptr<const RE2>> CompileRegex(absl::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("pattern is ", pattern.size(), " bytes; the limit is ", kMaxPatternBytes));
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);
  auto re = std::make_unique<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid regular expression: ", re->error()));
  }
  if (re->ProgramSize() > kMaxProgramSize) {
    return absl::InvalidArgumentError(absl::StrCat("regular expression is too complex (size ",
                                                   re->ProgramSize(), ", limit ", kMaxProgramSize,
                                                   ")"));
  }
  return re;
}

absl::StatusOr<Glob> Glob::Compile(absl::string_view pattern) {
  if (pattern.size() > kMaxPatternBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("glob is ", pattern.size(), " bytes; the limit is ", kMaxPatternBytes));
  }
  Glob glob;
  glob.pattern_ = std::string(pattern);
  size_t star = pattern.find('*');
  bool has_q = pattern.find('?') != absl::string_view::npos;
  if (star == absl::string_view::npos && !has_q) {
    glob.kind_ = Kind::kExact;
    glob.literal_ = std::string(pattern);
  } else if (!has_q && star == pattern.size() - 1) {
    glob.kind_ = Kind::kPrefix;
    glob.literal_ = std::string(pattern.substr(0, star));
  } else {
    std::string re;
    for (char c : pattern) {
      if (c == '*') {
        re += "(?s:.*)";
      } else if (c == '?') {
        re += "(?s:.)";
      } else {
        re += RE2::QuoteMeta(re2::StringPiece(&c, 1));
      }
    }
    absl::StatusOr<std::unique_ptr<const RE2>> compiled = CompileRegex(re);
    if (!compiled.ok()) return compiled.status();
    glob.kind_ = Kind::kRegex;
    glob.re_ = std::move(*compiled);
  }
  return glob;
}

bool Glob::Matches(absl::string_view value) const {
  switch (kind_) {
    case Kind::kExact:
      return value == literal_;
    case Kind::kPrefix:
      return absl::StartsWith(value, literal_);
    case Kind::kRegex:
      return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
  }
  return false;
}

std::optional<IpAddress> ParseIpAddress(absl::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
      std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
      std::memset(a.bytes.data() + 4, 0, 12);
      return a;
    }
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::string FormatIpAddress(const IpAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), text, sizeof(text)) ==
      nullptr) {
    return "";  // not reached: the buffer fits every address
  }
  return text;
}

absl::Status ParseSourceAddress(absl::string_view text) {
  if (text.find('/') != absl::string_view::npos) return Cidr::Parse(text).status();
  std::optional<IpAddress> address = ParseIpAddress(text);
  if (!address) {
    return absl::InvalidArgumentError(absl::StrCat(
        Quote(text), " is not an IP address or address block like 10.0.0.0/8 or fd00::/8"));
  }
  if (!address->v6 && text.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), ": write IPv4-mapped addresses in IPv4 form"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Cidr> Cidr::Parse(absl::string_view text) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, '/');
  int prefix = -1;
  std::optional<IpAddress> base = ParseIpAddress(parts.first);
  if (!base || text.find('/') == absl::string_view::npos ||
      !absl::SimpleAtoi(parts.second, &prefix) || parts.second.empty() ||
      !absl::ascii_isdigit(parts.second[0])) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is not an address block like 10.0.0.0/8 or fd00::/8"));
  }
  // A mapped v4 base written in v6 form would change the prefix's meaning.
  if (!base->v6 && parts.first.find(':') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), ": write IPv4-mapped blocks in IPv4 form"));
  }
  int bits = base->v6 ? 128 : 32;
  if (prefix < 0 || prefix > bits) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), ": prefix length must be 0 to ", bits));
  }
  for (int i = prefix; i < bits; ++i) {
    if (base->bytes[i / 8] & (0x80 >> (i % 8))) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(text), " has address bits set past the /", prefix, " prefix"));
    }
  }
  Cidr cidr;
  cidr.base_ = *base;
  cidr.prefix_ = prefix;
  cidr.text_ = std::string(text);
  return cidr;
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.v6 != base_.v6) return false;
  int full = prefix_ / 8;
  if (std::memcmp(address.bytes.data(), base_.bytes.data(), full) != 0) return false;
  int rest = prefix_ % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[full] & mask) == base_.bytes[full];
}

absl::StatusOr<TimeWindow> TimeWindow::Parse(const std::vector<std::string>& days,
                                             absl::string_view from, absl::string_view to) {
  TimeWindow w;
  if (!days.empty()) {
    w.days_ = 0;
    for (const std::string& day : days) {
      std::string lower = absl::AsciiStrToLower(day);
      int index = -1;
      for (int i = 0; i < 7; ++i) {
        if (lower == kDayNames[i]) index = i;
      }
      if (index < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(Quote(day), " is not a weekday (mon, tue, wed, thu, fri, sat, sun)"));
      }
      w.days_ |= static_cast<uint8_t>(1 << index);
    }
  }
  absl::StatusOr<int> f = ParseMinuteOfDay(from, /*allow_24=*/false);
  if (!f.ok()) return f.status();
  absl::StatusOr<int> t = ParseMinuteOfDay(to, /*allow_24=*/true);
  if (!t.ok()) return t.status();
  if (*f >= *t) {
    return absl::InvalidArgumentError(absl::StrCat("from ", from, " must be before to ", to,
                                                   " (windows do not wrap past midnight)"));
  }
  w.from_minute_ = *f;
  w.to_minute_ = *t;
  return w;
}

bool TimeWindow::Contains(absl::Time t) const {
  absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  // absl::Weekday: monday = 0 ... sunday = 6.
  int day = static_cast<int>(absl::GetWeekday(cs));
  if ((days_ & (1 << day)) == 0) return false;
  int minute = cs.hour() * 60 + cs.minute();
  return minute >= from_minute_ && minute < to_minute_;
}

std::string TimeWindow::Describe() const {
  std::vector<absl::string_view> names;
  for (int i = 0; i < 7; ++i) {
    if (days_ & (1 << i)) names.push_back(kDayNames[i]);
  }
  auto hhmm = [](int m) { return absl::StrFormat("%02d:%02d", m / 60, m % 60); };
  return absl::StrCat(days_ == 0x7f ? "every day" : absl::StrJoin(names, ","), " ",
                      hhmm(from_minute_), "-", hhmm(to_minute_), " UTC");
}

absl::StatusOr<ClaimPath> ParseClaimPath(absl::string_view name) {
  ClaimPath path;
  path.name = std::string(name);
  path.parts = absl::StrSplit(name, '.');
  for (const std::string& part : path.parts) {
    if (part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("claim name ", Quote(name), " has an empty part (dots mean nesting)"));
    }
  }
  return path;
}

absl::StatusOr<SubjectTemplate> SubjectTemplate::Parse(absl::string_view text) {
  SubjectTemplate t;
  t.text_ = std::string(text);
  t.spiffe_ = absl::StartsWith(text, "spiffe://");
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find_first_of("{}", i);
    if (open == absl::string_view::npos) {
      t.pieces_.push_back({false, std::string(text.substr(i)), {}});
      break;
    }
    if (text[open] == '}') {
      return absl::InvalidArgumentError(absl::StrCat("'}' at offset ", open, " has no '{'"));
    }
    if (open > i) t.pieces_.push_back({false, std::string(text.substr(i, open - i)), {}});
    size_t close = text.find_first_of("{}", open + 1);
    if (close == absl::string_view::npos || text[close] != '}') {
      return absl::InvalidArgumentError(absl::StrCat("'{' at offset ", open, " is not closed"));
    }
    absl::string_view name = text.substr(open + 1, close - open - 1);
    absl::StatusOr<ClaimPath> path = ParseClaimPath(name);
    if (!path.ok()) return path.status();
    t.pieces_.push_back({true, std::string(name), std::move(*path)});
    i = close + 1;
  }
  if (t.pieces_.empty()) return absl::InvalidArgumentError("is empty");
  return t;
}

bool IsPathSafe(absl::string_view value) {
  if (value.empty()) return false;
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '/' && c != '-') return false;
  }
  for (absl::string_view segment : absl::StrSplit(value, '/')) {
    if (segment.empty() || segment == "." || segment == "..") return false;
  }
  return true;
}

absl::Status CheckSshPrincipal(absl::string_view principal) {
  bool ok = !principal.empty() && principal.size() <= kMaxSshPrincipalBytes;
  for (char c : principal) ok = ok && c > 0x20 && c < 0x7f && c != ',';
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(principal), " is not an SSH principal (1 to ", kMaxSshPrincipalBytes,
                     " printable ASCII characters, no space or comma)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ParseLifetime(absl::string_view text) {
  absl::Duration d;
  if (text.empty() || !absl::ascii_isdigit(text[0]) || !absl::ParseDuration(text, &d) ||
      d == absl::InfiniteDuration() || d <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is not a positive duration like 90s, 5m or 1h30m"));
  }
  return d;
}

}  // namespace writ::issuer::policy_internal

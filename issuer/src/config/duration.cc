#include "issuer/src/config/duration.h"

#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace writ::issuer {
namespace {

// Unit returns the duration of one `unit`, or zero when it is unknown.
absl::Duration Unit(absl::string_view unit) {
  if (unit == "ns") return absl::Nanoseconds(1);
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return absl::Microseconds(1);
  if (unit == "ms") return absl::Milliseconds(1);
  if (unit == "s") return absl::Seconds(1);
  if (unit == "m") return absl::Minutes(1);
  if (unit == "h") return absl::Hours(1);
  return absl::ZeroDuration();
}

}  // namespace

absl::StatusOr<absl::Duration> ParseConfigDuration(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty duration");
  if (text == "0") return absl::ZeroDuration();
  if (text[0] == '-') return absl::InvalidArgumentError("must not be negative");
  absl::Duration total = absl::ZeroDuration();
  size_t i = 0;
  while (i < text.size()) {
    const size_t int_start = i;
    while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
    absl::string_view int_part = text.substr(int_start, i - int_start);
    absl::string_view frac_part;
    if (i < text.size() && text[i] == '.') {
      const size_t frac_start = ++i;
      while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
      frac_part = text.substr(frac_start, i - frac_start);
    }
    if (int_part.empty() && frac_part.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid duration \"", text,
                       "\": expected a number followed by a unit (ns, us, ms, s, m, h), "
                       "like 500ms, 30s, 5m or 1h30m"));
    }
    const size_t unit_start = i;
    while (i < text.size() && !absl::ascii_isdigit(text[i]) && text[i] != '.') ++i;
    absl::string_view unit_name = text.substr(unit_start, i - unit_start);
    if (unit_name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid duration \"", text, "\": missing unit (ns, us, ms, s, m, h)"));
    }
    const absl::Duration unit = Unit(unit_name);
    if (unit == absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid duration \"", text,
                                                     "\": unknown unit \"", unit_name,
                                                     "\" (use ns, us, ms, s, m or h)"));
    }
    int64_t whole = 0;
    if (!int_part.empty() && !absl::SimpleAtoi(int_part, &whole)) {
      return absl::InvalidArgumentError(absl::StrCat("duration \"", text, "\" is too large"));
    }
    total += unit * whole;
    // Digits beyond nanosecond precision of the largest unit cannot matter.
    if (frac_part.size() > 15) frac_part = frac_part.substr(0, 15);
    if (!frac_part.empty()) {
      int64_t frac = 0;
      int64_t scale = 1;
      for (char c : frac_part) {
        frac = frac * 10 + (c - '0');
        scale *= 10;
      }
      total += unit * frac / scale;
    }
    if (total > absl::Hours(24 * 365 * 100)) {
      return absl::InvalidArgumentError(absl::StrCat("duration \"", text, "\" is too large"));
    }
  }
  return total;
}

std::string FormatConfigDuration(absl::Duration d) {
  if (d == absl::ZeroDuration()) return "0s";
  std::string out;
  if (d < absl::ZeroDuration()) {
    out.push_back('-');
    d = -d;
  }
  const int64_t hours = absl::IDivDuration(d, absl::Hours(1), &d);
  const int64_t minutes = absl::IDivDuration(d, absl::Minutes(1), &d);
  const int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  const int64_t millis = absl::IDivDuration(d, absl::Milliseconds(1), &d);
  const int64_t micros = absl::IDivDuration(d, absl::Microseconds(1), &d);
  const int64_t nanos = absl::IDivDuration(d, absl::Nanoseconds(1), &d);
  if (hours) absl::StrAppend(&out, hours, "h");
  if (minutes) absl::StrAppend(&out, minutes, "m");
  if (seconds) absl::StrAppend(&out, seconds, "s");
  if (millis) absl::StrAppend(&out, millis, "ms");
  if (micros) absl::StrAppend(&out, micros, "us");
  if (nanos) absl::StrAppend(&out, nanos, "ns");
  return out;
}

}  // namespace writ::issuer

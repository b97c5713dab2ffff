// The compiled matchers a policy rule is made of: globs, CIDR blocks, UTC time
// windows, subject templates and Go-style durations. Everything here is parsed
// once, at load; matching does no parsing (except of the caller's address).
// All types are immutable after construction and thread-safe to share.
#ifndef WRIT_ISSUER_POLICY_MATCHERS_H_
#define WRIT_ISSUER_POLICY_MATCHERS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "re2/re2.h"

namespace writ::issuer::policy_internal {

// The longest regex or glob pattern a policy may hold, in bytes.
inline constexpr size_t kMaxPatternBytes = 1024;
// The largest compiled RE2 program a pattern may produce (RE2::ProgramSize).
inline constexpr int kMaxProgramSize = 2000;

// CompileRegex compiles `pattern` for anchored matching (use RE2::FullMatch).
// Returns kInvalidArgument naming the defect for a bad, too long or too
// complex pattern.
absl::StatusOr<std::unique_ptr<const RE2>> CompileRegex(absl::string_view pattern);

// Glob matches a whole string against `*` (any run of characters, possibly
// empty) and `?` (one character). Matching is linear in the input: a pattern
// without `?` and with one trailing `*` is a prefix test, one without wildcards
// is a comparison, and anything else runs as an RE2 (which never backtracks).
class Glob {
 public:
  static absl::StatusOr<Glob> Compile(absl::string_view pattern);
  bool Matches(absl::string_view value) const;
  const std::string& pattern() const { return pattern_; }

 private:
  enum class Kind { kExact, kPrefix, kRegex };
  Kind kind_ = Kind::kExact;
  std::string pattern_;
  std::string literal_;  // kExact: the whole text; kPrefix: the part before '*'
  std::shared_ptr<const RE2> re_;
};

// IpAddress is a parsed IPv4 or IPv6 address; IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) are stored as IPv4.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4
};

// ParseIpAddress returns nullopt when `text` is not an IP address.
std::optional<IpAddress> ParseIpAddress(absl::string_view text);

// FormatIpAddress writes `address` in its canonical text form ("10.1.2.3",
// "fd00::7"); an IPv4-mapped address comes out in IPv4 form.
std::string FormatIpAddress(const IpAddress& address);

// ParseSourceAddress checks one entry of an SSH source-address list: an IP
// address or a CIDR block (as Cidr::Parse). IPv4-mapped IPv6 forms are
// refused (write them in IPv4 form). Returns kInvalidArgument naming the
// defect.
absl::Status ParseSourceAddress(absl::string_view text);

// Cidr is an address block such as "10.0.0.0/8" or "fd00::/8".
class Cidr {
 public:
  // Parse returns kInvalidArgument for a malformed block, a prefix longer than
  // the address, or host bits set past the prefix.
  static absl::StatusOr<Cidr> Parse(absl::string_view text);
  bool Contains(const IpAddress& address) const;
  const std::string& text() const { return text_; }

 private:
  IpAddress base_;
  int prefix_ = 0;
  std::string text_;
};

// TimeWindow is a set of weekdays and a UTC time-of-day range [from, to).
class TimeWindow {
 public:
  // Parse reads weekday names ("mon".."sun"; empty = every day) and "HH:MM"
  // bounds ("24:00" allowed for `to`); `from` must be before `to`.
  static absl::StatusOr<TimeWindow> Parse(const std::vector<std::string>& days,
                                          absl::string_view from, absl::string_view to);
  bool Contains(absl::Time t) const;
  // Describe is "mon,tue 07:00-19:00 UTC" for messages.
  std::string Describe() const;

 private:
  uint8_t days_ = 0x7f;  // bit i = weekday i, Monday = 0
  int from_minute_ = 0;
  int to_minute_ = 24 * 60;
};

// ClaimPath is a claim name split on dots: "a.b" names {"a": {"b": ...}}.
struct ClaimPath {
  std::string name;                // as written
  std::vector<std::string> parts;  // split on '.'
};

// ParseClaimPath returns kInvalidArgument for an empty name or segment.
absl::StatusOr<ClaimPath> ParseClaimPath(absl::string_view name);

// SubjectTemplate is a grant subject such as "spiffe://x/{repository}".
// {sub} and {iss} are the token's subject and issuer; any other {name} is a
// claim (dotted = nested).
class SubjectTemplate {
 public:
  struct Piece {
    bool is_claim = false;
    std::string text;  // literal text, or the claim name
    ClaimPath path;    // for claims
  };
  // Parse returns kInvalidArgument for unbalanced braces or a bad claim name.
  static absl::StatusOr<SubjectTemplate> Parse(absl::string_view text);
  const std::vector<Piece>& pieces() const { return pieces_; }
  // spiffe is true when the template starts with "spiffe://": expanded values
  // must then be path-safe.
  bool spiffe() const { return spiffe_; }
  const std::string& text() const { return text_; }

 private:
  std::vector<Piece> pieces_;
  bool spiffe_ = false;
  std::string text_;
};

// IsPathSafe is true for a non-empty value of [A-Za-z0-9._/-] with no empty,
// "." or ".." segment between slashes.
bool IsPathSafe(absl::string_view value);

// kMaxSshPrincipalBytes is the longest SSH principal a rule may grant.
inline constexpr size_t kMaxSshPrincipalBytes = 255;

// CheckSshPrincipal returns kInvalidArgument unless `principal` is 1 to
// kMaxSshPrincipalBytes bytes of printable ASCII without space or comma
// (sshd splits principal lists on commas).
absl::Status CheckSshPrincipal(absl::string_view principal);

// ParseLifetime reads a positive Go-style duration ("90s", "5m", "1h30m").
absl::StatusOr<absl::Duration> ParseLifetime(absl::string_view text);

// Quote returns `text` in double quotes, cut to 96 bytes, with bytes that are
// not printable ASCII replaced by '?', for messages about untrusted values.
std::string Quote(absl::string_view text);

}  // namespace writ::issuer::policy_internal

#endif  // WRIT_ISSUER_POLICY_MATCHERS_H_

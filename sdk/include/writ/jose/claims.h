// JWT claims (RFC 7519 section 4) read from a JWS payload.
#ifndef WRIT_JOSE_CLAIMS_H_
#define WRIT_JOSE_CLAIMS_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace writ {

// JwtClaims is a parsed, immutable claims set. Cheap to copy; thread-safe.
// Parsing checks the types of the registered claims; it does not check times,
// issuer or audience (JwtValidator does).
class JwtClaims {
 public:
  // JwtClaims() is the empty claims set "{}".
  JwtClaims();

  // Parse reads a claims set. Returns kInvalidArgument when `json` is not a
  // strict JSON object (duplicate names, trailing bytes, invalid UTF-8, nesting
  // deeper than 16), or when "iss", "sub", "jti" are not strings, "aud" is not
  // a string or an array of strings, or "exp", "nbf", "iat" are not numbers in
  // [0, 253402300799] (year 9999).
  static absl::StatusOr<JwtClaims> Parse(absl::string_view json);

  // The registered claims; empty / nullopt when absent.
  const std::string& issuer() const;
  const std::string& subject() const;
  const std::string& jwt_id() const;
  // audiences holds "aud", whether it was one string or an array.
  const std::vector<std::string>& audiences() const;
  std::optional<absl::Time> expires_at() const;
  std::optional<absl::Time> not_before() const;
  std::optional<absl::Time> issued_at() const;

  // GetString returns a top-level string claim, or nullopt when it is absent
  // or not a string. The view lives as long as this object (or a copy).
  std::optional<absl::string_view> GetString(absl::string_view name) const;
  // GetStringAt follows nested objects: {"a":{"b":"x"}} has "x" at {"a","b"}.
  std::optional<absl::string_view> GetStringAt(std::initializer_list<absl::string_view> path) const;
  // GetInt64 returns an integral number claim, or nullopt.
  std::optional<int64_t> GetInt64(absl::string_view name) const;
  // GetBool returns a boolean claim, or nullopt.
  std::optional<bool> GetBool(absl::string_view name) const;
  // Has is true when a top-level claim `name` exists, whatever its type.
  bool Has(absl::string_view name) const;
  // json returns the claims set exactly as it was parsed.
  const std::string& json() const;

  struct Rep;

 private:
  explicit JwtClaims(std::shared_ptr<const Rep> rep) : rep_(std::move(rep)) {}
  std::shared_ptr<const Rep> rep_;
};

}  // namespace writ

#endif  // WRIT_JOSE_CLAIMS_H_
